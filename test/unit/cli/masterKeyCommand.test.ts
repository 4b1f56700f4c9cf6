/** `coffer kms master-key migrate` with a shared KMS store: refused by name, before any key is touched. */
import { describe, expect, it } from 'vitest';
import type { Io } from '../../../src/cli/output.js';
import { run } from '../../../src/cli/run.js';

function io(env: NodeJS.ProcessEnv = {}): Io & { text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), env, text: () => out, errors: () => err };
}

describe('coffer kms master-key migrate', () => {
  it('refuses a shared KMS store (COFFER_KMS_STORE_URL, or its COFFER_META_URL default)', async () => {
    for (const env of [
      { COFFER_KMS_STORE_URL: 'postgres://db/kms' },
      { COFFER_META_URL: 'postgres://u:hunter2@db/meta' },
    ]) {
      const o = io({
        ...env,
        COFFER_PKCS11_MODULE: '/nonexistent/module.so',
        COFFER_PKCS11_PIN: '1234',
        COFFER_DATA_DIR: '/nonexistent/data',
      });
      expect(await run(['kms', 'master-key', 'migrate', '--to', 'pkcs11'], o)).not.toBe(0);
      expect(o.errors()).toMatch(/COFFER_KMS_STORE_URL/);
      expect(o.errors()).not.toContain('hunter2');
    }
  });
});
