/**
 * What the embedded KMS persists (LevelDB, see keyStore.ts). Dates are epoch
 * milliseconds here; keyView.ts turns them into Key Protect's ISO strings.
 * No record holds key material: versions are sealed separately.
 */
import type { KeyState } from '../keys/KeyProvider.js';

export interface InstanceRecord {
  /** Instance GUID (the `bluemix-instance` header, CRN segment 8). */
  id: string;
  /** Account that owns the instance (CRN scope `a/<account>`). */
  account: string;
  region: string;
  name: string;
  createdAt: number;
}

export interface VersionMeta {
  id: string;
  creationDate: number;
}

export interface PolicyMeta {
  createdBy: string;
  creationDate: number;
  updatedBy: string;
  lastUpdateDate: number;
}

export interface RotationPolicy extends PolicyMeta {
  enabled: boolean;
  /** 1..12 months (key-protect.md 2.7). */
  intervalMonth: number;
}

export interface DualAuthDeletePolicy extends PolicyMeta {
  enabled: boolean;
}

export interface KeyPolicies {
  rotation?: RotationPolicy;
  dualAuthDelete?: DualAuthDeletePolicy;
}

export type LifecycleEventType = 'rotate' | 'disable' | 'enable' | 'delete' | 'restore' | 'purge';

/** Key states that are stored; Deactivated is derived from `expirationDate`. */
export type StoredKeyState = KeyState.Active | KeyState.Suspended | KeyState.Destroyed;

export interface KeyRecord {
  id: string;
  instanceId: string;
  name: string;
  description?: string;
  aliases: string[];
  keyRingID: string;
  /** true = standard key (payload readable), false = root key (wrap/unwrap). */
  extractable: boolean;
  /** Material supplied by the caller rather than generated. */
  imported: boolean;
  state: StoredKeyState;
  createdBy: string;
  creationDate: number;
  lastUpdateDate: number;
  lastRotateDate?: number;
  expirationDate?: number;
  /** Last disable/enable/delete/restore: enable and restore within 30 s of it are refused. */
  lastActionDate?: number;
  lastSyncDate?: number;
  /** The last lifecycle event, re-sent by actions/sync. */
  lastEvent?: { type: LifecycleEventType; at: number; keyVersion?: string };
  /** Oldest first; the last one wraps. The first version's id is the key id, as in Key Protect. */
  versions: VersionMeta[];
  /** Length of the newest version's material in bits (algorithm metadata). */
  materialBits: number;
  deletion?: { deletedBy: string; deletionDate: number };
  policies: KeyPolicies;
  /** Dual-auth delete: the first Manager's authorization, valid 7 days. */
  dualAuthPending?: { setBy: string; setAt: number; expiresAt: number };
}

export interface RegistrationRecord {
  instanceId: string;
  keyId: string;
  resourceCrn: string;
  createdBy: string;
  creationDate: number;
  updatedBy: string;
  lastUpdated: number;
  description?: string;
  /** Private to the registering service; never shown to the customer. */
  registrationMetadata?: string;
  preventKeyDeletion: boolean;
  keyVersion: VersionMeta;
  /** Where lifecycle events are POSTed, signed with the secret (webhooks.ts); never shown back. */
  webhook?: { url: string; secret: string };
}
