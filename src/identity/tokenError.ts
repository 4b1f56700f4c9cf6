/**
 * A bearer token that could not be verified. The IAM core throws it; each REST
 * adapter renders it in its own protocol (Key Protect: 400 or 401, IAM: 401).
 */
export class TokenError extends Error {
  /** malformed: not a JWT at all (KP: 400 BEARER_SUB_EXTRACTION_ERR); invalid: bad signature, expired, wrong type (401). */
  constructor(
    readonly kind: 'malformed' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}
