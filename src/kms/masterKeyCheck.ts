/**
 * How a key store knows the master key it was sealed under, and which kind:
 *
 *   meta.masterKind   'pkcs11', or absent for the file key (stores from before the seam)
 *   meta.kcv          file: HMAC-SHA256(master, label), compared in constant time
 *   meta.sealCheck    pkcs11: a known text sealed by the token; it must unseal
 *
 * A store opened with the other kind is refused with the migrate command to
 * run, a wrong key of the right kind with MasterKeyMismatchError: both before
 * anything is written, instead of every unseal failing later as "corrupted".
 */
import { timingSafeEqual } from 'node:crypto';
import { FileMasterKey, type MasterKeyKind, type MasterKeySealer } from './masterKeySealer.js';

const CHECK_TEXT = Buffer.from('coffer/kms/v1/master-key-check');
const CHECK_AAD = Buffer.from('coffer/kms/v1/master-key-check/aad');

export interface CheckMeta {
  masterKind?: MasterKeyKind;
  kcv?: string;
  sealCheck?: string;
}

export class MasterKeyMismatchError extends Error {
  constructor(dir: string) {
    super(
      `The KMS master key does not match the key store in ${dir} (key check value mismatch). ` +
        'Start Coffer with the master key this store was created with (COFFER_MASTER_KEY, the key file, or the PKCS#11 key); ' +
        'with a different key every stored root key would be unreadable.',
    );
    this.name = 'MasterKeyMismatchError';
  }
}

export class MasterKeyKindError extends Error {
  constructor(
    dir: string,
    readonly stored: MasterKeyKind,
    readonly configured: MasterKeyKind,
  ) {
    super(
      `The KMS key store in ${dir} is sealed under the ${describe(stored)}, but Coffer is configured with the ` +
        `${describe(configured)}. Configure the ${describe(stored)} again, or move the store with ` +
        `\`coffer kms master-key migrate --to ${configured}\` while the server is stopped.`,
    );
    this.name = 'MasterKeyKindError';
  }
}

function describe(kind: MasterKeyKind): string {
  return kind === 'pkcs11'
    ? 'PKCS#11 token key (COFFER_PKCS11_MODULE)'
    : 'file master key (COFFER_MASTER_KEY or its file)';
}

/** The check entries for a store sealed by `sealer` (a new store, or the end of a migration). */
export async function checkEntries(sealer: MasterKeySealer): Promise<CheckMeta> {
  if (sealer instanceof FileMasterKey) return { kcv: sealer.checkValue().toString('base64') };
  return { masterKind: sealer.kind, sealCheck: (await sealer.seal(CHECK_TEXT, CHECK_AAD)).toString('base64') };
}

/** True when the store has any check entry (else it is new, or damaged if it holds sealed versions). */
export function hasCheck(meta: CheckMeta): boolean {
  return meta.kcv !== undefined || meta.sealCheck !== undefined;
}

/** Throws MasterKeyKindError or MasterKeyMismatchError unless `sealer` is the key the store was sealed under. */
export async function verifyMasterKey(dir: string, meta: CheckMeta, sealer: MasterKeySealer): Promise<void> {
  const stored = meta.masterKind ?? 'file';
  if (stored !== sealer.kind) throw new MasterKeyKindError(dir, stored, sealer.kind);
  if (sealer instanceof FileMasterKey) {
    if (meta.kcv === undefined) throw new MasterKeyMismatchError(dir);
    const got = Buffer.from(meta.kcv, 'base64');
    const want = sealer.checkValue();
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new MasterKeyMismatchError(dir);
    return;
  }
  if (meta.sealCheck === undefined) throw new MasterKeyMismatchError(dir);
  const out = await sealer.unseal(Buffer.from(meta.sealCheck, 'base64'), CHECK_AAD);
  if (!out || !out.equals(CHECK_TEXT)) throw new MasterKeyMismatchError(dir);
}
