/**
 * S3 version ids. Opaque to clients, URL-safe (lowercase hex), never reused (80
 * random bits), and sortable newest first: the first 12 hex digits are
 * 2^48 - 1 - milliseconds, the next 4 are 0xffff minus a sequence number within
 * the millisecond, so within one gateway a later version of a key always has a
 * smaller id. The history index (meta keyCodec `v/`) stores a noncurrent version
 * under its version id, so its versions list newest first with no sort step.
 *
 * A null version has no id of its own; when it becomes noncurrent it is stored
 * under a history id made the same way from its lastModified, so it lists at its
 * place in time. "null" is not hex, so no id ever equals it.
 */
import { randomBytes } from 'node:crypto';
import { NULL_VERSION } from '../crypto/index.js';
import { DomainError } from './errors.js';

export { NULL_VERSION };

const MAX_MS = 2 ** 48 - 1;
const VERSION_ID_RE = /^[0-9a-f]{32}$/;

let lastMs = 0;
let seq = 0;

function encode(ms: number, s: number): string {
  const t = (MAX_MS - Math.min(Math.max(0, Math.floor(ms)), MAX_MS)).toString(16).padStart(12, '0');
  return t + (0xffff - s).toString(16).padStart(4, '0') + randomBytes(8).toString('hex');
}

/** A fresh version id, smaller than every id this process made before. */
export function newVersionId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else if (++seq > 0xffff) {
    // 65,536 ids in one millisecond: borrow the next one.
    lastMs++;
    seq = 0;
  }
  return encode(lastMs, seq);
}

/** Where a null version made at `lastModified` sorts among a key's noncurrent versions. */
export function nullHistoryId(lastModified: number): string {
  return encode(lastModified, 0);
}

/**
 * A versionId as a request gives it (?versionId=, x-amz-copy-source ...?versionId=,
 * DeleteObjects' VersionId): "null" or one of ours; anything else is AWS's 400.
 */
export function checkVersionId(id: string): string {
  if (id === '')
    throw new DomainError('InvalidArgument', 'Version id cannot be the empty string', { ArgumentName: 'versionId' });
  if (id !== NULL_VERSION && !VERSION_ID_RE.test(id))
    throw new DomainError('InvalidArgument', 'Invalid version id specified', {
      ArgumentName: 'versionId',
      ArgumentValue: id,
    });
  return id;
}
