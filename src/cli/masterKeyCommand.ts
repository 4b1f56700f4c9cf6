/**
 * `coffer kms master-key migrate --to pkcs11|file [--data-dir DIR]`: move the
 * key store of a STOPPED server (its LevelDB lock refuses a running one)
 * between the file master key and a PKCS#11 token key (masterKeyMigrate.ts).
 * Both keys come from the usual configuration: COFFER_MASTER_KEY(_FILE) and
 * COFFER_PKCS11_*. Nothing secret is printed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, defaultMasterKeyFile, loadConfig, type Config } from '../config.js';
import { CliError, flag, parse, str, UsageError } from './args.js';
import type { Io } from './output.js';

export const MASTER_KEY_USAGE = `coffer kms master-key migrate --to pkcs11|file [--data-dir DIR]

  Reseal every root-key version of a stopped server's KMS key store under the
  other master key, in one atomic step. --to pkcs11: from the file key
  (COFFER_MASTER_KEY_FILE or COFFER_MASTER_KEY) to the token key (COFFER_PKCS11_MODULE,
  COFFER_PKCS11_TOKEN_LABEL or _SLOT, COFFER_PKCS11_KEY_LABEL, COFFER_PKCS11_PIN or
  _PIN_FILE; the key is generated in the token if missing). --to file: back, writing
  the key file (COFFER_MASTER_KEY_FILE or ~/.config/coffer/master.key, never replaced).
  Then start the server with the new configuration.`;

export async function runMasterKey(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(MASTER_KEY_USAGE + '\n');
    return cmd === undefined ? 2 : 0;
  }
  if (cmd !== 'migrate') throw new UsageError(`unknown command "kms master-key ${cmd}"\n\n${MASTER_KEY_USAGE}`);
  const p = parse(
    rest,
    { to: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    { usage: MASTER_KEY_USAGE },
  );
  if (flag(p, 'help')) {
    io.out(MASTER_KEY_USAGE + '\n');
    return 0;
  }
  const to = str(p, 'to');
  if (to !== 'pkcs11' && to !== 'file') throw new UsageError(`--to must be pkcs11 or file\n\n${MASTER_KEY_USAGE}`);
  const dataDir = str(p, 'data-dir');
  let config: Config;
  try {
    config = loadConfig(io.env, dataDir !== undefined ? { dataDir } : {});
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
    throw e;
  }
  if (!config.pkcs11Module) throw new UsageError('COFFER_PKCS11_MODULE (and its PIN) must be set for either direction');
  if (config.kmsStoreUrl)
    throw new CliError(
      'the KMS state is in the shared database (COFFER_KMS_STORE_URL, by default COFFER_META_URL): ' +
        "master-key migrate reseals a data dir's LevelDB key store only; with COFFER_KMS_STORE_URL=local it uses that one",
    );
  const dir = join(config.dataDir, 'kms');
  if (!existsSync(join(dir, 'CURRENT'))) throw new CliError(`no KMS key store in ${config.dataDir}`);
  const { openPkcs11Key, loadFileKey } = await import('../server/masterKeySource.js');
  const { migrateToFile, migrateToPkcs11 } = await import('../kms/masterKeyMigrate.js');
  const warn = (m: string) => io.err(m + '\n');
  if (to === 'pkcs11') {
    const file = await loadFileKey(config, false, warn);
    try {
      const token = await openPkcs11Key(config, true);
      const r = await migrateToPkcs11(dir, file.key, token);
      if (r.already) {
        io.out(`the key store in ${config.dataDir} is already sealed by the PKCS#11 key; nothing to do\n`);
        return 0;
      }
      io.out(
        `resealed ${r.versions} root-key version(s) in ${config.dataDir} under the PKCS#11 key.\n` +
          'Start the server with COFFER_PKCS11_* set and COFFER_MASTER_KEY unset. The old file key now only ' +
          'opens old backups (and IAM secrets, which the token seals in the key store): keep it offline or destroy it' +
          (file.path ? ` (${file.path})` : '') +
          '.\n',
      );
      return 0;
    } finally {
      file.key.fill(0);
    }
  }
  if (config.masterKey) throw new UsageError('--to file writes the key file: unset COFFER_MASTER_KEY');
  const keyFile = config.masterKeyFile ?? defaultMasterKeyFile(io.env);
  const token = await openPkcs11Key(config, false);
  const r = await migrateToFile(dir, token, keyFile);
  if (r.already) {
    io.out(`the key store in ${config.dataDir} is already sealed by the file master key; nothing to do\n`);
    return 0;
  }
  io.out(
    `resealed ${r.versions} root-key version(s) in ${config.dataDir} under the file master key ${keyFile}.\n` +
      'Back that file up apart from the data, and start the server without COFFER_PKCS11_MODULE.\n',
  );
  return 0;
}
