/**
 * Key rings (key-protect.md 2.5): every instance has `default`; up to 50 per
 * instance; a ring can be deleted only when it holds no key that is not
 * Destroyed, and with force=true its Destroyed keys move to `default`.
 */
import { KmsError } from '../../../keys/errors.js';
import { KeyState } from '../../../keys/KeyProvider.js';
import type { KmsContext } from '../../kmsContext.js';
import { withKey } from '../../kmsContext.js';
import type { KmsService } from '../../kmsService.js';
import { iso } from '../../keyView.js';
import { authorize } from '../access.js';
import { actor, type ApiRequest, type Reply } from '../context.js';
import { invalidField } from '../errors.js';
import { DEFAULT_KEY_RING, type KeyRingRecord } from '../instanceState.js';
import { envelope, onlyQuery, qBool, qInt } from '../schema.js';
import { json, MEDIA, noContent } from './common.js';

export const MAX_KEY_RINGS = 50;
const RING_ID = /^[A-Za-z0-9-]{2,100}$/;

/**
 * Changes a key's ring under the KMS service's own per-key lock, so it cannot
 * interleave with a lifecycle change of the same key. KmsService has no ring
 * operation yet; this reaches its context rather than writing the record
 * unlocked. (Move into KmsService as setKeyRing when that file is next changed.)
 */
export async function moveKeyToRing(service: KmsService, instanceId: string, idOrAlias: string, ring: string): Promise<void> {
  const ctx: KmsContext = service['ctx'];
  await withKey(ctx, instanceId, idOrAlias, async (k) => {
    if (k.key.keyRingID === ring) return;
    await ctx.store.batch().putKey({ ...k.key, keyRingID: ring, lastUpdateDate: ctx.now() }).write();
  });
}

function view(r: KeyRingRecord): { id: string; creationDate: string; createdBy: string } {
  return { id: r.id, creationDate: iso(r.creationDate), createdBy: r.createdBy };
}

function ringParam(r: ApiRequest): string {
  const id = r.params.ringId;
  if (!id || !RING_ID.test(id)) throw invalidField('key_ring_id', '2 to 100 letters, digits or hyphens', 'query_param');
  return id;
}

export async function listKeyRings(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, ['limit', 'offset', 'totalCount']);
  await authorize(r, 'listKeyRings');
  const all = r.deps.state.listKeyRings(r.instance.id, r.instance.createdAt);
  const limit = qInt(r.query, 'limit') ?? MAX_KEY_RINGS + 1;
  const offset = qInt(r.query, 'offset') ?? 0;
  const page = all.slice(offset, offset + limit).map(view);
  return json(200, envelope(MEDIA.keyRing, page, qBool(r.query, 'totalCount') ? { totalCount: all.length } : {}));
}

export async function createKeyRing(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  await authorize(r, 'createKeyRing');
  const id = ringParam(r);
  const { state } = r.deps;
  if (state.hasKeyRing(r.instance.id, id)) throw new KmsError('KEY_RING_EXISTS_ERR', `Key ring ${id} already exists`);
  if (state.listKeyRings(r.instance.id, r.instance.createdAt).length >= MAX_KEY_RINGS) {
    throw new KmsError('FEATURE_RESTRICTED_ERR', `An instance holds at most ${MAX_KEY_RINGS} key rings`);
  }
  const rec: KeyRingRecord = { instanceId: r.instance.id, id, createdBy: actor(r), creationDate: r.deps.now() };
  await state.putKeyRing(rec);
  return json(201, envelope(MEDIA.keyRing, [view(rec)]));
}

export async function deleteKeyRing(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, ['force']);
  await authorize(r, 'deleteKeyRing');
  const id = ringParam(r);
  const { state, service } = r.deps;
  if (id === DEFAULT_KEY_RING) throw new KmsError('FEATURE_RESTRICTED_ERR', 'The default key ring cannot be deleted');
  if (!state.hasKeyRing(r.instance.id, id)) throw new KmsError('KEY_RING_NOT_FOUND_ERR', `Key ring ${id} could not be found`);
  const inRing = (await service.store.listKeys(r.instance.id)).filter((k) => k.keyRingID === id);
  if (inRing.some((k) => k.state !== KeyState.Destroyed)) {
    throw new KmsError('KEY_RING_NOT_EMPTY_ERR', `Key ring ${id} holds keys that are not deleted`);
  }
  if (inRing.length > 0) {
    if (qBool(r.query, 'force') !== true) throw new KmsError('KEY_RING_NOT_EMPTY_ERR', `Key ring ${id} holds deleted keys: delete it with force=true to move them to ${DEFAULT_KEY_RING}`);
    for (const k of inRing) await moveKeyToRing(service, r.instance.id, k.id, DEFAULT_KEY_RING);
  }
  await state.deleteKeyRing(r.instance.id, id);
  return noContent();
}
