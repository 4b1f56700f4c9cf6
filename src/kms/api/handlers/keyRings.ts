/**
 * Key rings (key-protect.md 2.5): GET/POST/DELETE /key_rings[/{id}]. The rules
 * (the `default` ring, the limit, deleting only empty rings) are the core's
 * (src/kms/keyRings.ts).
 */
import type { KeyRingRecord } from '../../instanceState.js';
import { MAX_KEY_RINGS } from '../../keyRings.js';
import { iso } from '../../keyView.js';
import { authorize } from '../access.js';
import { actor, type ApiRequest, type Reply } from '../context.js';
import { invalidField } from '../errors.js';
import { envelope, onlyQuery, qBool, qInt } from '../schema.js';
import { json, MEDIA, noContent } from './common.js';

const RING_ID = /^[A-Za-z0-9-]{2,100}$/;

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
  const all = r.deps.keyRings.list(r.instance);
  const limit = qInt(r.query, 'limit') ?? MAX_KEY_RINGS + 1;
  const offset = qInt(r.query, 'offset') ?? 0;
  const page = all.slice(offset, offset + limit).map(view);
  return json(200, envelope(MEDIA.keyRing, page, qBool(r.query, 'totalCount') ? { totalCount: all.length } : {}));
}

export async function createKeyRing(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  await authorize(r, 'createKeyRing');
  const rec = await r.deps.keyRings.create(r.instance, ringParam(r), actor(r));
  return json(201, envelope(MEDIA.keyRing, [view(rec)]));
}

export async function deleteKeyRing(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, ['force']);
  await authorize(r, 'deleteKeyRing');
  const id = ringParam(r);
  await r.deps.keyRings.delete(r.instance, id, qBool(r.query, 'force') === true);
  return noContent();
}
