/**
 * The L0 master key of the embedded KMS (encryption.md "Key hierarchy"): 32 bytes
 * that seal every stored root-key version. It comes from configuration
 * (COFFER_MASTER_KEY, base64) or from a key file in the data directory, created
 * on first start.
 *
 * The key file is the one secret that turns a copy of the data directory into
 * readable data, so it is created 0600 and an existing one that group or others
 * can read or write is refused (as ssh refuses a private key), unless the operator
 * explicitly allows it (e.g. a secret volume mounted 0644 that cannot be changed).
 */
import { createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBase64Strict } from './encoding.js';

export const MASTER_KEY_BYTES = 32;
export const DEFAULT_MASTER_KEY_FILE = 'kms-master.key';

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

export interface LoadMasterKeyOptions {
  /** Base64 of 32 bytes from configuration (COFFER_MASTER_KEY). When set, no file is read or written. */
  configured?: string;
  /** Directory that holds the key file (created 0700 if missing). */
  dataDir: string;
  fileName?: string;
  /** Downgrade the refusal of a group/world accessible key file to a warning. */
  allowInsecurePermissions?: boolean;
  /** Where warnings go (never receives key material). */
  warn?: (message: string) => void;
  randomBytes?: (n: number) => Buffer;
}

export interface LoadedMasterKey {
  /** The caller owns this buffer: zero it when the KMS closes. */
  key: Buffer;
  source: 'config' | 'file' | 'created';
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
  const path = join(opts.dataDir, opts.fileName ?? DEFAULT_MASTER_KEY_FILE);
  const existing = await readKeyFile(path, opts);
  if (existing) return { key: existing, source: 'file', path };
  const created = await createKeyFile(opts.dataDir, path, opts.randomBytes ?? nodeRandomBytes);
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
async function createKeyFile(dir: string, path: string, random: (n: number) => Buffer): Promise<Buffer | undefined> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = random(MASTER_KEY_BYTES);
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
