/**
 * Registrations: links between a root key and the resources it protects
 * (key-protect.md 1.6). A key with registrations cannot be deleted without
 * force, and not even with force while a registration has preventKeyDeletion
 * (keyLifecycle.ts). Create/replace/update need an Active root key; delete needs
 * Active or Suspended (and Deactivated, see keyStates.ts); list works in any state.
 *
 * Creating a registration that already exists updates it instead of failing:
 * Key Protect does not document that case, and it makes the gateway's
 * register-at-CreateBucket idempotent under retries.
 */
import { assertResourceCrn } from '../keys/crn.js';
import { invalidField } from './encoding.js';
import { KmsError } from '../keys/errors.js';
import {
  assertAction,
  getInstanceOr404,
  loadKey,
  newestVersion,
  notFound,
  withKey,
  type KmsContext,
  type LoadedKey,
} from './kmsContext.js';
import { DEFAULT_ACTOR } from './keyLifecycle.js';
import { toRegistrationResource, type RegistrationResource } from './keyView.js';
import type { RegistrationRecord, VersionMeta } from './records.js';
import { LIMITS, validateDescription, validatePaging } from './validation.js';

export interface RegistrationInput {
  description?: string;
  /** Private to the registering service. */
  registrationMetadata?: string;
  preventKeyDeletion?: boolean;
  /** Key version the resource uses; default the newest. Must not be older than the current one. */
  keyVersion?: string;
  /**
   * Coffer's addition: lifecycle events of the key are POSTed here, signed with
   * HMAC-SHA256 under `secret` (webhooks.ts). null removes it (PATCH).
   */
  webhook?: { url: string; secret: string } | null;
}

export interface ListRegistrationsQuery {
  limit?: number;
  offset?: number;
  preventKeyDeletion?: boolean;
  /** The (URL-decoded) `urlEncodedResourceCRNQuery`: a CRN, with `*` ending a segment or the whole query. */
  resourceCrnQuery?: string;
}

function keyVersionInvalid(): KmsError {
  return new KmsError(
    'KEY_VERSION_INVALID',
    'This request requires that the key version is later than current registration key version',
  );
}

function pickVersion(k: LoadedKey, id: string | undefined, current?: VersionMeta): VersionMeta {
  const v = id === undefined ? newestVersion(k.key) : k.key.versions.find((x) => x.id === id);
  if (!v) throw keyVersionInvalid();
  if (current) {
    const idx = k.key.versions.findIndex((x) => x.id === v.id);
    const curIdx = k.key.versions.findIndex((x) => x.id === current.id);
    if (idx < curIdx) throw keyVersionInvalid();
  }
  return v;
}

function validateInput(input: RegistrationInput): void {
  validateDescription(input.description, 'description', LIMITS.registrationDescriptionMax);
  validateDescription(input.registrationMetadata, 'registrationMetadata', LIMITS.registrationMetadataMax);
  if (input.preventKeyDeletion !== undefined && typeof input.preventKeyDeletion !== 'boolean') {
    throw invalidField('preventKeyDeletion', 'a boolean');
  }
  if (input.webhook) validateWebhook(input.webhook);
}

const WEBHOOK_SECRET = /^[\x21-\x7e]{16,256}$/;

function validateWebhook(w: { url: unknown; secret: unknown }): void {
  let url: URL | undefined;
  try {
    url = typeof w.url === 'string' && w.url.length <= 2048 ? new URL(w.url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password)
    throw invalidField('webhook.url', 'an http(s) URL without credentials, at most 2048 characters');
  if (typeof w.secret !== 'string' || !WEBHOOK_SECRET.test(w.secret))
    throw invalidField('webhook.secret', '16 to 256 printable ASCII characters');
}

/** Registration creation needs a root key (422 KEY_ROOT_REQ_REG_ERR), then an Active one. */
function assertRegistrable(k: LoadedKey, action: 'registerResource' | 'updateRegistration'): void {
  if (k.key.extractable)
    throw new KmsError('KEY_ROOT_REQ_REG_ERR', 'Requested action can only be completed with a root key');
  assertAction(k, action);
}

/** Optional fields from the input, then write and answer. */
async function save(ctx: KmsContext, rec: RegistrationRecord, input: RegistrationInput): Promise<RegistrationResource> {
  if (input.description !== undefined) rec.description = input.description;
  if (input.registrationMetadata !== undefined) rec.registrationMetadata = input.registrationMetadata;
  if (input.webhook === null) delete rec.webhook;
  else if (input.webhook !== undefined) rec.webhook = { url: input.webhook.url, secret: input.webhook.secret };
  await ctx.store.batch().putRegistration(rec).write();
  return toRegistrationResource(rec);
}

/**
 * Create (POST) or replace (PUT): every field comes from `input`; only the
 * creation stamp of an existing registration is kept.
 */
function putFromInput(
  ctx: KmsContext,
  k: LoadedKey,
  resourceCrn: string,
  input: RegistrationInput,
  by: string,
  existing: RegistrationRecord | undefined,
): Promise<RegistrationResource> {
  const now = ctx.now();
  const rec: RegistrationRecord = {
    instanceId: k.instance.id,
    keyId: k.key.id,
    resourceCrn,
    createdBy: existing?.createdBy ?? by,
    creationDate: existing?.creationDate ?? now,
    updatedBy: by,
    lastUpdated: now,
    preventKeyDeletion: input.preventKeyDeletion ?? false,
    keyVersion: pickVersion(k, input.keyVersion, existing?.keyVersion),
  };
  return save(ctx, rec, input);
}

export async function createRegistration(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  resourceCrn: string,
  input: RegistrationInput = {},
  by: string = DEFAULT_ACTOR,
): Promise<RegistrationResource> {
  assertResourceCrn(resourceCrn);
  validateInput(input);
  return withKey(ctx, instanceId, idOrAlias, async (k) => {
    assertRegistrable(k, 'registerResource');
    const existing = await ctx.store.getRegistration(k.instance.id, k.key.id, resourceCrn);
    return putFromInput(ctx, k, resourceCrn, input, by, existing);
  });
}

/** PUT: replace every field of an existing registration. */
export async function replaceRegistration(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  resourceCrn: string,
  input: RegistrationInput = {},
  by: string = DEFAULT_ACTOR,
): Promise<RegistrationResource> {
  validateInput(input);
  return withKey(ctx, instanceId, idOrAlias, async (k) => {
    assertRegistrable(k, 'updateRegistration');
    const existing = await ctx.store.getRegistration(k.instance.id, k.key.id, resourceCrn);
    if (!existing) throw notFound(`Registration for ${resourceCrn} could not be found`);
    return putFromInput(ctx, k, resourceCrn, input, by, existing);
  });
}

/** PATCH: change only the fields given. */
export async function updateRegistration(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  resourceCrn: string,
  input: RegistrationInput,
  by: string = DEFAULT_ACTOR,
): Promise<RegistrationResource> {
  validateInput(input);
  return withKey(ctx, instanceId, idOrAlias, async (k) => {
    assertRegistrable(k, 'updateRegistration');
    const existing = await ctx.store.getRegistration(k.instance.id, k.key.id, resourceCrn);
    if (!existing) throw notFound(`Registration for ${resourceCrn} could not be found`);
    const rec: RegistrationRecord = {
      ...existing,
      updatedBy: by,
      lastUpdated: ctx.now(),
      preventKeyDeletion: input.preventKeyDeletion ?? existing.preventKeyDeletion,
      keyVersion:
        input.keyVersion === undefined ? existing.keyVersion : pickVersion(k, input.keyVersion, existing.keyVersion),
    };
    return save(ctx, rec, input);
  });
}

export async function deleteRegistration(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  resourceCrn: string,
  opts: { ignoreMissing?: boolean } = {},
): Promise<void> {
  await withKey(ctx, instanceId, idOrAlias, async (k) => {
    assertAction(k, 'deleteRegistration');
    const existing = await ctx.store.getRegistration(k.instance.id, k.key.id, resourceCrn);
    if (!existing) {
      if (opts.ignoreMissing) return;
      throw notFound(`Registration for ${resourceCrn} could not be found`);
    }
    await ctx.store.batch().delRegistration(k.instance.id, k.key.id, resourceCrn).write();
  });
}

/**
 * A matcher for `urlEncodedResourceCRNQuery`: segment by segment, a segment
 * ending in `*` matches by prefix; when the query has fewer than 10 segments and
 * its last one ends in `*`, the rest of the CRN is matched as a prefix.
 */
export function crnQueryMatcher(query: string): (crn: string) => boolean {
  const qs = query.split(':');
  return (crn) => {
    const cs = crn.split(':');
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i] as string;
      const wild = q.endsWith('*');
      const stem = wild ? q.slice(0, -1) : q;
      if (wild && i === qs.length - 1 && qs.length < cs.length) return cs.slice(i).join(':').startsWith(stem);
      const c = cs[i];
      if (c === undefined || (wild ? !c.startsWith(stem) : c !== q)) return false;
    }
    return cs.length === qs.length;
  };
}

export async function listRegistrations(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string | undefined,
  q: ListRegistrationsQuery = {},
): Promise<{ registrations: RegistrationResource[]; total: number }> {
  const { limit, offset } = validatePaging(q.limit, q.offset);
  let regs: RegistrationRecord[];
  if (idOrAlias !== undefined) {
    const k = await loadKey(ctx, instanceId, idOrAlias);
    assertAction(k, 'listRegistrations');
    regs = await ctx.store.listRegistrations(k.instance.id, k.key.id);
  } else {
    // Across all keys the first 8 segments must be literal (key-protect.md 1.6).
    if (
      q.resourceCrnQuery !== undefined &&
      q.resourceCrnQuery
        .split(':')
        .slice(0, 8)
        .some((s) => s.includes('*'))
    ) {
      throw invalidField(
        'urlEncodedResourceCRNQuery',
        'a CRN whose first 8 segments contain no wildcard',
        'query_param',
      );
    }
    const inst = await getInstanceOr404(ctx, instanceId);
    regs = await ctx.store.listRegistrations(inst.id);
  }
  const match = q.resourceCrnQuery !== undefined ? crnQueryMatcher(q.resourceCrnQuery) : undefined;
  const filtered = regs
    .filter((r) => q.preventKeyDeletion === undefined || r.preventKeyDeletion === q.preventKeyDeletion)
    .filter((r) => match === undefined || match(r.resourceCrn));
  return { registrations: filtered.slice(offset, offset + limit).map(toRegistrationResource), total: filtered.length };
}
