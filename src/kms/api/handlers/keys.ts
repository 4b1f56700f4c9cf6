/**
 * Key resources (key-protect.md 2.3-2.5, 2.7): create (generated, plain
 * import, secure import with an import token), list, count, get, metadata,
 * patch, delete, purge, restore, versions, aliases.
 */
import { KmsError } from '../../../keys/errors.js';
import type { KeyResource } from '../../keyView.js';
import { authorize, type ApiOperation } from '../access.js';
import { actor, type ApiRequest, type Reply } from '../context.js';
import { invalidField, unauthorized } from '../errors.js';
import { DEFAULT_KEY_RING } from '../../instanceState.js';
import {
  asObject,
  envelope,
  onlyFields,
  onlyQuery,
  optBase64,
  optBool,
  optString,
  optStringArray,
  parseEnvelope,
  qBool,
  qInt,
  qIntList,
  qString,
  type Json,
} from '../schema.js';
import { checkKeyRing, json, keyParam, keys, MEDIA, noContent, withoutPayload } from './common.js';

const CREATE_FIELDS = [
  'type',
  'name',
  'description',
  'aliases',
  'expirationDate',
  'extractable',
  'keyRingID',
  'payload',
  'encryptedNonce',
  'iv',
  'encryptionAlgorithm',
];

/** Material for a create or rotate: plain base64 `payload`, or a secure import under the instance's import token. */
export function materialFrom(r: ApiRequest, res: Json): Buffer | undefined {
  const payload = optBase64(res, 'payload', 'base64 encoded key material');
  const encryptedNonce = optBase64(res, 'encryptedNonce');
  const iv = optBase64(res, 'iv');
  if (encryptedNonce === undefined && iv === undefined) {
    if (res.encryptionAlgorithm !== undefined) throw invalidField('encryptedNonce', 'given with encryptionAlgorithm');
    return payload;
  }
  if (!payload || !encryptedNonce || !iv)
    throw invalidField(
      payload ? (encryptedNonce ? 'iv' : 'encryptedNonce') : 'payload',
      'given for a secure import (payload, encryptedNonce and iv)',
    );
  const algorithm = optString(res, 'encryptionAlgorithm');
  return r.deps.importTokens.open(r.instance.id, {
    payload,
    encryptedNonce,
    iv,
    ...(algorithm !== undefined ? { encryptionAlgorithm: algorithm } : {}),
  });
}

export async function createKey(r: ApiRequest, withPolicies = false): Promise<Reply> {
  await authorize(r, 'createKey');
  const [res] = parseEnvelope(r.body, [MEDIA.key]) as [Json];
  onlyFields(res, withPolicies ? [...CREATE_FIELDS, 'dualAuthDelete', 'rotation'] : CREATE_FIELDS);
  if (res.type !== undefined && res.type !== MEDIA.key) throw invalidField('type', MEDIA.key);
  const bodyRing = optString(res, 'keyRingID');
  if (bodyRing !== undefined && r.keyRing !== undefined && bodyRing !== r.keyRing) {
    throw new KmsError(
      'BODY_QUERY_PARAM_MISMATCH_ERR',
      'The keyRingID in the body differs from the x-kms-key-ring header',
    );
  }
  const keyRingID = bodyRing ?? r.keyRing ?? DEFAULT_KEY_RING;
  r.deps.keyRings.assertExists(r.instance.id, keyRingID);
  const extractable = optBool(res, 'extractable') ?? false;
  r.deps.policies.assertCreateImportAccess(r.instance.id, {
    extractable,
    imported: res.payload !== undefined,
    secure: res.encryptedNonce !== undefined,
  });
  const material = materialFrom(r, res);
  const expirationDate = res.expirationDate;
  if (expirationDate !== undefined && typeof expirationDate !== 'string')
    throw invalidField('expirationDate', 'an RFC 3339 date');
  let key: KeyResource;
  try {
    key = await r.deps.service.createKey(
      r.instance.id,
      {
        name: res.name as string,
        extractable,
        keyRingID,
        ...(res.description !== undefined ? { description: res.description as string } : {}),
        ...(optStringArray(res, 'aliases') ? { aliases: res.aliases as string[] } : {}),
        ...(expirationDate !== undefined ? { expirationDate } : {}),
        ...(material ? { payload: material } : {}),
      },
      actor(r),
    );
  } finally {
    material?.fill(0);
  }
  r.audit.key = key.id;
  r.audit.version = key.keyVersion.id;
  await applyCreatePolicies(r, key, withPolicies ? res : undefined);
  const out =
    extractable && r.prefer !== 'minimal'
      ? await r.deps.service.getKey(r.instance.id, key.id)
      : await r.deps.service.getKeyMetadata(r.instance.id, key.id);
  return keys(201, [r.prefer === 'minimal' ? withoutPayload(out) : out]);
}

/** The request's policy overrides (keys_with_policy_overrides), then the instance policies that apply to new keys. */
async function applyCreatePolicies(r: ApiRequest, key: KeyResource, overrides: Json | undefined): Promise<void> {
  const { policies } = r.deps;
  const by = actor(r);
  const dual =
    overrides?.dualAuthDelete !== undefined ? asObject(overrides.dualAuthDelete, 'dualAuthDelete') : undefined;
  const rot = overrides?.rotation !== undefined ? asObject(overrides.rotation, 'rotation') : undefined;
  if (dual) onlyFields(dual, ['enabled'], 'dualAuthDelete');
  if (rot) onlyFields(rot, ['enabled', 'interval_month'], 'rotation');
  const dualEnabled = dual ? optBool(dual, 'enabled') : undefined;
  await policies.applyDualAuthDelete(
    r.instance.id,
    key,
    dual ? (dualEnabled !== undefined ? { enabled: dualEnabled } : {}) : undefined,
    by,
  );
  if (key.extractable) return;
  let requested: { enabled: boolean; intervalMonth: number } | undefined;
  if (rot) {
    const interval = rot.interval_month;
    if (typeof interval !== 'number') throw invalidField('interval_month', 'an integer from 1 to 12');
    requested = { enabled: optBool(rot, 'enabled') ?? true, intervalMonth: interval };
  }
  await policies.applyRotation(r.instance.id, key, requested, by);
}

/** GET /keys and HEAD /keys. Keys a caller reaches only through key-level policies are omitted (key-protect.md 2.5). */
async function listFor(r: ApiRequest, allowed: readonly string[]): Promise<{ keys: KeyResource[]; total: number }> {
  onlyQuery(r.query, allowed);
  try {
    await authorize(r, 'listKeys');
  } catch (e) {
    if (
      !(e instanceof KmsError && e.status === 401) ||
      r.tenant !== undefined ||
      !r.deps.access.hasKeyLevelPolicies(r.caller.identity, r.instance.id)
    )
      throw e;
    r.authorized = true;
    return { keys: [], total: 0 };
  }
  const q = r.query;
  const state = qIntList(q, 'state');
  const extractable = qBool(q, 'extractable');
  const limit = qInt(q, 'limit');
  const offset = qInt(q, 'offset');
  const search = qString(q, 'search');
  const sort = qString(q, 'sort');
  return r.deps.service.listKeys(r.instance.id, {
    ...(state ? { state } : {}),
    ...(extractable !== undefined ? { extractable } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(search !== undefined ? { search } : {}),
    ...(sort !== undefined ? { sort } : {}),
    ...(r.keyRing !== undefined ? { keyRingID: r.keyRing } : {}),
  });
}

export async function listKeys(r: ApiRequest): Promise<Reply> {
  const { keys: list, total } = await listFor(r, [
    'limit',
    'offset',
    'state',
    'extractable',
    'search',
    'sort',
    'totalCount',
  ]);
  return keys(200, list, qBool(r.query, 'totalCount') ? { totalCount: total } : {});
}

export async function keyTotal(r: ApiRequest): Promise<Reply> {
  const { total } = await listFor(r, ['state', 'extractable', 'search']);
  return { status: 200, headers: { 'key-total': String(total) } };
}

/** GET /keys/{id}: a standard key's payload needs ReaderPlus; a root key never has one. */
export async function getKey(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  const id = keyParam(r);
  const keyId = await authorize(r, 'getKeyMetadata', id);
  await checkKeyRing(r, keyId);
  const meta = await r.deps.service.getKeyMetadata(r.instance.id, id);
  if (!meta.extractable) return keys(200, [meta]);
  await authorize(r, 'getKeyWithPayload', id);
  return keys(200, [await r.deps.service.getKey(r.instance.id, id)]);
}

export async function getKeyMetadata(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  const id = keyParam(r);
  await checkKeyRing(r, await authorize(r, 'getKeyMetadata', id));
  return keys(200, [await r.deps.service.getKeyMetadata(r.instance.id, id)]);
}

/** PATCH /keys/{id} {keyRingID}: move the key to another ring. */
export async function patchKey(r: ApiRequest): Promise<Reply> {
  const id = keyParam(r);
  const keyId = await authorize(r, 'patchKey', id);
  await checkKeyRing(r, keyId);
  const body = r.body ?? {};
  onlyFields(body, ['keyRingID'], 'the request body');
  const ring = optString(body, 'keyRingID');
  if (ring === undefined) throw invalidField('keyRingID', 'the id of the key ring to move the key to');
  await r.deps.keyRings.moveKey(r.instance.id, id, ring);
  return keys(200, [await r.deps.service.getKeyMetadata(r.instance.id, id)]);
}

export async function deleteKey(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, ['force']);
  const id = keyParam(r);
  await checkKeyRing(r, await authorize(r, 'delete', id));
  const force = qBool(r.query, 'force') ?? false;
  const key = await r.deps.service.deleteKey(r.instance.id, id, { force, by: actor(r) });
  return r.prefer === 'representation' ? keys(200, [key]) : noContent();
}

export async function purgeKey(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  const id = keyParam(r);
  await checkKeyRing(r, await authorize(r, 'purge', id));
  return keys(200, [await r.deps.service.purge(r.instance.id, id)]);
}

export async function restoreKey(r: ApiRequest): Promise<Reply> {
  const id = keyParam(r);
  await checkKeyRing(r, await authorize(r, 'restore', id));
  const key = await r.deps.service.restore(r.instance.id, id);
  return r.prefer === 'minimal' ? { status: 201 } : keys(201, [key]);
}

export async function listVersions(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, ['limit', 'offset', 'totalCount', 'allKeyStates']);
  const id = keyParam(r);
  await checkKeyRing(r, await authorize(r, 'listVersions', id));
  const limit = qInt(r.query, 'limit');
  const offset = qInt(r.query, 'offset');
  const allKeyStates = qBool(r.query, 'allKeyStates');
  const { versions, total } = await r.deps.service.listVersions(r.instance.id, id, {
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(allKeyStates !== undefined ? { allKeyStates } : {}),
  });
  return json(200, envelope(MEDIA.keyVersion, versions, qBool(r.query, 'totalCount') ? { totalCount: total } : {}));
}

async function aliasOp(r: ApiRequest, op: ApiOperation & ('createAlias' | 'deleteAlias')): Promise<Reply> {
  const id = keyParam(r);
  const alias = r.params.alias;
  if (!alias) throw unauthorized();
  await checkKeyRing(r, await authorize(r, op, id));
  if (op === 'deleteAlias') {
    await r.deps.service.deleteAlias(r.instance.id, id, alias);
    return noContent();
  }
  return json(201, envelope(MEDIA.alias, [await r.deps.service.createAlias(r.instance.id, id, alias, actor(r))]));
}

export const createAlias = (r: ApiRequest): Promise<Reply> => aliasOp(r, 'createAlias');
export const deleteAlias = (r: ApiRequest): Promise<Reply> => aliasOp(r, 'deleteAlias');
