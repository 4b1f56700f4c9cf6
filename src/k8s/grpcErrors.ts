/**
 * Key Protect failures as gRPC statuses for the kube-apiserver.
 *
 * The upstream cloud plugins (aws-encryption-provider, Azure kubernetes-kms)
 * return untyped errors, so the API server sees UNKNOWN; AWS's plugin still
 * sorts them, counting a disabled or missing key as "user induced" rather than
 * a plugin fault (it does not fail its liveness probe for those). The codes
 * here make the same split visible on the wire:
 *
 *   key disabled, deleted, expired, purged (404/409/410/422, 400 KEY_EXPIRED_ERR)
 *                                  -> FAILED_PRECONDITION: the operator must act; retrying won't help
 *   KMS unreachable or 5xx         -> UNAVAILABLE: transient, worth retrying
 *   429                            -> RESOURCE_EXHAUSTED
 *   401/403 (API key refused, no access to the key)
 *                                  -> PERMISSION_DENIED
 *   bad ciphertext (422 UNPROCESSABLE_CIPHERTEXT_ERR) or other 400
 *                                  -> INVALID_ARGUMENT
 */
import { status, type ServerErrorResponse } from '@grpc/grpc-js';
import { KeyProtectError } from './keyProtectClient.js';

export function grpcError(code: status, message: string): ServerErrorResponse {
  return Object.assign(new Error(message), { code, details: message });
}

export function grpcCodeOf(e: KeyProtectError): status {
  const s = e.status;
  if (s === 0 || s >= 500) return status.UNAVAILABLE;
  if (s === 429) return status.RESOURCE_EXHAUSTED;
  if (s === 401 || s === 403) return status.PERMISSION_DENIED;
  if (e.reason === 'UNPROCESSABLE_CIPHERTEXT_ERR') return status.INVALID_ARGUMENT;
  if (s === 404 || s === 409 || s === 410 || s === 422 || e.reason === 'KEY_EXPIRED_ERR')
    return status.FAILED_PRECONDITION;
  if (s === 400) return status.INVALID_ARGUMENT;
  return status.UNKNOWN;
}

/** Any error thrown while serving -> the status to answer; unexpected errors say no more than "internal error". */
export function toGrpcError(e: unknown, what: string): ServerErrorResponse {
  if (e instanceof KeyProtectError) return grpcError(grpcCodeOf(e), `${what}: ${e.message}`);
  if (
    e &&
    typeof e === 'object' &&
    typeof (e as { code?: unknown }).code === 'number' &&
    typeof (e as { details?: unknown }).details === 'string'
  )
    return e as ServerErrorResponse;
  return grpcError(status.INTERNAL, `${what}: internal error`);
}
