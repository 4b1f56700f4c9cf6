/**
 * HTTP preconditions and byte ranges for GET/HEAD (RFC 9110 as S3 applies it):
 * If-Match beats If-Unmodified-Since, If-None-Match beats If-Modified-Since.
 */
import { DomainError } from './errors.js';

export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/**
 * If-Match uses the strong comparison (a weak tag never matches), If-None-Match
 * the weak one (RFC 9110 13.1.1 and 13.1.2).
 */
function etagMatches(list: string, etag: string, strong: boolean): boolean {
  return list.split(',').some((t) => {
    const v = t.trim();
    if (v === '*') return true;
    if (v.startsWith('W/') && strong) return false;
    return v.replace(/^W\//, '').replace(/^"|"$/g, '') === etag;
  });
}

function parseDate(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** Throws PreconditionFailed (412) or NotModified (304). `copy` maps both to 412 as CopyObject does. */
export function checkPreconditions(p: Preconditions, etag: string, lastModified: number, copy = false): void {
  // HTTP dates have second precision.
  const lm = Math.floor(lastModified / 1000) * 1000;
  const fail = () =>
    new DomainError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: 'If-Match',
    });
  if (p.ifMatch !== undefined) {
    if (!etagMatches(p.ifMatch, etag, true)) throw fail();
  } else {
    const ius = parseDate(p.ifUnmodifiedSince);
    if (ius !== undefined && lm > ius) throw fail();
  }
  // A 304 carries the validators of the representation it stands for (RFC 9110 15.4.5).
  const notModified = () =>
    new DomainError('NotModified', 'Not Modified', { ETag: etag, LastModified: new Date(lastModified).toUTCString() });
  if (p.ifNoneMatch !== undefined) {
    if (etagMatches(p.ifNoneMatch, etag, false)) throw copy ? fail() : notModified();
  } else {
    const ims = parseDate(p.ifModifiedSince);
    if (ims !== undefined && lm <= ims) throw copy ? fail() : notModified();
  }
}

/** If-Match / If-None-Match on a write (PutObject, CompleteMultipartUpload), If-Match on DeleteObject. */
export interface WriteConditions {
  /** An ETag list (strong comparison) or '*'. */
  ifMatch?: string;
  /** Only '*' (the handler refuses anything else, as S3 does). */
  ifNoneMatch?: '*';
}

export function hasWriteConditions(c: WriteConditions | undefined): c is WriteConditions {
  return !!c && (c.ifMatch !== undefined || c.ifNoneMatch !== undefined);
}

/**
 * Conditional writes as S3 answers them. `currentEtag` is the ETag of the key's
 * current object (undefined: there is none). Checked before the body streams
 * in, a failing condition is 412 PreconditionFailed (If-Match on a missing key:
 * 404 NoSuchKey). Checked again at the commit point (`raced`), a condition that
 * held before and fails now lost a race with another writer of the key: 409
 * ConditionalRequestConflict, which tells the client to re-read and retry.
 */
export function checkWriteConditions(c: WriteConditions, currentEtag: string | undefined, raced: boolean): void {
  const conflict = () =>
    new DomainError(
      'ConditionalRequestConflict',
      'A conflicting conditional operation is currently in progress against this resource. Try again.',
    );
  const failed = (condition: string) =>
    new DomainError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: condition,
    });
  if (c.ifNoneMatch !== undefined && currentEtag !== undefined) throw raced ? conflict() : failed('If-None-Match');
  if (c.ifMatch !== undefined) {
    if (currentEtag === undefined)
      throw raced ? conflict() : new DomainError('NoSuchKey', 'The specified key does not exist.');
    if (!etagMatches(c.ifMatch, currentEtag, true)) throw raced ? conflict() : failed('If-Match');
  }
}

/** Inclusive byte range, or undefined for "whole object" (absent or syntactically invalid Range: S3 ignores those). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw unsatisfiable(size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size || size === 0) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): DomainError {
  return new DomainError('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: size });
}
