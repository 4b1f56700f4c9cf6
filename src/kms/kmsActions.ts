/**
 * Wrap, unwrap, rewrap (key-protect.md 2.6, 3).
 *
 * Wrapped DEK ("ciphertext") = base64 of the JSON document
 *   {"ciphertext": b64(AES-GCM ct ‖ tag), "iv": b64(12 bytes), "version": "4.0.0", "handle": "<key version id>"}
 * encrypted under that version's material with AAD = lp(aad[0]) ‖ lp(aad[1]) ‖ ...
 * Wrap always uses the newest version; the handle tells unwrap which version to
 * use, so callers never store the version separately. Part of the stored format
 * of every bucket: never change it without a new "version".
 */
import { gcmOpen, gcmSeal, IV_SIZE } from '../crypto/aead.js';
import { TAG_SIZE } from '../crypto/format.js';
import { decodeBase64Strict, invalidField } from './encoding.js';
import { KmsError } from '../keys/errors.js';
import { assertAction, loadKey, newestVersion, type KmsContext, type LoadedKey } from './kmsContext.js';
import type { VersionMeta } from './records.js';
import { frameAad, LIMITS } from './validation.js';

export const CIPHERTEXT_FORMAT_VERSION = '4.0.0';
/** A generated DEK is 32 random bytes. */
export const GENERATED_DEK_BYTES = 32;
/** Retries when a key state change races an operation (see KmsContext.epoch). */
const MAX_EPOCH_RETRIES = 8;

export interface WrapInput {
  /** The DEK to wrap; omitted = the KMS generates a 32-byte DEK and returns it. */
  plaintext?: Buffer;
  aad?: string[];
}

export interface WrapResult {
  ciphertext: string;
  keyVersion: { id: string };
  /** Only when the KMS generated the DEK. The caller must zero it after use. */
  plaintext?: Buffer;
}

export interface UnwrapInput {
  ciphertext: string;
  aad?: string[];
}

export interface UnwrapResult {
  /** The caller must zero it after use. */
  plaintext: Buffer;
  /** Version that had wrapped the ciphertext. */
  keyVersion: { id: string };
  /** When the key was rotated since the wrap: the DEK rewrapped under the newest version. */
  ciphertext?: string;
  rewrappedKeyVersion?: { id: string };
}

export interface RewrapResult {
  ciphertext: string;
  keyVersion: { id: string };
  rewrappedKeyVersion: { id: string };
}

interface Envelope {
  ct: Buffer;
  iv: Buffer;
  handle: string;
}

function unprocessable(): KmsError {
  return new KmsError('UNPROCESSABLE_CIPHERTEXT_ERR', 'The provided ciphertext is invalid or corrupted');
}

export function encodeCiphertext(ct: Buffer, iv: Buffer, handle: string): string {
  const doc = {
    ciphertext: ct.toString('base64'),
    iv: iv.toString('base64'),
    version: CIPHERTEXT_FORMAT_VERSION,
    handle,
  };
  return Buffer.from(JSON.stringify(doc), 'utf8').toString('base64');
}

/** Not base64: 400 INVALID_FIELD_ERR (as KP); base64 of anything but our document: 422. */
export function decodeCiphertext(text: unknown): Envelope {
  const raw = typeof text === 'string' && text !== '' ? decodeBase64Strict(text) : undefined;
  if (!raw) throw invalidField('ciphertext', 'the original base64 encoded ciphertext from the wrap operation');
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw unprocessable();
  }
  if (typeof doc !== 'object' || doc === null) throw unprocessable();
  const d = doc as Record<string, unknown>;
  if (
    d.version !== CIPHERTEXT_FORMAT_VERSION ||
    typeof d.handle !== 'string' ||
    typeof d.ciphertext !== 'string' ||
    typeof d.iv !== 'string'
  ) {
    throw unprocessable();
  }
  const ct = decodeBase64Strict(d.ciphertext);
  const iv = decodeBase64Strict(d.iv);
  if (!ct || !iv || iv.length !== IV_SIZE || ct.length < TAG_SIZE) throw unprocessable();
  return { ct, iv, handle: d.handle };
}

/**
 * Runs `op` and redoes it if a key state change committed meanwhile, so that a
 * result is only ever returned for a state that is still current.
 */
async function epochChecked<T>(
  ctx: KmsContext,
  op: () => Promise<T>,
  discard: (out: T) => void = () => undefined,
): Promise<T> {
  for (let i = 0; i < MAX_EPOCH_RETRIES; i++) {
    const before = ctx.epoch;
    const out = await op();
    if (ctx.epoch === before) return out;
    discard(out);
  }
  throw new KmsError('KMS_UNAVAILABLE', 'Key state is changing too fast to complete the action; retry');
}

async function sealUnder(ctx: KmsContext, k: LoadedKey, v: VersionMeta, dek: Buffer, aad: Buffer): Promise<string> {
  const material = await ctx.store.openMaterial(k.instance.id, k.key.id, v.id);
  try {
    const iv = ctx.randomBytes(IV_SIZE);
    return encodeCiphertext(gcmSeal(material, iv, dek, aad), iv, v.id);
  } finally {
    material.fill(0);
  }
}

/** Opens an envelope with the version its handle names; 422 for anything that does not authenticate. */
async function openEnvelope(
  ctx: KmsContext,
  k: LoadedKey,
  env: Envelope,
  aad: Buffer,
): Promise<{ plaintext: Buffer; index: number }> {
  const index = k.key.versions.findIndex((v) => v.id === env.handle);
  if (index < 0) throw unprocessable();
  const material = await ctx.store.openMaterial(k.instance.id, k.key.id, env.handle);
  try {
    const plaintext = gcmOpen(material, env.iv, env.ct, aad);
    if (!plaintext) throw unprocessable();
    return { plaintext, index };
  } finally {
    material.fill(0);
  }
}

export async function wrap(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  input: WrapInput = {},
): Promise<WrapResult> {
  const aad = frameAad(input.aad);
  const given = input.plaintext;
  if (given !== undefined && (given.length === 0 || given.length > LIMITS.wrapPlaintextMaxBytes)) {
    throw invalidField('plaintext', `a base64 encoded key material of 1 to ${LIMITS.wrapPlaintextMaxBytes} bytes`);
  }
  return epochChecked(
    ctx,
    async () => {
      const k = await loadKey(ctx, instanceId, idOrAlias);
      assertAction(k, 'wrap');
      const v = newestVersion(k.key);
      const dek = given ?? ctx.randomBytes(GENERATED_DEK_BYTES);
      try {
        const ciphertext = await sealUnder(ctx, k, v, dek, aad);
        return given
          ? { ciphertext, keyVersion: { id: v.id } }
          : { ciphertext, keyVersion: { id: v.id }, plaintext: dek };
      } catch (e) {
        if (!given) dek.fill(0);
        throw e;
      }
    },
    zeroPlaintext,
  );
}

function zeroPlaintext(out: { plaintext?: Buffer }): void {
  out.plaintext?.fill(0);
}

export async function unwrap(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  input: UnwrapInput,
): Promise<UnwrapResult> {
  const aad = frameAad(input.aad);
  const env = decodeCiphertext(input.ciphertext);
  return epochChecked(
    ctx,
    async () => {
      const k = await loadKey(ctx, instanceId, idOrAlias);
      assertAction(k, 'unwrap');
      const { plaintext, index } = await openEnvelope(ctx, k, env, aad);
      try {
        const out: UnwrapResult = { plaintext, keyVersion: { id: env.handle } };
        if (index < k.key.versions.length - 1) {
          // Rotated since the wrap: hand back the DEK rewrapped under the newest version.
          const newest = newestVersion(k.key);
          out.ciphertext = await sealUnder(ctx, k, newest, plaintext, aad);
          out.rewrappedKeyVersion = { id: newest.id };
        }
        return out;
      } catch (e) {
        plaintext.fill(0);
        throw e;
      }
    },
    zeroPlaintext,
  );
}

export async function rewrap(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  input: UnwrapInput,
): Promise<RewrapResult> {
  const aad = frameAad(input.aad);
  const env = decodeCiphertext(input.ciphertext);
  return epochChecked(ctx, async () => {
    const k = await loadKey(ctx, instanceId, idOrAlias);
    assertAction(k, 'rewrap');
    const { plaintext } = await openEnvelope(ctx, k, env, aad);
    try {
      const newest = newestVersion(k.key);
      const ciphertext = await sealUnder(ctx, k, newest, plaintext, aad);
      return { ciphertext, keyVersion: { id: env.handle }, rewrappedKeyVersion: { id: newest.id } };
    } finally {
      // The DEK never leaves the KMS on rewrap.
      plaintext.fill(0);
    }
  });
}
