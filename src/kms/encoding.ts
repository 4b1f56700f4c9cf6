/**
 * Strict base64 for KMS fields. Node's Buffer.from(s, 'base64') silently skips
 * junk characters; Key Protect answers 400 INVALID_FIELD_ERR ("illegal base64
 * data") instead, and so must we.
 */
import { KmsError } from '../keys/errors.js';

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard, padded base64; undefined when the text is not exactly that. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (typeof text !== 'string' || !B64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/**
 * Decodes a base64 request field or throws 400 INVALID_FIELD_ERR naming it, as
 * Key Protect does for `plaintext`, `ciphertext` and `payload`. The REST layer uses
 * this so its messages match the service's.
 */
export function decodeBase64Field(text: string, field: string, must: string): Buffer {
  const out = decodeBase64Strict(text);
  if (out === undefined) throw invalidField(field, `${must}: illegal base64 data`);
  return out;
}

export function invalidField(field: string, must: string, type = 'field'): KmsError {
  return new KmsError('INVALID_FIELD_ERR', `The field '${field}' must be: ${must}`, { type, name: field });
}
