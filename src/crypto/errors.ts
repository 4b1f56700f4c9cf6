/**
 * The one error type of the crypto layer for "the bytes are not what we wrote":
 * a failed GCM tag, a stream cut short or extended, a header that does not match
 * the record, or a key that does not match the header's commitment.
 *
 * Services map it to DomainError 'IntegrityError' (and heal from parity where
 * there is any). Caller mistakes (a bad argument, a span that does not fit the
 * object) are RangeError/TypeError instead, so the two are never confused.
 *
 * Messages say which check failed and where (segment index, byte counts); they
 * never contain key material, plaintext or ciphertext.
 */
export class CryptoIntegrityError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CryptoIntegrityError';
  }
}
