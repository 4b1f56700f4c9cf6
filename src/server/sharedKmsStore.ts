/**
 * The KMS and IAM state in the shared PostgreSQL database (COFFER_KMS_STORE_URL,
 * by default COFFER_META_URL): one database handle (meta/kv/pgJsonKv.ts) and
 * the three stores the KMS side opens on it, in place of the kms/, iam/ and
 * kms-instance/ LevelDB directories. Every process started on the same database
 * with the same master key (file or PKCS#11) serves the same keys, accounts and
 * credentials; root-key versions stay sealed under that master key, so the
 * database never holds a plaintext key. The audit log stays a file per process.
 */
import { ConfigError, type Config } from '../config.js';
import { PgKvDatabase, type PgJsonKv } from '../meta/kv/pgJsonKv.js';
import type { Logger } from '../util/logger.js';

export interface SharedKmsStore {
  db: PgKvDatabase;
  kms: PgJsonKv;
  iam: PgJsonKv;
  instance: PgJsonKv;
  /** A key store already exists in the database (no new master key may be made for it). */
  keyStoreExists: boolean;
  iamExists: boolean;
  /** The root account every process uses: the first start's `candidate`, remembered in the database. */
  rootAccountId(candidate: string): Promise<string>;
  close(): Promise<void>;
}

export async function openSharedKmsStore(config: Config, log: Logger): Promise<SharedKmsStore | undefined> {
  if (!config.kmsStoreUrl) return undefined;
  // Generated root credentials would differ per process: a cluster configures them, the same everywhere.
  if (!config.rootUser || !config.rootPassword)
    throw new ConfigError(
      'COFFER_ROOT_USER',
      'a shared KMS store (COFFER_KMS_STORE_URL) needs COFFER_ROOT_USER and COFFER_ROOT_PASSWORD, the same on every process',
    );
  const db = await PgKvDatabase.open(config.kmsStoreUrl, {
    // The URL may hold a password: only the error's own message is logged.
    onError: (e) => log.warn('KMS store connection error', { err: e.message }),
  });
  try {
    const kms = db.store('kms');
    const iam = db.store('iam', { notify: true });
    const instance = db.store('kms-instance', { notify: true });
    const keyStoreExists =
      (await kms.get('meta', 'kcv')) !== undefined || (await kms.get('meta', 'masterKind')) !== undefined;
    const iamExists = (await iam.get('meta', 'kcv')) !== undefined;
    return {
      db,
      kms,
      iam,
      instance,
      keyStoreExists,
      iamExists,
      rootAccountId: (candidate) =>
        db.locks.run('kms/root-account', async () => {
          const saved = await kms.get<string>('meta', 'rootAccountId');
          if (saved !== undefined) return saved;
          await kms.write([{ type: 'put', space: 'meta', key: 'rootAccountId', value: candidate }]);
          return candidate;
        }),
      close: () => db.close(),
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}
