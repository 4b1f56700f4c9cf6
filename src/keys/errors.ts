/**
 * Errors a KeyProvider throws. They mirror Key Protect's status and reason codes
 * so that the REST API and the remote provider translate them one to one, and so
 * that the S3 layer can map them (src/s3/errors.ts) without knowing the provider.
 */
export type KmsReason =
  | 'BAD_BODY_ERR'
  | 'INVALID_FIELD_ERR'
  | 'NO_BODY_ERR'
  | 'COLLECTION_TOTAL_MISMATCH_ERR'
  | 'KEY_ROOT_REQ_ERR'
  | 'KEY_EXPIRED_ERR'
  | 'KEY_PAYLOAD_REQ_ERR'
  | 'KEY_RESTORE_EXPIRED'
  | 'INCORRECT_NONCE_ERR'
  | 'INCORRECT_NONCE_IV_ERR'
  | 'NUM_COLLECTION_RESOURCE_ERR'
  | 'UNAUTHORIZED_ERR'
  | 'SERVICE_ONLY_ERR'
  | 'KEY_NOT_FOUND_ERR'
  | 'KEY_ACTION_INVALID_STATE_ERR'
  | 'PROTECTED_RESOURCE_ERR'
  | 'PREV_KEY_DEL_ERR'
  | 'AUTHORIZATIONS_NOT_MET'
  | 'NOT_DUAL_AUTH_ERR'
  | 'REQ_TOO_EARLY_ERR'
  | 'KEY_ROTATION_NOT_PERMITTED'
  | 'IMPORT_TOKEN_EXPIRED_ERR'
  | 'KEY_CREATE_IMPORT_ACCESS_ERR'
  | 'KEY_DELETED_ERR'
  | 'UNPROCESSABLE_CIPHERTEXT_ERR'
  | 'KEY_INVALID_STATE_ERR'
  | 'KEY_ROOT_REQ_REG_ERR'
  | 'KEY_VERSION_INVALID'
  | 'INTERNAL_ERR'
  | 'KMS_UNAVAILABLE';

export class KmsError extends Error {
  constructor(
    readonly status: number,
    readonly reason: KmsReason,
    message: string,
    readonly target?: { type: string; name: string },
  ) {
    super(message);
    this.name = 'KmsError';
  }
}

/**
 * What both KeyProviders throw for an unknown key, a key of another instance,
 * and a key the tenant may not use alike: the message names only the CRN given.
 */
export function keyNotFound(crn: string): KmsError {
  return new KmsError(404, 'KEY_NOT_FOUND_ERR', `The key ${crn} could not be found`);
}
