/**
 * The L0 master key of the embedded KMS (encryption.md "Key hierarchy"): 32 bytes
 * that seal every stored root-key version. It comes from configuration
 * (COFFER_MASTER_KEY, base64) or from a key file, created on first start.
 *
 * The key file lives apart from the data directory (COFFER_MASTER_KEY_FILE, by
 * default $XDG_CONFIG_HOME/coffer/master.key): the data dir holds the
 * ciphertext, and whoever copies it (a backup, a stolen disk) must not get the
 * key with it. Installs from before kept the key in <data>/kms-master.key; when
 * that file exists and the new one does not, it is still used (never replaced by
 * a new key: that would make every stored root key unreadable), with a loud
 * warning to move it.
 *
 * The key file is the one secret that turns a copy of the data directory into
 * readable data, so it is created 0600 and an existing one that group or others
 * can read or write is refused (as ssh refuses a private key), unless the operator
 * explicitly allows it (e.g. a secret volume mounted 0644 that cannot be changed).
 */
import { createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { decodeBase64Strict } from './encoding.js';

export const MASTER_KEY_BYTES = 32;
/** Name of the key file inside the data dir: where installs before COFFER_MASTER_KEY_FILE kept it. */
export const DEFAULT_MASTER_KEY_FILE = 'kms-master.key';
export const LEGACY_MASTER_KEY_FILE = DEFAULT_MASTER_KEY_FILE;

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

export interface LoadMasterKeyOptions {
  /** Base64 of 32 bytes from configuration (COFFER_MASTER_KEY). When set, no file is read or written. */
  configured?: string;
  /** The data directory (without `file`: the directory that holds the key file, created 0700 if missing). */
  dataDir: string;
  /**
   * The key file, apart from the data dir (COFFER_MASTER_KEY_FILE or its
   * default); its directory is created 0700 if missing. Without it the key file
   * is `fileName` in `dataDir` (the layout of older installs, and unit tests).
   */
  file?: string;
  fileName?: string;
  /**
   * False when there is stored data sealed under an existing key (a key store):
   * a missing key file is then an error, not a reason to make a new key.
   */
  create?: boolean;
  /** Downgrade the refusal of a group/world accessible key file to a warning. */
  allowInsecurePermissions?: boolean;
  /** Where warnings go (never receives key material). */
  warn?: (message: string) => void;
  randomBytes?: (n: number) => Buffer;
}

export interface LoadedMasterKey {
  /** The caller owns this buffer: zero it when the KMS closes. */
  key: Buffer;
  /** `legacy`: read from <data>/kms-master.key because the key file at `file` does not exist yet. */
  source: 'config' | 'file' | 'created' | 'legacy';
  path?: string;
}

export async function loadMasterKey(opts: LoadMasterKeyOptions): Promise<LoadedMasterKey> {
  if (opts.configured !== undefined && opts.configured.trim() !== '') {
    const key = decodeBase64Strict(opts.configured.trim());
    if (!key || key.length !== MASTER_KEY_BYTES) {
      key?.fill(0);
      throw new MasterKeyError(
        `The configured KMS master key (COFFER_MASTER_KEY) must be standard base64 of exactly ${MASTER_KEY_BYTES} bytes`,
      );
    }
    return { key, source: 'config' };
  }
  if (opts.file !== undefined) return loadSeparateKeyFile(resolve(opts.file), opts);
  const path = join(opts.dataDir, opts.fileName ?? DEFAULT_MASTER_KEY_FILE);
  return readOrCreate(opts.dataDir, path, opts);
}

/** The key file apart from the data dir, else the legacy one inside it, else a new one apart. */
async function loadSeparateKeyFile(path: string, opts: LoadMasterKeyOptions): Promise<LoadedMasterKey> {
  const legacy = join(opts.dataDir, LEGACY_MASTER_KEY_FILE);
  const inside = isInside(path, opts.dataDir);
  if (inside) opts.warn?.(insideWarning(path, opts.dataDir));
  const existing = await readKeyFile(path, opts);
  if (existing) {
    if (!inside && (await exists(legacy)))
      opts.warn?.(
        `WARNING: a KMS master key file is still in the data directory (${legacy}) although ${path} is the one in use. ` +
          'Whoever copies the data directory gets it with the ciphertext: once the key is backed up apart, delete that copy.',
      );
    return { key: existing, source: 'file', path };
  }
  if (path !== resolve(legacy)) {
    const old = await readKeyFile(legacy, opts);
    if (old) {
      opts.warn?.(
        `WARNING: the KMS master key is read from ${legacy}, INSIDE the data directory that holds the ciphertext: ` +
          'whoever copies the data directory gets the key with it. Move it apart (it is used from there on next start): ' +
          `mkdir -p -m 700 ${dirname(path)} && mv ${legacy} ${path} (or set COFFER_MASTER_KEY_FILE), and back it up separately.`,
      );
      return { key: old, source: 'legacy', path: legacy };
    }
  }
  return readOrCreate(dirname(path), path, opts);
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function insideWarning(path: string, dataDir: string): string {
  return (
    `WARNING: the KMS master key file ${path} is inside the data directory ${dataDir}: whoever copies the data ` +
    'directory gets the key with the ciphertext. Set COFFER_MASTER_KEY_FILE to a path outside it and back the key up separately.'
  );
}

async function readOrCreate(dir: string, path: string, opts: LoadMasterKeyOptions): Promise<LoadedMasterKey> {
  const existing = await readKeyFile(path, opts);
  if (existing) return { key: existing, source: 'file', path };
  if (opts.create === false)
    throw new MasterKeyError(
      `The KMS master key file ${path} does not exist, but the data directory ${opts.dataDir} already holds a key store ` +
        'sealed under a master key: restore the key file from its backup (or point COFFER_MASTER_KEY_FILE at it). ' +
        'A new key would make every stored root key unreadable. (A store moved to a PKCS#11 token needs COFFER_PKCS11_MODULE instead.)',
    );
  const created = await createKeyFile(dir, path, opts.randomBytes ?? nodeRandomBytes);
  if (created) return { key: created, source: 'created', path };
  // Another process created the file between our read and our link: use theirs.
  const theirs = await readKeyFile(path, opts);
  if (!theirs) throw new MasterKeyError(`The KMS master key file ${path} disappeared while starting`);
  return { key: theirs, source: 'file', path };
}

async function readKeyFile(path: string, opts: LoadMasterKeyOptions): Promise<Buffer | undefined> {
  let st;
  try {
    // stat, not lstat: Kubernetes secret volumes are symlinks to the real file.
    st = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!st.isFile()) throw new MasterKeyError(`The KMS master key file ${path} is not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    const msg = `The KMS master key file ${path} is accessible by group or others (mode ${mode}); run: chmod 600 ${path}`;
    if (!opts.allowInsecurePermissions) throw new MasterKeyError(msg);
    opts.warn?.(msg);
  }
  if (st.size !== MASTER_KEY_BYTES) {
    throw new MasterKeyError(
      `The KMS master key file ${path} must hold exactly ${MASTER_KEY_BYTES} raw bytes, found ${st.size}`,
    );
  }
  const key = await readFile(path);
  if (key.length !== MASTER_KEY_BYTES) {
    key.fill(0);
    throw new MasterKeyError(
      `The KMS master key file ${path} must hold exactly ${MASTER_KEY_BYTES} raw bytes, found ${key.length}`,
    );
  }
  return key;
}

/**
 * Temp file (0600) -> write -> fsync -> link into place -> fsync the directory.
 * link(2), unlike rename(2), fails when the target exists, so two processes
 * starting at once can never end up with different keys. Returns undefined when
 * the file appeared meanwhile.
 */
/**
 * Writes `key` as a new key file at `path` (`coffer kms master-key migrate --to
 * file`). An existing file must hold exactly these bytes (a migration run again
 * after a crash), else MasterKeyError: a key file is never replaced.
 */
export async function writeMasterKeyFile(path: string, key: Buffer): Promise<void> {
  if (key.length !== MASTER_KEY_BYTES) throw new RangeError(`The KMS master key must be ${MASTER_KEY_BYTES} bytes`);
  const check = async (): Promise<void> => {
    const have = await readKeyFile(path, { dataDir: dirname(path) });
    if (!have) return;
    const same = have.equals(key);
    have.fill(0);
    if (!same)
      throw new MasterKeyError(
        `The KMS master key file ${path} already exists and holds another key; it is never replaced`,
      );
  };
  await check();
  const created = await createKeyFile(dirname(resolve(path)), resolve(path), nodeRandomBytes, key);
  if (!created) await check();
}

async function createKeyFile(
  dir: string,
  path: string,
  random: (n: number) => Buffer,
  given?: Buffer,
): Promise<Buffer | undefined> {
  // A directory made here (e.g. ~/.config/coffer) must itself survive a power cut: fsync its parent.
  const made = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (made !== undefined) {
    await fsyncDir(dirname(resolve(made)));
    if (resolve(made) !== resolve(dir)) await fsyncDir(dirname(resolve(dir)));
  }
  const key = given ? Buffer.from(given) : random(MASTER_KEY_BYTES);
  if (key.length !== MASTER_KEY_BYTES) throw new MasterKeyError('randomBytes returned the wrong length');
  const tmp = `${path}.${process.pid}.${random(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.chmod(0o600); // the umask can only clear bits; be explicit anyway
    await fh.writeFile(key);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    try {
      await link(tmp, path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        key.fill(0);
        return undefined;
      }
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw e;
      // File systems without hard links: rename, after a best-effort existence check.
      if (await exists(path)) {
        key.fill(0);
        return undefined;
      }
      await rename(tmp, path);
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
  return key;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

const KCV_LABEL = 'coffer/kms/v1/key-check-value';

/**
 * Key check value: HMAC-SHA256(master, label). Stored with the key store so that
 * a wrong master key is detected at open with a clear message, instead of every
 * unwrap failing later. It reveals nothing about the key (HMAC is a PRF).
 */
export function keyCheckValue(master: Buffer): Buffer {
  return createHmac('sha256', master).update(KCV_LABEL).digest();
}
