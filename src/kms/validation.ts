/**
 * Input rules of Key Protect (key-protect.md 2.4-2.6, 1.6). Every failure is
 * 400 INVALID_FIELD_ERR naming the field, so the REST layer can pass it through.
 */
import { invalidField } from './encoding.js';
import { lpAll } from './lp.js';

export const LIMITS = {
  nameMin: 2,
  nameMax: 90,
  /** Key Protect's description limit (not in key-protect.md; KP API reference). */
  descriptionMax: 240,
  aliasesPerKey: 5,
  aliasesPerInstance: 1000,
  aadItemMaxChars: 255,
  /** Imported standard keys. */
  standardPayloadMaxBytes: 7500,
  /** A caller-supplied DEK for wrap: same cap as a standard key (inferred; KP does not document one). */
  wrapPlaintextMaxBytes: 7500,
  listLimitDefault: 200,
  listLimitMax: 5000,
  registrationDescriptionMax: 240,
  registrationMetadataMax: 1024,
} as const;

const CONTROL = /[\x00-\x1f\x7f]/;
const ALIAS = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESERVED_ALIASES = new Set([
  'key',
  'keys',
  'metadata',
  'policy',
  'policies',
  'registration',
  'registrations',
  'ring',
  'rings',
  'rotate',
  'wrap',
  'unwrap',
  'rewrap',
  'version',
  'versions',
  'allowed_ip',
]);
const KEY_RING_ID = /^[A-Za-z0-9-]{2,100}$/;
/** Account ids, regions and instance ids go into CRNs: no ':' or whitespace. */
const CRN_SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;
const REGION = /^[a-z0-9-]{1,64}$/;

export function validateName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    [...name].length < LIMITS.nameMin ||
    [...name].length > LIMITS.nameMax ||
    CONTROL.test(name)
  ) {
    throw invalidField('name', `a string of ${LIMITS.nameMin} to ${LIMITS.nameMax} characters`);
  }
  return name;
}

export function validateDescription(
  description: unknown,
  field = 'description',
  max: number = LIMITS.descriptionMax,
): string | undefined {
  if (description === undefined) return undefined;
  if (typeof description !== 'string' || [...description].length > max) {
    throw invalidField(field, `a string of at most ${max} characters`);
  }
  return description;
}

export function validateAlias(alias: unknown): string {
  if (
    typeof alias !== 'string' ||
    alias.length < LIMITS.nameMin ||
    alias.length > LIMITS.nameMax ||
    !ALIAS.test(alias) ||
    UUID.test(alias) ||
    RESERVED_ALIASES.has(alias.toLowerCase())
  ) {
    throw invalidField(
      'aliases',
      `${LIMITS.nameMin} to ${LIMITS.nameMax} letters, digits, '-' or '_', not a UUID and not a reserved word`,
    );
  }
  return alias;
}

export function validateAliases(aliases: unknown): string[] {
  if (aliases === undefined) return [];
  if (!Array.isArray(aliases)) throw invalidField('aliases', 'an array of strings');
  const out = aliases.map((a) => validateAlias(a));
  if (new Set(out).size !== out.length) throw invalidField('aliases', 'a list without duplicates');
  if (out.length > LIMITS.aliasesPerKey)
    throw invalidField('aliases', `at most ${LIMITS.aliasesPerKey} aliases per key`);
  return out;
}

export function validateKeyRingID(id: unknown): string {
  if (id === undefined) return 'default';
  if (typeof id !== 'string' || !KEY_RING_ID.test(id))
    throw invalidField('keyRingID', '2 to 100 letters, digits or hyphens');
  return id;
}

/** Root key material: 128, 192 or 256 bits. */
export function validateRootMaterial(material: Buffer): void {
  if (material.length !== 16 && material.length !== 24 && material.length !== 32) {
    throw invalidField('payload', 'base64 of 16, 24 or 32 bytes of key material for a root key');
  }
}

export function validateStandardMaterial(material: Buffer): void {
  if (material.length === 0 || material.length > LIMITS.standardPayloadMaxBytes) {
    throw invalidField('payload', `base64 of 1 to ${LIMITS.standardPayloadMaxBytes} bytes for a standard key`);
  }
}

export function validateExpiration(expirationDate: unknown, now: number): number | undefined {
  if (expirationDate === undefined) return undefined;
  const ms =
    typeof expirationDate === 'number'
      ? expirationDate
      : typeof expirationDate === 'string'
        ? Date.parse(expirationDate)
        : NaN;
  if (!Number.isFinite(ms) || ms <= now) throw invalidField('expirationDate', 'an RFC 3339 date in the future');
  return ms;
}

/**
 * The AAD list, framed for AES-GCM: lp(item1) ‖ lp(item2) ‖ ... so that
 * ["ab","c"] and ["a","bc"] differ. Key Protect does not store AAD; unwrap and
 * rewrap must present exactly the same list (an absent list equals []).
 */
export function frameAad(aad: unknown): Buffer {
  if (aad === undefined) return Buffer.alloc(0);
  if (!Array.isArray(aad)) throw invalidField('aad', 'an array of strings');
  for (const item of aad) {
    if (typeof item !== 'string' || [...item].length > LIMITS.aadItemMaxChars) {
      throw invalidField('aad', `an array of strings of at most ${LIMITS.aadItemMaxChars} characters each`);
    }
  }
  return lpAll(aad as string[]);
}

export function validateAccount(account: unknown): string {
  if (typeof account !== 'string' || !CRN_SAFE_ID.test(account)) {
    throw invalidField('account', "1 to 128 letters, digits, '.', '_' or '-'");
  }
  return account;
}

export function validateRegion(region: unknown): string {
  if (typeof region !== 'string' || !REGION.test(region))
    throw invalidField('region', "1 to 64 lower-case letters, digits or '-'");
  return region;
}

export function validateInstanceId(id: unknown): string {
  if (typeof id !== 'string' || !CRN_SAFE_ID.test(id))
    throw invalidField('instanceId', "1 to 128 letters, digits, '.', '_' or '-'");
  return id;
}

export function validatePaging(limit: unknown, offset: unknown): { limit: number; offset: number } {
  const l = limit === undefined ? LIMITS.listLimitDefault : limit;
  const o = offset === undefined ? 0 : offset;
  if (typeof l !== 'number' || !Number.isInteger(l) || l < 1 || l > LIMITS.listLimitMax) {
    throw invalidField('limit', `an integer from 1 to ${LIMITS.listLimitMax}`, 'query_param');
  }
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0)
    throw invalidField('offset', 'an integer >= 0', 'query_param');
  return { limit: l, offset: o };
}
