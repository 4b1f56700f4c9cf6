/**
 * The x-amz-object-lock-* headers: read on writes (PutObject, CopyObject,
 * CreateMultipartUpload, as AWS takes them), sent on GetObject / HeadObject.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectLockRequest } from '../services/objectService.js';
import type { RetentionMode, SealedMeta } from '../services/types.js';
import { S3Error } from './errors.js';
import { header } from './headers.js';

export const LOCK_MODE = 'x-amz-object-lock-mode';
export const LOCK_UNTIL = 'x-amz-object-lock-retain-until-date';
export const LOCK_HOLD = 'x-amz-object-lock-legal-hold';
export const BYPASS_GOVERNANCE = 'x-amz-bypass-governance-retention';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 timestamp (as the SDKs send RetainUntilDate), in ms; InvalidArgument otherwise. */
export function parseLockDate(raw: string, argumentName: string): number {
  const ms = ISO_DATE.test(raw.trim()) ? Date.parse(raw.trim()) : NaN;
  if (!Number.isFinite(ms))
    throw new S3Error('InvalidArgument', 'The retain until date is not a valid ISO 8601 date.', {
      ArgumentName: argumentName,
      ArgumentValue: raw,
    });
  return ms;
}

export function parseMode(raw: string, argumentName: string): RetentionMode {
  if (raw !== 'GOVERNANCE' && raw !== 'COMPLIANCE')
    throw new S3Error('InvalidArgument', 'Unknown wormMode directive.', {
      ArgumentName: argumentName,
      ArgumentValue: raw,
    });
  return raw;
}

export function parseHold(raw: string, argumentName: string): boolean {
  if (raw !== 'ON' && raw !== 'OFF')
    throw new S3Error('InvalidArgument', 'Legal Hold must be either of ON or OFF', {
      ArgumentName: argumentName,
      ArgumentValue: raw,
    });
  return raw === 'ON';
}

/** The lock a write asks for; undefined when it names none. */
export function objectLockRequest(h: IncomingHttpHeaders): ObjectLockRequest | undefined {
  const mode = header(h, LOCK_MODE);
  const until = header(h, LOCK_UNTIL);
  const hold = header(h, LOCK_HOLD);
  if (mode === undefined && until === undefined && hold === undefined) return undefined;
  return {
    ...(mode !== undefined ? { mode: parseMode(mode, LOCK_MODE) } : {}),
    ...(until !== undefined ? { retainUntil: parseLockDate(until, LOCK_UNTIL) } : {}),
    ...(hold !== undefined ? { legalHold: parseHold(hold, LOCK_HOLD) } : {}),
  };
}

/**
 * AWS requires an integrity header on a PutObject that carries lock headers:
 * Content-MD5 or a flexible checksum (header or trailer).
 */
export function requireIntegrityForLock(h: IncomingHttpHeaders): void {
  const has =
    header(h, 'content-md5') !== undefined ||
    header(h, 'x-amz-sdk-checksum-algorithm') !== undefined ||
    header(h, 'x-amz-trailer') !== undefined ||
    Object.keys(h).some(
      (k) => k.toLowerCase().startsWith('x-amz-checksum-') && k.toLowerCase() !== 'x-amz-checksum-type',
    );
  if (!has)
    throw new S3Error(
      'InvalidRequest',
      'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
    );
}

/** x-amz-bypass-governance-retention: true. */
export function bypassGovernance(h: IncomingHttpHeaders): boolean {
  return header(h, BYPASS_GOVERNANCE)?.toLowerCase() === 'true';
}

/** The lock headers of a GetObject / HeadObject answer. */
export function lockHeaders(meta: SealedMeta): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta.retention) {
    out[LOCK_MODE] = meta.retention.mode;
    out[LOCK_UNTIL] = new Date(meta.retention.retainUntil).toISOString();
  }
  if (meta.legalHold !== undefined) out[LOCK_HOLD] = meta.legalHold ? 'ON' : 'OFF';
  return out;
}
