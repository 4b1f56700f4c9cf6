/**
 * Key rings (key-protect.md 2.5): every instance has `default`; up to 50 per
 * instance; a ring can be deleted only when it holds no key that is not
 * Destroyed, and with force it first moves its Destroyed keys to `default`.
 * The rings themselves are kept by InstanceStateStore; a key's ring is a field
 * of its record (KmsService.setKeyRing).
 */
import { KmsError } from '../keys/errors.js';
import { KeyState } from '../keys/KeyProvider.js';
import { DEFAULT_KEY_RING, type InstanceStateStore, type KeyRingRecord } from './instanceState.js';
import type { KmsService } from './kmsService.js';
import type { InstanceRecord } from './records.js';

export const MAX_KEY_RINGS = 50;

export class KeyRings {
  constructor(
    private readonly state: InstanceStateStore,
    private readonly service: KmsService,
    private readonly now: () => number,
  ) {}

  /** `default` first (its creation date is the instance's), then by creation. */
  list(instance: InstanceRecord): KeyRingRecord[] {
    return this.state.listKeyRings(instance.id, instance.createdAt);
  }

  async create(instance: InstanceRecord, id: string, by: string): Promise<KeyRingRecord> {
    if (this.state.hasKeyRing(instance.id, id))
      throw new KmsError('KEY_RING_EXISTS_ERR', `Key ring ${id} already exists`);
    if (this.list(instance).length >= MAX_KEY_RINGS) {
      throw new KmsError('FEATURE_RESTRICTED_ERR', `An instance holds at most ${MAX_KEY_RINGS} key rings`);
    }
    const rec: KeyRingRecord = { instanceId: instance.id, id, createdBy: by, creationDate: this.now() };
    await this.state.putKeyRing(rec);
    return rec;
  }

  async delete(instance: InstanceRecord, id: string, force: boolean): Promise<void> {
    if (id === DEFAULT_KEY_RING) throw new KmsError('FEATURE_RESTRICTED_ERR', 'The default key ring cannot be deleted');
    this.assertExists(instance.id, id);
    const inRing = (await this.service.store.listKeys(instance.id)).filter((k) => k.keyRingID === id);
    if (inRing.some((k) => k.state !== KeyState.Destroyed)) {
      throw new KmsError('KEY_RING_NOT_EMPTY_ERR', `Key ring ${id} holds keys that are not deleted`);
    }
    if (inRing.length > 0) {
      if (!force)
        throw new KmsError(
          'KEY_RING_NOT_EMPTY_ERR',
          `Key ring ${id} holds deleted keys: delete it with force=true to move them to ${DEFAULT_KEY_RING}`,
        );
      for (const k of inRing) await this.service.setKeyRing(instance.id, k.id, DEFAULT_KEY_RING);
    }
    await this.state.deleteKeyRing(instance.id, id);
  }

  /** 404 KEY_RING_NOT_FOUND_ERR unless the instance has the ring. */
  assertExists(instanceId: string, ring: string): void {
    if (!this.state.hasKeyRing(instanceId, ring))
      throw new KmsError('KEY_RING_NOT_FOUND_ERR', `Key ring ${ring} could not be found`);
  }

  /** PATCH /keys/{id}: to an existing ring only. */
  async moveKey(instanceId: string, idOrAlias: string, ring: string): Promise<void> {
    this.assertExists(instanceId, ring);
    await this.service.setKeyRing(instanceId, idOrAlias, ring);
  }

  /**
   * A request scoped to a ring (`x-kms-key-ring`) sees a key only when it lives
   * there: a key of another ring is 404, as if it did not exist.
   */
  async assertKeyInRing(instanceId: string, keyId: string, ring: string): Promise<void> {
    const rec = await this.service.store.getKey(instanceId, keyId);
    if (rec && rec.keyRingID !== ring)
      throw new KmsError('KEY_NOT_FOUND_ERR', `Key ${keyId} could not be found in key ring ${ring}`);
  }
}
