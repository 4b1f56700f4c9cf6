/**
 * Which master key seals the KMS key store, from the configuration: a PKCS#11
 * token key when COFFER_PKCS11_MODULE is set, else the file key (COFFER_MASTER_KEY
 * or its file). Also the 32 bytes IAM and the root identity derive from
 * (masterKeySecrets.ts). The PKCS#11 binding is a native addon, loaded only
 * when a module is configured.
 */
import type { Config } from '../config.js';
import { defaultMasterKeyFile } from '../config.js';
import { KeyStore } from '../kms/keyStore.js';
import { loadMasterKey, MasterKeyError } from '../kms/masterKey.js';
import type { MasterKeySealer } from '../kms/masterKeySealer.js';
import { tokenSecretsKey } from '../kms/masterKeySecrets.js';

export interface MasterKeySource {
  sealer: MasterKeySealer | Buffer;
  /** The file key in use (absent for COFFER_MASTER_KEY and a token key). */
  path?: string;
  /** Where the key lives, for the start banner (never the key). */
  describe?: string;
  /** The IAM secrets key once the key store is open (the caller zeroes it). */
  secretsKey(store: KeyStore, create: boolean): Promise<Buffer>;
  /** Zero what this process holds of a file key. */
  wipe(): void;
}

export async function openPkcs11Key(config: Config, create: boolean): Promise<MasterKeySealer> {
  if (!config.pkcs11Module) throw new MasterKeyError('COFFER_PKCS11_MODULE is not set');
  const { Pkcs11MasterKey } = await import('../kms/masterKeyPkcs11.js');
  return Pkcs11MasterKey.open({
    module: config.pkcs11Module,
    ...(config.pkcs11TokenLabel !== undefined ? { tokenLabel: config.pkcs11TokenLabel } : {}),
    ...(config.pkcs11Slot !== undefined ? { slot: config.pkcs11Slot } : {}),
    ...(config.pkcs11KeyLabel !== undefined ? { keyLabel: config.pkcs11KeyLabel } : {}),
    ...(config.pkcs11Pin !== undefined ? { pin: config.pkcs11Pin } : {}),
    ...(config.pkcs11PinFile !== undefined ? { pinFile: config.pkcs11PinFile } : {}),
    create,
  });
}

/** The file master key as the server loads it (also what `master-key migrate` reads). */
export function loadFileKey(config: Config, create: boolean, warn: (m: string) => void) {
  return loadMasterKey({
    configured: config.masterKey || undefined,
    dataDir: config.dataDir,
    file: config.masterKeyFile ?? defaultMasterKeyFile(),
    create,
    warn,
  });
}

/** `storeExists`: the data dir already holds a key store (no new key may be made for it). */
export async function openMasterKeySource(
  config: Config,
  storeExists: boolean,
  warn: (m: string) => void,
): Promise<MasterKeySource> {
  if (config.pkcs11Module) {
    if (config.masterKey)
      throw new MasterKeyError('Both COFFER_MASTER_KEY and COFFER_PKCS11_MODULE are set: choose one master key');
    const sealer = await openPkcs11Key(config, !storeExists);
    return {
      sealer,
      describe: `PKCS#11 token ${config.pkcs11TokenLabel ?? (config.pkcs11Slot !== undefined ? `slot ${config.pkcs11Slot}` : '(first slot)')}, key ${config.pkcs11KeyLabel ?? 'coffer-master-key'}`,
      secretsKey: (store, create) => tokenSecretsKey(store, create),
      wipe: () => undefined,
    };
  }
  const master = await loadFileKey(config, !storeExists, warn);
  return {
    sealer: master.key,
    ...(master.path !== undefined ? { path: master.path } : {}),
    secretsKey: () => Promise.resolve(Buffer.from(master.key)),
    wipe: () => master.key.fill(0),
  };
}
