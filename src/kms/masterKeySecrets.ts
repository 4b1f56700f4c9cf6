/**
 * The 32 bytes IAM and the root identity derive their own keys from (API key
 * hashes, sealed S3 secrets). With the file master key they are that key, as
 * they always were. With a PKCS#11 key, whose value the process never sees,
 * they are a separate key kept sealed by the token in the key store's meta
 * (`secretsKey`), created on the first start of a new store.
 *
 * Migration carries them across so IAM keeps working: `--to pkcs11` seals the
 * old file key there, `--to file` writes them out as the new key file.
 */
import { randomBytes } from 'node:crypto';
import type { KeyStore } from './keyStore.js';
import { MASTER_KEY_BYTES } from './masterKey.js';

export const SECRETS_AAD = Buffer.from('coffer/kms/v1/iam-secrets-key');

/**
 * The secrets key of a store sealed by a token key (the caller zeroes it).
 * `create`: make one when the store has none yet (a new store); otherwise a
 * missing one is an error (IAM data sealed under it would be unreadable).
 */
export async function tokenSecretsKey(store: KeyStore, create: boolean): Promise<Buffer> {
  if (store.master.kind === 'file') throw new Error('A store sealed by the file master key uses that key itself');
  const stored = await store.getMeta('secretsKey');
  if (stored !== undefined) {
    const key = await store.master.unseal(Buffer.from(stored, 'base64'), SECRETS_AAD);
    if (!key || key.length !== MASTER_KEY_BYTES)
      throw new Error('The IAM secrets key in the KMS key store failed authentication under the PKCS#11 key');
    return key;
  }
  if (!create)
    throw new Error(
      'The KMS key store has no IAM secrets key although IAM data exists; restore the key store from a backup',
    );
  const key = randomBytes(MASTER_KEY_BYTES);
  await store.putMeta('secretsKey', (await store.master.seal(key, SECRETS_AAD)).toString('base64'));
  return key;
}
