import { describe, expect, it } from 'vitest';
import { KmsError } from '../../../../src/keys/errors.js';
import { errorBody, MORE_INFO, toErrorResponse } from '../../../../src/kms/api/errors.js';

describe('Key Protect error body', () => {
  it('maps a KmsError one to one: errorMsg starts with the reason phrase, one reason with code, status, moreInfo, target', () => {
    const r = toErrorResponse(new KmsError('PROTECTED_RESOURCE_ERR', 'Key is protecting one or more cloud resources'));
    expect(r.status).toBe(409);
    expect(r.internal).toBe(false);
    expect(r.body.metadata).toEqual({ collectionType: 'application/vnd.ibm.kms.error+json', collectionTotal: 1 });
    expect(r.body.resources[0].errorMsg).toMatch(/^Conflict: /);
    expect(r.body.resources[0].reasons).toEqual([
      {
        code: 'PROTECTED_RESOURCE_ERR',
        message: 'Key is protecting one or more cloud resources',
        status: 409,
        moreInfo: MORE_INFO,
      },
    ]);
    const f = toErrorResponse(new KmsError('INVALID_FIELD_ERR', 'bad', { type: 'field', name: 'plaintext' }));
    expect(f.body.resources[0].errorMsg).toMatch(/^Bad Request: /);
    expect(f.body.resources[0].reasons[0]!.target).toEqual({ type: 'field', name: 'plaintext' });
  });

  it('maps the API layer’s own reasons, and hides anything else behind a generic 500', () => {
    expect(toErrorResponse(new KmsError('KEY_RING_NOT_FOUND_ERR', 'no ring')).body.resources[0].errorMsg).toMatch(
      /^Not Found: /,
    );
    const e = toErrorResponse(new Error('ENOENT /secret/path'));
    expect(e).toMatchObject({ status: 500, internal: true });
    expect(JSON.stringify(e.body)).not.toContain('/secret/path');
    expect(errorBody(410, 'KEY_DELETED_ERR', 'gone').resources[0].errorMsg).toMatch(/^Gone: /);
    expect(errorBody(401, 'UNAUTHORIZED_ERR', 'no').resources[0].errorMsg).toBe(
      'Unauthorized: The user does not have access to the specified resource',
    );
  });
});
