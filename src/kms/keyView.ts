/**
 * Stored records -> the resource shapes of the Key Protect v2 API
 * (key-protect.md 2.4 "Response resource fields", 1.6 registration object), with
 * dates as RFC 3339 strings. The REST layer wraps these in the collection
 * envelope unchanged.
 */
import type { KeyState } from '../keys/KeyProvider.js';
import { effectiveState, keyCrnOf, newestVersion, TIMING } from './kmsContext.js';
import type { InstanceRecord, KeyRecord, RegistrationRecord } from './records.js';

export const KEY_MEDIA_TYPE = 'application/vnd.ibm.kms.key+json';

export interface KeyVersionRef {
  id: string;
  creationDate: string;
}

export interface KeyResource {
  type: typeof KEY_MEDIA_TYPE;
  id: string;
  name: string;
  aliases: string[];
  description?: string;
  crn: string;
  keyRingID: string;
  state: KeyState;
  extractable: boolean;
  imported: boolean;
  createdBy: string;
  creationDate: string;
  lastUpdateDate: string;
  lastRotateDate?: string;
  expirationDate?: string;
  keyVersion: KeyVersionRef;
  dualAuthDelete: { enabled: boolean; keySetForDeletion?: boolean; authExpiration?: string };
  rotation?: { enabled: boolean; interval_month: number };
  /** Deprecated in Key Protect, still returned. */
  algorithmType: 'AES';
  algorithmMetadata: { bitLength: string; mode: string };
  algorithmBitSize: number;
  algorithmMode: string;
  deleted: boolean;
  deletedBy?: string;
  deletionDate?: string;
  restoreAllowed?: boolean;
  restoreExpirationDate?: string;
  purgeAllowed?: boolean;
  purgeAllowedFrom?: string;
  purgeScheduledOn?: string;
  /** Standard keys only, and only from getKey (never from metadata or lists). Base64. */
  payload?: string;
}

export interface RegistrationResource {
  keyId: string;
  resourceCrn: string;
  createdBy: string;
  creationDate: string;
  updatedBy: string;
  lastUpdated: string;
  description?: string;
  preventKeyDeletion: boolean;
  keyVersion: KeyVersionRef;
  /** Only for the registering service; the REST layer must not show it to users. */
  registrationMetadata?: string;
  /** Coffer's addition, likewise only for the registering service: where events are POSTed. */
  webhook?: { url: string };
}

/** RFC 3339 in UTC without milliseconds, as Key Protect prints dates. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toKeyResource(instance: InstanceRecord, key: KeyRecord, now: number): KeyResource {
  const v = newestVersion(key);
  const bits = key.materialBits;
  const out: KeyResource = {
    type: KEY_MEDIA_TYPE,
    id: key.id,
    name: key.name,
    aliases: [...key.aliases],
    crn: keyCrnOf(instance, key.id),
    keyRingID: key.keyRingID,
    state: effectiveState(key, now),
    extractable: key.extractable,
    imported: key.imported,
    createdBy: key.createdBy,
    creationDate: iso(key.creationDate),
    lastUpdateDate: iso(key.lastUpdateDate),
    keyVersion: { id: v.id, creationDate: iso(v.creationDate) },
    dualAuthDelete: { enabled: key.policies.dualAuthDelete?.enabled ?? false },
    algorithmType: 'AES',
    algorithmMetadata: { bitLength: String(bits), mode: 'CBC_PAD' },
    algorithmBitSize: bits,
    algorithmMode: 'CBC_PAD',
    deleted: key.deletion !== undefined,
  };
  if (key.description !== undefined) out.description = key.description;
  if (key.lastRotateDate !== undefined) out.lastRotateDate = iso(key.lastRotateDate);
  if (key.expirationDate !== undefined) out.expirationDate = iso(key.expirationDate);
  if (key.policies.rotation)
    out.rotation = { enabled: key.policies.rotation.enabled, interval_month: key.policies.rotation.intervalMonth };
  const pending = key.dualAuthPending;
  if (out.dualAuthDelete.enabled && pending && now < pending.expiresAt) {
    out.dualAuthDelete = { enabled: true, keySetForDeletion: true, authExpiration: iso(pending.expiresAt) };
  } else if (out.dualAuthDelete.enabled) {
    out.dualAuthDelete = { enabled: true, keySetForDeletion: false };
  }
  if (key.deletion) {
    const d = key.deletion.deletionDate;
    out.deletedBy = key.deletion.deletedBy;
    out.deletionDate = iso(d);
    out.restoreAllowed = now < d + TIMING.restoreWindowMs;
    out.restoreExpirationDate = iso(d + TIMING.restoreWindowMs);
    out.purgeAllowed = now >= d + TIMING.purgeAfterMs;
    out.purgeAllowedFrom = iso(d + TIMING.purgeAfterMs);
    out.purgeScheduledOn = iso(d + TIMING.autoPurgeAfterMs);
  }
  return out;
}

export function toRegistrationResource(r: RegistrationRecord): RegistrationResource {
  const out: RegistrationResource = {
    keyId: r.keyId,
    resourceCrn: r.resourceCrn,
    createdBy: r.createdBy,
    creationDate: iso(r.creationDate),
    updatedBy: r.updatedBy,
    lastUpdated: iso(r.lastUpdated),
    preventKeyDeletion: r.preventKeyDeletion,
    keyVersion: { id: r.keyVersion.id, creationDate: iso(r.keyVersion.creationDate) },
  };
  if (r.description !== undefined) out.description = r.description;
  if (r.registrationMetadata !== undefined) out.registrationMetadata = r.registrationMetadata;
  // The secret is never shown back; the URL is private to the service like registrationMetadata.
  if (r.webhook !== undefined) out.webhook = { url: r.webhook.url };
  return out;
}
