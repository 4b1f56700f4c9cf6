/**
 * `coffer kms keys import <name> --key-file FILE`: secure import of a root key
 * (key-protect.md 2.4) done as Key Protect's clients do it. The CLI takes the
 * instance's import token (creating one when there is none or it is used up),
 * encrypts the key material with the token's RSA public key (RSA-OAEP,
 * SHA-256) and seals the token's nonce with AES-GCM under the material itself,
 * so the material crosses the wire only under the token and the KMS can tell
 * the request was made for this token.
 *
 * The material is read from a file, never from an argument (arguments are
 * visible to every user of the machine in the process list), and its buffers
 * are zeroed once sent.
 */
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CliError, str, UsageError } from './args.js';
import type { ApiClient } from './client.js';
import { one, print, type Subcommand } from './commandKit.js';

const KEY_TYPE = 'application/vnd.ibm.kms.key+json';
const SIZES = new Set([16, 24, 32]);
const USAGE = 'coffer kms keys import <name> --key-file FILE [--key-ring RING] [--description TEXT]';

interface Token {
  payload: string;
  nonce: string;
}

/**
 * The key material in a key file: base64 text (what `openssl rand -base64 32`
 * writes) when the file is that, else the raw bytes. Base64 is tried first
 * since its length can be a key size too (24 bytes encode to 32 characters);
 * random raw bytes are base64 characters only by a chance of 4^-16 or less.
 */
export function materialOf(file: Buffer): Buffer {
  const text = file.toString('latin1').trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text, 'base64');
    if (SIZES.has(decoded.length) && decoded.toString('base64') === text) return decoded;
    decoded.fill(0);
  }
  if (SIZES.has(file.length)) return Buffer.from(file);
  throw new UsageError('the key file must hold 16, 24 or 32 bytes of key material, raw or base64');
}

/** RSA-OAEP-SHA-256 of the material under the token's key, and the token's nonce sealed with AES-GCM under the material. */
export function sealForImport(material: Buffer, token: Token): { payload: string; encryptedNonce: string; iv: string } {
  const publicKey = createPublicKey(Buffer.from(token.payload, 'base64').toString('utf8'));
  const payload = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    material,
  );
  const iv = randomBytes(12);
  const cipher = createCipheriv(`aes-${material.length * 8}-gcm` as 'aes-256-gcm', material, iv);
  const sealed = Buffer.concat([
    cipher.update(Buffer.from(token.nonce, 'base64')),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return { payload: payload.toString('base64'), encryptedNonce: sealed.toString('base64'), iv: iv.toString('base64') };
}

/** The import token's public key and nonce; a new token when there is none, it expired or has no retrievals left. */
async function tokenOf(api: ApiClient): Promise<Token> {
  const get = () => api.call<Token>('GET', '/api/v2/import_token', { instance: true, idempotent: false });
  try {
    return await get();
  } catch (e) {
    if (!(e instanceof CliError) || !/IMPORT_TOKEN_(NOT_FOUND|EXPIRED)_ERR/.test(e.message)) throw e;
  }
  await api.call('POST', '/api/v2/import_token', { instance: true, body: {}, idempotent: false });
  return get();
}

export const IMPORT_COMMAND: Subcommand = {
  args: '<name> --key-file FILE [--key-ring RING] [--description TEXT]',
  positionals: 1,
  options: {
    'key-file': { type: 'string' },
    'key-ring': { type: 'string' },
    description: { type: 'string' },
  },
  async run(p, api, io) {
    const file = str(p, 'key-file');
    if (!file) throw new UsageError(`--key-file is required\nusage: ${USAGE}`);
    let raw: Buffer;
    try {
      raw = await readFile(file);
    } catch (e) {
      throw new UsageError(`cannot read the key file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let material: Buffer | undefined;
    try {
      material = materialOf(raw);
      const sealed = sealForImport(material, await tokenOf(api));
      const ring = str(p, 'key-ring');
      const description = str(p, 'description');
      const resource = {
        type: KEY_TYPE,
        name: p.positionals[0],
        extractable: false,
        ...sealed,
        encryptionAlgorithm: 'RSAES_OAEP_SHA_256',
        ...(ring !== undefined ? { keyRingID: ring } : {}),
        ...(description !== undefined ? { description } : {}),
      };
      const key = one<{ id: string; crn: string; imported?: boolean }>(
        await api.call('POST', '/api/v2/keys', {
          instance: true,
          body: { metadata: { collectionType: KEY_TYPE, collectionTotal: 1 }, resources: [resource] },
          headers: { prefer: 'return=representation' },
          idempotent: false,
        }),
      );
      print(io, p, key, () => `imported root key ${key.id}\nCRN: ${key.crn}\n`);
    } finally {
      raw.fill(0);
      material?.fill(0);
    }
  },
};
