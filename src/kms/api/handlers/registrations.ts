/**
 * Registrations (key-protect.md 1.6): list per key or across keys (Reader);
 * create, replace, update, delete only for service identities (users get 403
 * SERVICE_ONLY_ERR). `registrationMetadata` is private to the registering
 * service and is never shown to a user.
 */
import { KmsError } from '../../../keys/errors.js';
import type { RegistrationResource } from '../../keyView.js';
import type { RegistrationInput } from '../../registrations.js';
import { authorize, requireService } from '../access.js';
import { actor, type ApiRequest, type Reply } from '../context.js';
import { invalidField } from '../errors.js';
import {
  asObject,
  envelope,
  onlyFields,
  onlyQuery,
  optBool,
  optString,
  parseEnvelope,
  qBool,
  qInt,
  qString,
  type Json,
} from '../schema.js';
import { checkKeyRing, json, keyParam, MEDIA, noContent } from './common.js';

/** registrationMetadata only for the service that wrote the registration. */
function shown(r: ApiRequest, reg: RegistrationResource): RegistrationResource {
  if (r.caller.identity.kind === 'service' && reg.createdBy === r.caller.identity.id) return reg;
  const { registrationMetadata: _private, webhook: _hook, ...rest } = reg;
  return rest;
}

/** The CRN query is URL-encoded inside the query string; decode it once more when it still is. */
function crnQuery(r: ApiRequest): string | undefined {
  const q = qString(r.query, 'urlEncodedResourceCRNQuery');
  if (q === undefined || !q.includes('%')) return q;
  try {
    return decodeURIComponent(q);
  } catch {
    throw invalidField('urlEncodedResourceCRNQuery', 'a URL-encoded CRN', 'query_param');
  }
}

export async function listRegistrations(r: ApiRequest, perKey: boolean): Promise<Reply> {
  onlyQuery(r.query, ['limit', 'offset', 'preventKeyDeletion', 'urlEncodedResourceCRNQuery', 'totalCount']);
  const id = perKey ? keyParam(r) : undefined;
  const keyId = await authorize(r, 'listRegistrations', id);
  await checkKeyRing(r, keyId);
  const limit = qInt(r.query, 'limit');
  const offset = qInt(r.query, 'offset');
  const preventKeyDeletion = qBool(r.query, 'preventKeyDeletion');
  const resourceCrnQuery = crnQuery(r);
  const { registrations, total } = await r.deps.service.listRegistrations(r.instance.id, id, {
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(preventKeyDeletion !== undefined ? { preventKeyDeletion } : {}),
    ...(resourceCrnQuery !== undefined ? { resourceCrnQuery } : {}),
  });
  const list = registrations.map((g) => shown(r, g));
  return json(200, envelope(MEDIA.registration, list, qBool(r.query, 'totalCount') ? { totalCount: total } : {}));
}

function registrationInput(res: Json): RegistrationInput {
  onlyFields(res, [
    'description',
    'registrationMetadata',
    'preventKeyDeletion',
    'keyVersion',
    'keyVersionId',
    'webhook',
  ]);
  const out: RegistrationInput = {};
  const description = optString(res, 'description');
  const registrationMetadata = optString(res, 'registrationMetadata');
  const preventKeyDeletion = optBool(res, 'preventKeyDeletion');
  if (description !== undefined) out.description = description;
  if (registrationMetadata !== undefined) out.registrationMetadata = registrationMetadata;
  if (preventKeyDeletion !== undefined) out.preventKeyDeletion = preventKeyDeletion;
  let version = optString(res, 'keyVersionId');
  if (res.keyVersion !== undefined) {
    const kv = asObject(res.keyVersion, 'keyVersion');
    onlyFields(kv, ['id', 'creationDate'], 'keyVersion');
    version = optString(kv, 'id');
  }
  if (version !== undefined) out.keyVersion = version;
  if (res.webhook === null) out.webhook = null;
  else if (res.webhook !== undefined) {
    const w = asObject(res.webhook, 'webhook');
    onlyFields(w, ['url', 'secret'], 'webhook');
    out.webhook = { url: optString(w, 'url') ?? '', secret: optString(w, 'secret') ?? '' };
  }
  return out;
}

type WriteKind = 'create' | 'replace' | 'update' | 'delete';

export async function writeRegistration(r: ApiRequest, kind: WriteKind): Promise<Reply> {
  onlyQuery(r.query, []);
  requireService(r);
  const id = keyParam(r);
  const crn = r.params.crn;
  if (!crn) throw new KmsError('KEY_NOT_FOUND_ERR', 'Registration could not be found');
  await checkKeyRing(r, await authorize(r, 'writeRegistration', id));
  const { service } = r.deps;
  const inst = r.instance.id;
  if (kind === 'delete') {
    if (r.body !== undefined) onlyFields(r.body, [], 'the request body');
    await service.deleteRegistration(inst, id, crn);
    return noContent();
  }
  const input =
    r.body === undefined && kind === 'create'
      ? {}
      : registrationInput(parseEnvelope(r.body, [MEDIA.registrationInput])[0] as Json);
  const by = actor(r);
  const reg =
    kind === 'create'
      ? await service.createRegistration(inst, id, crn, input, by)
      : kind === 'replace'
        ? await service.replaceRegistration(inst, id, crn, input, by)
        : await service.updateRegistration(inst, id, crn, input, by);
  r.audit.version = reg.keyVersion.id;
  return json(kind === 'create' ? 201 : 200, envelope(MEDIA.registration, [reg]));
}
