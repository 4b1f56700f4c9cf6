import { describe, expect, it } from 'vitest';
import { minimumRole, OwnerAuthorizer } from '../../../src/kms/authorizer.js';

describe('authorizer', () => {
  const key = { instanceId: 'i', keyId: 'k', account: 'owner' };

  it('OwnerAuthorizer lets the owning account use its keys, except KeyPurge', async () => {
    const a = new OwnerAuthorizer();
    expect(await a.canUse('owner', key, 'Reader')).toBe(true);
    expect(await a.canUse('owner', key, 'Manager')).toBe(true);
    expect(await a.canUse('owner', key, 'KeyPurge')).toBe(false);
    expect(await a.canUse('other', key, 'Reader')).toBe(false);
    expect(await a.canUse('', { ...key, account: '' }, 'Reader')).toBe(false);
    expect(await new OwnerAuthorizer({ allowPurge: true }).canUse('owner', key, 'KeyPurge')).toBe(true);
  });

  it('maps operations to the documented least role', () => {
    expect(minimumRole('unwrap')).toBe('Reader');
    expect(minimumRole('getKeyWithPayload')).toBe('ReaderPlus');
    expect(minimumRole('rotate')).toBe('Writer');
    expect(minimumRole('disable')).toBe('Manager');
    expect(minimumRole('purge')).toBe('KeyPurge');
  });
});
