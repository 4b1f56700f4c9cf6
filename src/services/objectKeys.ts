/** Object key rules and size limits, shared by the object, delete and multipart paths. */
import { DomainError } from './errors.js';

export const MAX_KEY_BYTES = 1024;
export const MAX_SINGLE_PUT = 5 * 1024 ** 3;

export function validateKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES)
    throw new DomainError('KeyTooLongError', 'Your key is too long', { Size: Buffer.byteLength(key) });
  if (key.length === 0) throw new DomainError('InvalidArgument', 'The object key must not be empty.');
  // NUL separates fields in the metadata keys; refuse it here, as a client error, before any store sees it.
  if (key.includes('\u0000'))
    throw new DomainError('InvalidArgument', 'Object key contains a NUL character, which is not supported.', {
      ArgumentName: 'key',
    });
}
