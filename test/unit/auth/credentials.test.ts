import { describe, expect, it } from 'vitest';
import { StaticCredentialStore } from '../../../src/auth/credentials.js';

describe('StaticCredentialStore', () => {
  it('finds known keys and nothing else', async () => {
    const principal = { accountId: 'a1', accessKeyId: 'AK1', displayName: 'one' };
    const store = new StaticCredentialStore([{ accessKeyId: 'AK1', secretAccessKey: 's1', principal }]);
    expect(await store.lookup('AK1')).toEqual({ secretAccessKey: 's1', principal });
    expect(await store.lookup('AK2')).toBeUndefined();
    expect(await store.lookup('ak1')).toBeUndefined();
  });
});
