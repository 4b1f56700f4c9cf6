/**
 * `coffer kms master-key migrate`: move a stopped server's key store between
 * the file master key and a PKCS#11 token key. Every root-key version is
 * unsealed with the old key and sealed with the new one in one atomic batch
 * (KeyStore.resealAll), so a crash leaves the store wholly on one side. The
 * IAM secrets key goes along (masterKeySecrets.ts), so API keys and S3
 * secrets stay valid.
 */
import { KeyStore, MasterKeyKindError } from './keyStore.js';
import { writeMasterKeyFile } from './masterKey.js';
import { FileMasterKey, type MasterKeySealer } from './masterKeySealer.js';
import { SECRETS_AAD, tokenSecretsKey } from './masterKeySecrets.js';

export interface MigrateResult {
  /** Root-key versions resealed; 0 with `already`. */
  versions: number;
  /** The store was already sealed by the target kind: nothing changed. */
  already: boolean;
}

/** Reseals the store in `dir` from `fileKey` to `token`. Closes `token`. */
export async function migrateToPkcs11(dir: string, fileKey: Buffer, token: MasterKeySealer): Promise<MigrateResult> {
  let store: KeyStore;
  try {
    store = await KeyStore.open(dir, fileKey);
  } catch (e) {
    if (e instanceof MasterKeyKindError && e.stored === token.kind) {
      await token.close();
      return { versions: 0, already: true };
    }
    await token.close();
    throw e;
  }
  try {
    const secretsKey = (await token.seal(fileKey, SECRETS_AAD)).toString('base64');
    const versions = await store.resealAll(token, { secretsKey });
    return { versions, already: false };
  } finally {
    await store.close();
    await token.close();
  }
}

/**
 * Reseals the store in `dir` from `token` (which the store takes over and
 * closes) to a file key, written first to `keyFile` (new, or already holding
 * exactly that key from an interrupted run).
 */
export async function migrateToFile(dir: string, token: MasterKeySealer, keyFile: string): Promise<MigrateResult> {
  let store: KeyStore;
  try {
    store = await KeyStore.open(dir, token);
  } catch (e) {
    if (e instanceof MasterKeyKindError && e.stored === 'file') return { versions: 0, already: true };
    throw e;
  }
  const key = await tokenSecretsKey(store, false).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  const file = new FileMasterKey(key);
  try {
    // The key file first: once the batch lands the store needs it, and a rerun finds the same bytes.
    await writeMasterKeyFile(keyFile, key);
    const versions = await store.resealAll(file, {}, ['secretsKey']);
    return { versions, already: false };
  } finally {
    key.fill(0);
    await file.close();
    await store.close();
  }
}
