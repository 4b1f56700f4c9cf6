/**
 * Key Protect's error body (key-protect.md 2.2):
 *
 *   { metadata: { collectionType: "application/vnd.ibm.kms.error+json", collectionTotal: 1 },
 *     resources: [ { errorMsg: "<Reason Phrase>: ...",
 *                    reasons: [ { code, message, status, moreInfo, target? } ] } ] }
 *
 * A KmsError (src/keys/errors.ts: the reason decides the status) maps one to
 * one. Anything else is a 500 with a generic message; the real error is logged
 * by the caller, never sent (it could name a path or worse).
 */
import { STATUS_CODES } from 'node:http';
import { KmsError, type ErrorTarget } from '../../keys/errors.js';

export const ERROR_MEDIA_TYPE = 'application/vnd.ibm.kms.error+json';
export const MORE_INFO = 'https://cloud.ibm.com/apidocs/key-protect';

export interface ErrorReason {
  code: string;
  message: string;
  status: number;
  moreInfo: string;
  target?: ErrorTarget;
}

export interface ErrorBody {
  metadata: { collectionType: typeof ERROR_MEDIA_TYPE; collectionTotal: 1 };
  resources: [{ errorMsg: string; reasons: ErrorReason[] }];
}

/** What Key Protect puts after the reason phrase, by status family. */
function summary(status: number): string {
  switch (status) {
    case 400:
      return 'The request is malformed or illegal. Please see reasons for more details.';
    case 401:
      return 'The user does not have access to the specified resource';
    case 403:
      return 'The request is forbidden. Please see reasons for more details.';
    case 404:
      return 'Resource could not be found. Please see reasons for more details.';
    case 409:
      return 'Action could not be performed on key. Please see reasons for more details.';
    case 410:
      return 'The key has been deleted. Please see reasons for more details.';
    case 422:
      return 'Unprocessable Entity: the request could not be processed. Please see reasons for more details.';
    default:
      return 'Please see reasons for more details.';
  }
}

export function errorBody(status: number, code: string, message: string, target?: ErrorTarget): ErrorBody {
  const reason: ErrorReason = { code, message, status, moreInfo: MORE_INFO };
  if (target) reason.target = target;
  const phrase = STATUS_CODES[status] ?? 'Error';
  return {
    metadata: { collectionType: ERROR_MEDIA_TYPE, collectionTotal: 1 },
    resources: [{ errorMsg: `${phrase}: ${summary(status)}`, reasons: [reason] }],
  };
}

/** Any thrown value -> status and Key Protect error body; `internal` tells the caller to log it. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof KmsError) {
    if (err.status >= 500)
      return { status: err.status, body: errorBody(err.status, err.reason, err.message), internal: err.status === 500 };
    return { status: err.status, body: errorBody(err.status, err.reason, err.message, err.target), internal: false };
  }
  return {
    status: 500,
    body: errorBody(500, 'INTERNAL_ERR', 'The service encountered an internal error'),
    internal: true,
  };
}

export function badBody(message: string, field?: string): KmsError {
  return new KmsError('BAD_BODY_ERR', message, field ? { type: 'field', name: field } : undefined);
}

export function invalidField(name: string, must: string, type: 'field' | 'query_param' | 'header' = 'field'): KmsError {
  return new KmsError(
    'INVALID_FIELD_ERR',
    `The ${type === 'field' ? 'field' : type === 'header' ? 'header' : 'query parameter'} '${name}' must be: ${must}`,
    { type, name },
  );
}

export function unauthorized(): KmsError {
  return new KmsError('UNAUTHORIZED_ERR', 'The user does not have access to the specified resource');
}
