/**
 * S3 Object Lock rules, in one place (AWS "Object Lock retention modes",
 * PutObjectRetention, PutObjectLegalHold). Retention and legal hold are per
 * version and live in the version's sealed metadata, next to its tags: a
 * change is a sealed rewrite of that version (objectRewrite.ts), and a record
 * whose lock was edited on disk fails to open, so deletion is refused rather
 * than allowed.
 *
 *  - A version under an active COMPLIANCE retention cannot be deleted by
 *    anyone, and its retention can only be extended (same mode, later date).
 *  - Under GOVERNANCE it can be deleted, shortened or released only with
 *    x-amz-bypass-governance-retention, which needs s3:BypassGovernanceRetention:
 *    in Coffer every caller a bucket accepts is its owning account, which holds it.
 *  - A legal hold blocks deletion of the version whatever its retention.
 *  - A delete without a version id only adds a delete marker: always allowed.
 */
import type { BucketObjectLock, BucketRecord, ObjectRetention, RetentionMode, SealedMeta } from '../meta/records.js';
import { DomainError } from './errors.js';

const DAY_MS = 86_400_000;

/** What a write asks for (x-amz-object-lock-* headers), before the bucket's default applies. */
export interface ObjectLockRequest {
  mode?: RetentionMode;
  /** ms since the epoch. */
  retainUntil?: number;
  legalHold?: boolean;
}

export const RETENTION_MODES: readonly RetentionMode[] = ['GOVERNANCE', 'COMPLIANCE'];

function missingLock(): DomainError {
  return new DomainError('InvalidRequest', 'Bucket is missing Object Lock Configuration');
}

/** The bucket's lock, or AWS's 400 for a per-object lock request on a bucket without one. */
export function requireBucketLock(b: BucketRecord): BucketObjectLock {
  if (!b.objectLock) throw missingLock();
  return b.objectLock;
}

function checkFuture(retainUntil: number, now: number): void {
  if (!(retainUntil > now)) throw new DomainError('InvalidArgument', 'The retain until date must be in the future!');
}

/**
 * The lock a new version written now gets: what the request asks for, else the
 * bucket's default retention. Checked before any byte is read.
 */
export function lockForNewVersion(
  b: BucketRecord,
  req: ObjectLockRequest | undefined,
  now: number = Date.now(),
): Pick<SealedMeta, 'retention' | 'legalHold'> {
  const asked = req && (req.mode !== undefined || req.retainUntil !== undefined || req.legalHold !== undefined);
  if (asked && !b.objectLock) throw missingLock();
  if (!b.objectLock) return {};
  const out: Pick<SealedMeta, 'retention' | 'legalHold'> = {};
  if ((req?.mode === undefined) !== (req?.retainUntil === undefined))
    throw new DomainError(
      'InvalidArgument',
      'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
    );
  if (req?.mode !== undefined && req.retainUntil !== undefined) {
    checkFuture(req.retainUntil, now);
    out.retention = { mode: req.mode, retainUntil: req.retainUntil };
  } else if (b.objectLock.rule) {
    out.retention = defaultRetention(b.objectLock.rule, now);
  }
  if (req?.legalHold !== undefined) out.legalHold = req.legalHold;
  return out;
}

/** A default rule applied at `now`: days are 24 hours, years 365 days (AWS counts them so). */
export function defaultRetention(rule: NonNullable<BucketObjectLock['rule']>, now: number): ObjectRetention {
  const days = rule.days ?? (rule.years ?? 0) * 365;
  return { mode: rule.mode, retainUntil: now + days * DAY_MS };
}

/** Whether a retention still holds at `now`. */
export function isActive(r: ObjectRetention | undefined, now: number = Date.now()): r is ObjectRetention {
  return r !== undefined && r.retainUntil > now;
}

function locked(): DomainError {
  return new DomainError('AccessDenied', 'Access Denied because object protected by object lock.');
}

/** Refuse deleting a version (by id) that its lock protects. */
export function checkDeletable(meta: SealedMeta, bypassGovernance: boolean, now: number = Date.now()): void {
  if (meta.legalHold) throw locked();
  const r = meta.retention;
  if (!isActive(r, now)) return;
  if (r.mode === 'COMPLIANCE' || !bypassGovernance) throw locked();
}

/**
 * Refuse a retention change the current one forbids: under COMPLIANCE only a
 * later date in the same mode; under GOVERNANCE a shorter date, another mode
 * than COMPLIANCE or removal need the bypass. `next` undefined removes it.
 */
export function checkRetentionChange(
  cur: ObjectRetention | undefined,
  next: ObjectRetention | undefined,
  bypassGovernance: boolean,
  now: number = Date.now(),
): void {
  if (next) checkFuture(next.retainUntil, now);
  if (!isActive(cur, now)) return;
  const extends_ = next !== undefined && next.retainUntil >= cur.retainUntil;
  if (cur.mode === 'COMPLIANCE') {
    if (!extends_ || next.mode !== 'COMPLIANCE') throw locked();
    return;
  }
  if (!extends_ && !bypassGovernance) throw locked();
}

/** Validate a default retention rule as PutObjectLockConfiguration does. */
export function checkRule(rule: NonNullable<BucketObjectLock['rule']>): void {
  if (!RETENTION_MODES.includes(rule.mode)) throw new DomainError('MalformedXML', 'Unknown retention mode.');
  if ((rule.days === undefined) === (rule.years === undefined))
    throw new DomainError('MalformedXML', 'A DefaultRetention needs exactly one of Days or Years.');
  const n = rule.days ?? rule.years!;
  if (!Number.isInteger(n) || n <= 0)
    throw new DomainError('InvalidArgument', 'Default retention period must be a positive integer value.', {
      ArgumentName: rule.days !== undefined ? 'Days' : 'Years',
    });
  // AWS caps both at 100 years.
  if ((rule.days ?? 0) > 36500 || (rule.years ?? 0) > 100)
    throw new DomainError('InvalidArgument', 'Default retention period is too large.', {
      ArgumentName: rule.days !== undefined ? 'Days' : 'Years',
    });
}
