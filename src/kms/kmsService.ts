/**
 * KmsService: the embedded Key Protect. The REST API (src/kms/api/) and
 * LocalKeyProvider call this; it knows nothing of HTTP or IAM (callers check
 * roles first, see authorizer.ts). Every method takes the instance id (the
 * `bluemix-instance` header) and, for keys, a key id or alias, and throws
 * KmsError with Key Protect's status and reason codes.
 *
 * This file holds instances and key CRUD; state changes are in keyLifecycle.ts,
 * wrap/unwrap/rewrap in kmsActions.ts, registrations in registrations.ts.
 */
import { randomBytes as nodeRandomBytes, randomUUID } from 'node:crypto';
import { invalidField } from './encoding.js';
import { KmsError } from '../keys/errors.js';
import { KeyState } from '../keys/KeyProvider.js';
import { filterKeys, type ListKeysQuery } from './keyQuery.js';
import * as life from './keyLifecycle.js';
import { DEFAULT_ACTOR } from './keyLifecycle.js';
import type { KeyStore } from './keyStore.js';
import { iso, toKeyResource, type KeyResource, type KeyVersionRef } from './keyView.js';
import * as actions from './kmsActions.js';
import * as admin from './keyAdmin.js';
import {
  assertAction,
  bumpEpoch,
  getInstanceOr404,
  loadKey,
  TIMING,
  type KmsContext,
  type KmsEvent,
  type KmsEventListener,
} from './kmsContext.js';
import type { InstanceRecord, KeyRecord, VersionMeta } from './records.js';
import * as regs from './registrations.js';
import * as acks from './eventAcks.js';
import type { Delivery, FeedEvent, KeyEventFeed } from './keyEvents.js';
import {
  validateAccount,
  validateAliases,
  validateDescription,
  validateExpiration,
  validateInstanceId,
  validateKeyRingID,
  validateName,
  validatePaging,
  validateRegion,
  validateRootMaterial,
  validateStandardMaterial,
} from './validation.js';

export interface KmsServiceOptions {
  store: KeyStore;
  now?: () => number;
  randomBytes?: (n: number) => Buffer;
  /** Ids for keys and versions (UUID v4 by default). */
  newId?: () => string;
}

export interface CreateInstanceInput {
  account: string;
  region: string;
  name?: string;
  /** Instance GUID; generated when omitted. */
  id?: string;
}

export interface CreateKeyInput {
  name: string;
  description?: string;
  aliases?: string[];
  keyRingID?: string;
  /** false (default) = root key; true = standard key. */
  extractable?: boolean;
  /** Imported material (already base64-decoded): 16/24/32 bytes for a root key, up to 7,500 for a standard key. */
  payload?: Buffer;
  /** RFC 3339 string or epoch ms; the key turns Deactivated (3) then. */
  expirationDate?: string | number;
}

export class KmsService {
  private readonly listeners = new Set<KmsEventListener>();
  private readonly ctx: KmsContext;

  constructor(opts: KmsServiceOptions) {
    const random = opts.randomBytes ?? nodeRandomBytes;
    this.ctx = {
      store: opts.store,
      now: opts.now ?? Date.now,
      randomBytes: random,
      newId: opts.newId ?? randomUUID,
      locks: opts.store.locks,
      emit: (e) => this.emit(e),
      epoch: 0,
    };
  }

  /** Lifecycle events (rotate, disable, enable, delete, restore, purge), delivered synchronously after commit. */
  onEvent(listener: KmsEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A key state change read from the shared feed (pgKeyEvents.ts), made by
   * any process, this one included: the state epoch moves (an unwrap that read
   * the key before it is redone, see KmsContext.epoch) and the lifecycle event
   * reaches the listeners, so this process drops the key's cached DEKs as if
   * the change had been made here. (Twice for its own: dropping is idempotent.)
   */
  applyFeedEvent(ev: FeedEvent): void {
    if (ev.type === 'authorization_granted' || ev.type === 'authorization_revoked') return;
    if (ev.instanceId === undefined || ev.keyId === undefined || ev.keyCrn === undefined) return;
    bumpEpoch(this.ctx);
    this.emit({
      type: ev.type,
      instanceId: ev.instanceId,
      keyId: ev.keyId,
      crn: ev.keyCrn,
      ...(ev.keyVersion !== undefined ? { keyVersion: ev.keyVersion } : {}),
      at: ev.at,
    });
  }

  private emit(event: KmsEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A failing listener must not undo or fail a committed state change.
      }
    }
  }

  get store(): KeyStore {
    return this.ctx.store;
  }

  /** The durable key event feed (keyEvents.ts). */
  get events(): KeyEventFeed {
    return this.ctx.store.events;
  }

  /** A key's deliveries no registered service has acknowledged yet (eventAcks.ts). */
  outstandingEvents(instanceId: string, idOrAlias: string): Promise<Delivery[]> {
    return acks.listOutstanding(this.ctx, instanceId, idOrAlias);
  }

  /** event_ack: one delivery is acknowledged (and optionally its registration dropped). */
  acknowledgeEvent(instanceId: string, eventId: string, opts?: { deleteRegistration?: boolean }): Promise<Delivery> {
    return acks.acknowledge(this.ctx, instanceId, eventId, opts);
  }

  now(): number {
    return this.ctx.now();
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.ctx.store.close();
  }

  // ---- instances ----------------------------------------------------------

  async createInstance(input: CreateInstanceInput): Promise<InstanceRecord> {
    const rec: InstanceRecord = {
      id: input.id === undefined ? this.ctx.newId() : validateInstanceId(input.id),
      account: validateAccount(input.account),
      region: validateRegion(input.region),
      name: input.name ?? 'kms',
      createdAt: this.ctx.now(),
    };
    return this.ctx.locks.run(`instance/${rec.id}`, async () => {
      if (await this.ctx.store.getInstance(rec.id))
        throw invalidField('id', `an instance id not already in use (${rec.id} is)`);
      await this.ctx.store.batch().putInstance(rec).write();
      return rec;
    });
  }

  getInstance(instanceId: string): Promise<InstanceRecord> {
    return getInstanceOr404(this.ctx, instanceId);
  }

  /** Like getInstance, but undefined instead of 404. */
  findInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    return this.ctx.store.getInstance(instanceId);
  }

  /** True when a key with exactly this id (not an alias) exists, in any state. */
  async hasKeyId(instanceId: string, keyId: string): Promise<boolean> {
    return (await this.ctx.store.getKey(instanceId, keyId)) !== undefined;
  }

  async listInstances(account?: string): Promise<InstanceRecord[]> {
    const all = await this.ctx.store.listInstances();
    return account === undefined ? all : all.filter((i) => i.account === account);
  }

  // ---- keys ---------------------------------------------------------------

  async createKey(instanceId: string, input: CreateKeyInput, by: string = DEFAULT_ACTOR): Promise<KeyResource> {
    const instance = await getInstanceOr404(this.ctx, instanceId);
    const now = this.ctx.now();
    const extractable = input.extractable ?? false;
    if (typeof extractable !== 'boolean') throw invalidField('extractable', 'a boolean');
    const name = validateName(input.name);
    const description = validateDescription(input.description);
    const aliases = validateAliases(input.aliases);
    const keyRingID = validateKeyRingID(input.keyRingID);
    const expirationDate = validateExpiration(input.expirationDate, now);
    if (input.payload !== undefined) (extractable ? validateStandardMaterial : validateRootMaterial)(input.payload);
    const material = input.payload !== undefined ? Buffer.from(input.payload) : this.ctx.randomBytes(32);
    try {
      const id = this.ctx.newId();
      // The first version's id is the key id, as Key Protect reports it.
      const version: VersionMeta = { id, creationDate: now };
      const key: KeyRecord = {
        id,
        instanceId: instance.id,
        name,
        aliases,
        keyRingID,
        extractable,
        imported: input.payload !== undefined,
        state: KeyState.Active,
        createdBy: by,
        creationDate: now,
        lastUpdateDate: now,
        versions: [version],
        materialBits: material.length * 8,
        policies: {},
      };
      if (description !== undefined) key.description = description;
      if (expirationDate !== undefined) key.expirationDate = expirationDate;
      await this.ctx.locks.run(admin.aliasLock(instance.id), async () => {
        await admin.assertAliasesFree(this.ctx, instance.id, aliases);
        const b = this.ctx.store.batch().putKey(key).putVersion(instance.id, id, version, material);
        for (const a of aliases) b.putAlias(instance.id, a, id);
        await b.write();
      });
      return toKeyResource(instance, key, now);
    } finally {
      material.fill(0);
    }
  }

  /** GET /keys/{id}: the resource, with `payload` (base64) for standard keys. Needs ReaderPlus. */
  async getKey(instanceId: string, idOrAlias: string): Promise<KeyResource> {
    const k = await loadKey(this.ctx, instanceId, idOrAlias);
    assertAction(k, 'get');
    const out = toKeyResource(k.instance, k.key, this.ctx.now());
    if (k.key.extractable && k.state !== KeyState.Destroyed) {
      const m = await this.ctx.store.openMaterial(k.instance.id, k.key.id, out.keyVersion.id);
      out.payload = m.toString('base64');
      m.fill(0);
    }
    return out;
  }

  /** GET /keys/{id}/metadata: never a payload. Reader is enough. */
  async getKeyMetadata(instanceId: string, idOrAlias: string): Promise<KeyResource> {
    const k = await loadKey(this.ctx, instanceId, idOrAlias);
    assertAction(k, 'get');
    return toKeyResource(k.instance, k.key, this.ctx.now());
  }

  /** GET /keys (and HEAD /keys: `total`). Keys deleted over 90 days ago are not listed. */
  async listKeys(instanceId: string, q: ListKeysQuery = {}): Promise<{ keys: KeyResource[]; total: number }> {
    const instance = await getInstanceOr404(this.ctx, instanceId);
    const { limit, offset } = validatePaging(q.limit, q.offset);
    const now = this.ctx.now();
    const live = (await this.ctx.store.listKeys(instance.id)).filter(
      (k) => !k.deletion || now < k.deletion.deletionDate + TIMING.autoPurgeAfterMs,
    );
    const matched = filterKeys(live, q, now);
    return {
      keys: matched.slice(offset, offset + limit).map((k) => toKeyResource(instance, k, now)),
      total: matched.length,
    };
  }

  /**
   * GET /keys/{id}/versions, newest first. A deleted key's versions are listed
   * only with allKeyStates (otherwise 410, as for other uses of a deleted key).
   */
  async listVersions(
    instanceId: string,
    idOrAlias: string,
    q: { limit?: number; offset?: number; allKeyStates?: boolean } = {},
  ): Promise<{ versions: KeyVersionRef[]; total: number }> {
    const { limit, offset } = validatePaging(q.limit, q.offset);
    const k = await loadKey(this.ctx, instanceId, idOrAlias);
    assertAction(k, 'get');
    if (k.state === KeyState.Destroyed && !q.allKeyStates) {
      throw new KmsError('KEY_DELETED_ERR', 'Key has already been deleted: Please delete references to this key');
    }
    const all = [...k.key.versions].reverse().map((v) => ({ id: v.id, creationDate: iso(v.creationDate) }));
    return { versions: all.slice(offset, offset + limit), total: all.length };
  }

  // ---- aliases and policies (keyAdmin.ts) -----------------------------------

  createAlias(instanceId: string, idOrAlias: string, alias: string, by?: string): Promise<admin.AliasResource> {
    return admin.createAlias(this.ctx, instanceId, idOrAlias, alias, by);
  }
  deleteAlias(instanceId: string, idOrAlias: string, alias: string): Promise<void> {
    return admin.deleteAlias(this.ctx, instanceId, idOrAlias, alias);
  }
  getPolicies(instanceId: string, idOrAlias: string): Promise<admin.PolicyResource[]> {
    return admin.getPolicies(this.ctx, instanceId, idOrAlias);
  }
  setRotationPolicy(
    instanceId: string,
    idOrAlias: string,
    p: { enabled?: boolean; intervalMonth: number },
    by?: string,
  ): Promise<admin.PolicyResource[]> {
    return admin.setRotationPolicy(this.ctx, instanceId, idOrAlias, p, by);
  }
  setDualAuthDeletePolicy(
    instanceId: string,
    idOrAlias: string,
    p: { enabled: boolean },
    by?: string,
  ): Promise<admin.PolicyResource[]> {
    return admin.setDualAuthDeletePolicy(this.ctx, instanceId, idOrAlias, p, by);
  }
  /** Moves a key to another key ring; KeyRings (keyRings.ts) checks that the ring exists. */
  setKeyRing(instanceId: string, idOrAlias: string, ring: string): Promise<void> {
    return admin.setKeyRing(this.ctx, instanceId, idOrAlias, ring);
  }

  // ---- lifecycle (keyLifecycle.ts) -----------------------------------------

  rotate(instanceId: string, idOrAlias: string, input?: life.RotateInput): Promise<KeyResource> {
    return life.rotateKey(this.ctx, instanceId, idOrAlias, input);
  }
  disable(instanceId: string, idOrAlias: string): Promise<void> {
    return life.disableKey(this.ctx, instanceId, idOrAlias);
  }
  enable(instanceId: string, idOrAlias: string): Promise<void> {
    return life.enableKey(this.ctx, instanceId, idOrAlias);
  }
  deleteKey(instanceId: string, idOrAlias: string, input?: life.DeleteInput): Promise<KeyResource> {
    return life.deleteKey(this.ctx, instanceId, idOrAlias, input);
  }
  restore(instanceId: string, idOrAlias: string): Promise<KeyResource> {
    return life.restoreKey(this.ctx, instanceId, idOrAlias);
  }
  purge(instanceId: string, idOrAlias: string): Promise<KeyResource> {
    return life.purgeKey(this.ctx, instanceId, idOrAlias);
  }
  setKeyForDeletion(instanceId: string, idOrAlias: string, by?: string): Promise<void> {
    return life.setKeyForDeletion(this.ctx, instanceId, idOrAlias, by);
  }
  unsetKeyForDeletion(instanceId: string, idOrAlias: string): Promise<void> {
    return life.unsetKeyForDeletion(this.ctx, instanceId, idOrAlias);
  }
  sync(instanceId: string, idOrAlias: string): Promise<void> {
    return life.syncKey(this.ctx, instanceId, idOrAlias);
  }
  /** Auto-purge after 90 days and policy rotations; run it periodically. */
  sweep(): Promise<{ purged: number; rotated: number }> {
    return life.sweep(this.ctx);
  }

  // ---- key actions (kmsActions.ts) -----------------------------------------

  wrap(instanceId: string, idOrAlias: string, input?: actions.WrapInput): Promise<actions.WrapResult> {
    return actions.wrap(this.ctx, instanceId, idOrAlias, input);
  }
  unwrap(instanceId: string, idOrAlias: string, input: actions.UnwrapInput): Promise<actions.UnwrapResult> {
    return actions.unwrap(this.ctx, instanceId, idOrAlias, input);
  }
  rewrap(instanceId: string, idOrAlias: string, input: actions.UnwrapInput): Promise<actions.RewrapResult> {
    return actions.rewrap(this.ctx, instanceId, idOrAlias, input);
  }

  // ---- registrations (registrations.ts) ------------------------------------

  createRegistration(
    instanceId: string,
    idOrAlias: string,
    resourceCrn: string,
    input?: regs.RegistrationInput,
    by?: string,
  ) {
    return regs.createRegistration(this.ctx, instanceId, idOrAlias, resourceCrn, input, by);
  }
  replaceRegistration(
    instanceId: string,
    idOrAlias: string,
    resourceCrn: string,
    input?: regs.RegistrationInput,
    by?: string,
  ) {
    return regs.replaceRegistration(this.ctx, instanceId, idOrAlias, resourceCrn, input, by);
  }
  updateRegistration(
    instanceId: string,
    idOrAlias: string,
    resourceCrn: string,
    input: regs.RegistrationInput,
    by?: string,
  ) {
    return regs.updateRegistration(this.ctx, instanceId, idOrAlias, resourceCrn, input, by);
  }
  deleteRegistration(
    instanceId: string,
    idOrAlias: string,
    resourceCrn: string,
    opts?: { ignoreMissing?: boolean },
  ): Promise<void> {
    return regs.deleteRegistration(this.ctx, instanceId, idOrAlias, resourceCrn, opts);
  }
  /** One key's registrations, or (idOrAlias undefined) those of every key in the instance. */
  listRegistrations(instanceId: string, idOrAlias: string | undefined, q?: regs.ListRegistrationsQuery) {
    return regs.listRegistrations(this.ctx, instanceId, idOrAlias, q);
  }
}

export type { KmsEvent, KmsEventListener } from './kmsContext.js';
export type { ListKeysQuery } from './keyQuery.js';
export type { AliasResource, PolicyResource } from './keyAdmin.js';
