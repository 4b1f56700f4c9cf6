/**
 * Key actions (key-protect.md 2.3, 2.6, 2.7), on both paths:
 *   POST /api/v2/keys/{id}/actions/{action}   (current)
 *   POST /api/v2/keys/{id}?action={action}    (before Oct 2020)
 * Wrap/unwrap/rewrap bodies are not wrapped in the collection envelope.
 * Plaintext DEKs leave as base64 and their buffers are zeroed here.
 */
import { KmsError } from '../../../keys/errors.js';
import { authorize, type ApiOperation } from '../access.js';
import { actor, type ApiRequest, type Reply } from '../context.js';
import { invalidField } from '../errors.js';
import { onlyFields, onlyQuery, optBase64, optStringArray, requireBody, type Json } from '../schema.js';
import { checkKeyRing, json, keyParam, keys, noContent } from './common.js';
import { materialFrom, restoreKey } from './keys.js';

type Action =
  | 'wrap'
  | 'unwrap'
  | 'rewrap'
  | 'rotate'
  | 'disable'
  | 'enable'
  | 'setKeyForDeletion'
  | 'unsetKeyForDeletion'
  | 'sync'
  | 'restore';

const OPS: Record<Action, ApiOperation> = {
  wrap: 'wrap',
  unwrap: 'unwrap',
  rewrap: 'rewrap',
  rotate: 'rotate',
  disable: 'disable',
  enable: 'enable',
  setKeyForDeletion: 'setKeyForDeletion',
  unsetKeyForDeletion: 'unsetKeyForDeletion',
  sync: 'sync',
  restore: 'restore',
};

function isAction(a: string | undefined): a is Action {
  return a !== undefined && Object.prototype.hasOwnProperty.call(OPS, a);
}

/**
 * The audit log's name for a key action request: the action itself (`disable`,
 * `rotate`, `wrap`, ...), so each can be found by name; `keyAction` when the
 * request names none that exists (it then fails as an invalid field).
 */
export function keyActionName(raw: unknown, legacy: boolean): string {
  const a = typeof raw === 'string' ? raw : undefined;
  return isAction(a) && (legacy || a !== 'restore') ? a : 'keyAction';
}

/** The action named by the path or by `?action=` (legacy); restore only exists in the legacy form. */
export function actionOf(r: ApiRequest, legacy: boolean): Action {
  const raw = legacy ? r.query.action : r.params.action;
  const a = typeof raw === 'string' ? raw : undefined;
  if (!isAction(a) || (!legacy && a === 'restore')) {
    throw invalidField(
      'action',
      `one of ${Object.keys(OPS)
        .filter((x) => legacy || x !== 'restore')
        .join(', ')}`,
      legacy ? 'query_param' : 'field',
    );
  }
  return a;
}

function b64(buf: Buffer): string {
  try {
    return buf.toString('base64');
  } finally {
    buf.fill(0);
  }
}

async function wrap(r: ApiRequest, id: string): Promise<Reply> {
  const body = r.body ?? {};
  onlyFields(body, ['plaintext', 'aad'], 'the request body');
  const plaintext = optBase64(body, 'plaintext', 'a base64 encoded key to wrap');
  const aad = optStringArray(body, 'aad');
  try {
    const out = await r.deps.service.wrap(r.instance.id, id, {
      ...(plaintext ? { plaintext } : {}),
      ...(aad ? { aad } : {}),
    });
    r.audit.version = out.keyVersion.id;
    const res: Json = { ciphertext: out.ciphertext, keyVersion: out.keyVersion };
    if (out.plaintext) res.plaintext = b64(out.plaintext);
    return json(200, res);
  } finally {
    plaintext?.fill(0);
  }
}

function unwrapInput(r: ApiRequest): { ciphertext: string; aad?: string[] } {
  const body = requireBody(r.body);
  onlyFields(body, ['ciphertext', 'aad'], 'the request body');
  const ciphertext = body.ciphertext;
  if (typeof ciphertext !== 'string' || ciphertext === '')
    throw invalidField('ciphertext', 'the original base64 encoded ciphertext from the wrap operation');
  const aad = optStringArray(body, 'aad');
  return aad ? { ciphertext, aad } : { ciphertext };
}

async function unwrap(r: ApiRequest, id: string): Promise<Reply> {
  const out = await r.deps.service.unwrap(r.instance.id, id, unwrapInput(r));
  r.audit.version = out.keyVersion.id;
  const res: Json = { plaintext: b64(out.plaintext), keyVersion: out.keyVersion };
  if (out.ciphertext !== undefined && out.rewrappedKeyVersion !== undefined) {
    res.ciphertext = out.ciphertext;
    res.rewrappedKeyVersion = out.rewrappedKeyVersion;
  }
  return json(200, res);
}

async function rewrap(r: ApiRequest, id: string): Promise<Reply> {
  const out = await r.deps.service.rewrap(r.instance.id, id, unwrapInput(r));
  r.audit.version = out.rewrappedKeyVersion.id;
  return json(200, {
    ciphertext: out.ciphertext,
    keyVersion: out.keyVersion,
    rewrappedKeyVersion: out.rewrappedKeyVersion,
  });
}

async function rotate(r: ApiRequest, id: string): Promise<Reply> {
  const body = r.body ?? {};
  onlyFields(body, ['payload', 'encryptedNonce', 'iv', 'encryptionAlgorithm'], 'the request body');
  const material = materialFrom(r, body);
  try {
    const key = await r.deps.service.rotate(r.instance.id, id, {
      ...(material ? { payload: material } : {}),
      by: actor(r),
    });
    r.audit.version = key.keyVersion.id;
    return r.prefer === 'representation' ? keys(200, [key]) : noContent();
  } finally {
    material?.fill(0);
  }
}

/** Actions with no body: anything sent must be an empty object. */
function noBody(r: ApiRequest): void {
  if (r.body !== undefined) onlyFields(r.body, [], 'the request body');
}

export async function keyAction(r: ApiRequest, legacy: boolean): Promise<Reply> {
  onlyQuery(r.query, legacy ? ['action'] : []);
  const action = actionOf(r, legacy);
  const id = keyParam(r);
  if (action === 'restore') return restoreKey(r);
  await checkKeyRing(r, await authorize(r, OPS[action], id));
  const { service } = r.deps;
  const inst = r.instance.id;
  switch (action) {
    case 'wrap':
      return wrap(r, id);
    case 'unwrap':
      return unwrap(r, id);
    case 'rewrap':
      return rewrap(r, id);
    case 'rotate':
      return rotate(r, id);
    case 'disable':
      noBody(r);
      await service.disable(inst, id);
      return noContent();
    case 'enable':
      noBody(r);
      await service.enable(inst, id);
      return noContent();
    case 'setKeyForDeletion':
      noBody(r);
      await service.setKeyForDeletion(inst, id, actor(r));
      return noContent();
    case 'unsetKeyForDeletion':
      noBody(r);
      await service.unsetKeyForDeletion(inst, id);
      return noContent();
    case 'sync':
      noBody(r);
      await service.sync(inst, id);
      return noContent();
    default: {
      const never: never = action;
      throw new KmsError('INVALID_FIELD_ERR', `unknown action ${String(never)}`);
    }
  }
}
