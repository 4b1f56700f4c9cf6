import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { grpcCodeOf, toGrpcError } from '../../../src/k8s/grpcErrors.js';
import { KeyProtectError } from '../../../src/k8s/keyProtectClient.js';

const kp = (s: number, reason?: string) => new KeyProtectError(s, reason, `${s} ${reason ?? ''}`);

describe('Key Protect errors as gRPC statuses', () => {
  it.each([
    [409, 'KEY_ACTION_INVALID_STATE_ERR', status.FAILED_PRECONDITION],
    [410, 'KEY_DELETED_ERR', status.FAILED_PRECONDITION],
    [404, undefined, status.FAILED_PRECONDITION],
    [422, 'KEY_INVALID_STATE_ERR', status.FAILED_PRECONDITION],
    [400, 'KEY_EXPIRED_ERR', status.FAILED_PRECONDITION],
    [422, 'UNPROCESSABLE_CIPHERTEXT_ERR', status.INVALID_ARGUMENT],
    [400, 'INVALID_FIELD_ERR', status.INVALID_ARGUMENT],
    [401, 'UNAUTHORIZED_ERR', status.PERMISSION_DENIED],
    [403, 'SERVICE_ONLY_ERR', status.PERMISSION_DENIED],
    [429, undefined, status.RESOURCE_EXHAUSTED],
    [0, undefined, status.UNAVAILABLE],
    [503, undefined, status.UNAVAILABLE],
  ])('%i %s -> %i', (s, reason, code) => {
    expect(grpcCodeOf(kp(s, reason))).toBe(code);
  });

  it('says nothing of an unexpected error beyond "internal error"', () => {
    const e = toGrpcError(new Error('secret detail /some/path'), 'encrypt');
    expect([e.code, e.details]).toEqual([status.INTERNAL, 'encrypt: internal error']);
    expect(toGrpcError(kp(409, 'KEY_ACTION_INVALID_STATE_ERR'), 'decrypt').details).toBe(
      'decrypt: 409 KEY_ACTION_INVALID_STATE_ERR',
    );
  });
});
