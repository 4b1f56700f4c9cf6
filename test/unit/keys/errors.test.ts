import { describe, expect, it } from 'vitest';
import { KMS_ERROR_STATUS, KmsError, keyNotFound, type KmsReason } from '../../../src/keys/errors.js';

describe('KmsError: the reason decides the status', () => {
  it('takes its status from the table (key-protect.md 2.2)', () => {
    const cases: [KmsReason, number][] = [
      ['BAD_BODY_ERR', 400],
      ['BEARER_SUB_EXTRACTION_ERR', 400],
      ['UNAUTHORIZED_ERR', 401],
      ['SERVICE_ONLY_ERR', 403],
      ['KEY_NOT_FOUND_ERR', 404],
      ['KEY_RING_NOT_FOUND_ERR', 404],
      ['PROTECTED_RESOURCE_ERR', 409],
      ['KEY_RING_EXISTS_ERR', 409],
      ['FEATURE_RESTRICTED_ERR', 409],
      ['KEY_DELETED_ERR', 410],
      ['UNPROCESSABLE_CIPHERTEXT_ERR', 422],
      ['INTERNAL_ERR', 500],
      ['KMS_UNAVAILABLE', 503],
    ];
    for (const [reason, status] of cases) {
      const e = new KmsError(reason, 'm', { type: 'field', name: 'f' });
      expect([e.reason, e.status, e.message, e.target]).toEqual([reason, status, 'm', { type: 'field', name: 'f' }]);
      expect(e).toBeInstanceOf(Error);
    }
  });

  it('every reason has a Key Protect status', () => {
    for (const status of Object.values(KMS_ERROR_STATUS))
      expect([400, 401, 403, 404, 409, 410, 422, 500, 503]).toContain(status);
  });

  it('keyNotFound names only the CRN', () => {
    expect(keyNotFound('crn:x')).toMatchObject({
      status: 404,
      reason: 'KEY_NOT_FOUND_ERR',
      message: 'The key crn:x could not be found',
    });
  });
});
