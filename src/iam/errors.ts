/**
 * Errors of the IAM layer. The token endpoint renders them in IBM IAM's shape
 * ({errorCode, errorMessage}, which IBM's SDK core reads); the management API
 * in the same shape with its own codes.
 */
export type IamErrorCode =
  | 'BXNIM0415E' // API key not found (IBM IAM's code, status 400)
  | 'BXNIM0109E' // property missing or invalid (IBM IAM)
  | 'BXNIM0407E' // token invalid or expired (IBM IAM)
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'UNAUTHORIZED'
  | 'CONFLICT'
  | 'AUDIT_UNAVAILABLE'; // the call's audit entry could not be made durable (503)

export class IamError extends Error {
  constructor(
    readonly status: number,
    readonly code: IamErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IamError';
  }
}

export function invalidInput(message: string): IamError {
  return new IamError(400, 'INVALID_INPUT', message);
}

export function notFound(what: string): IamError {
  return new IamError(404, 'NOT_FOUND', `${what} could not be found`);
}
