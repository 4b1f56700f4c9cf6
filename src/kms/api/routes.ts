/**
 * The Key Protect v2 route table (key-protect.md 2.3) and the wrapper every
 * route runs in: authenticate the bearer token, resolve `bluemix-instance`,
 * read the headers Key Protect defines, read the (size-limited) body, run the
 * handler, refuse to answer if the handler never authorized, audit the outcome,
 * and render Key Protect's error body on failure.
 *
 * Specific paths come before `/keys/:id` (`/keys/registrations` is not a key).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';
import { KmsError } from '../../keys/errors.js';
import type { AuditInput } from '../auditEntry.js';
import { auditUnavailable } from '../auditKeyProvider.js';
import type { Caller } from '../../identity/caller.js';
import { writeJson } from '../../restApi/response.js';
import { headerValue } from '../../util/httpHeaders.js';
import { assertNetworkAllowed, authenticate, resolveInstance, tenantOf } from './access.js';
import type { ApiRequest, Handler, KmsApiDeps, Reply } from './context.js';
import { invalidField, toErrorResponse } from './errors.js';
import { keyAction, keyActionName } from './handlers/actions.js';
import { eventAck, listKeyEvents } from './handlers/eventAck.js';
import { createImportToken, getImportToken } from './handlers/importToken.js';
import { createKeyRing, deleteKeyRing, listKeyRings } from './handlers/keyRings.js';
import * as keys from './handlers/keys.js';
import {
  getAllowedIpPort,
  getInstancePolicies,
  getKeyPolicies,
  putInstancePolicies,
  putKeyPolicies,
} from './handlers/policies.js';
import { listRegistrations, writeRegistration } from './handlers/registrations.js';
import { parseJsonObject, readBody, type Query } from './schema.js';

const KEY_RING = /^[A-Za-z0-9-]{2,100}$/;
const CORRELATION = /^[\x21-\x7e]{1,128}$/;

/** A header as sent, or undefined when absent or empty (the one header reader, util/httpHeaders). */
function headerOf(ctx: Context, name: string): string | undefined {
  return headerValue(ctx.headers, name) || undefined;
}

/** `correlation-id` as sent (when printable and short), else a new UUID; echoed on every response. */
export function correlationIdOf(ctx: Context): string {
  const sent = headerOf(ctx, 'correlation-id');
  return sent !== undefined && CORRELATION.test(sent) ? sent : randomUUID();
}

function preferOf(ctx: Context): ApiRequest['prefer'] {
  const v = headerOf(ctx, 'prefer')?.trim().toLowerCase();
  if (v === undefined) return undefined;
  if (v === 'return=minimal') return 'minimal';
  if (v === 'return=representation') return 'representation';
  throw invalidField('prefer', 'return=minimal or return=representation', 'header');
}

function keyRingOf(ctx: Context): string | undefined {
  const v = headerOf(ctx, 'x-kms-key-ring');
  if (v !== undefined && !KEY_RING.test(v))
    throw invalidField('x-kms-key-ring', '2 to 100 letters, digits or hyphens', 'header');
  return v;
}

function send(ctx: Context, reply: Reply): void {
  ctx.status = reply.status;
  for (const [k, v] of Object.entries(reply.headers ?? {})) ctx.set(k, v);
  if (reply.body !== undefined && ctx.method !== 'HEAD') {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(reply.body);
  }
}

export function renderKmsError(ctx: Context, deps: KmsApiDeps, err: unknown): void {
  const { status, body, internal } = toErrorResponse(err);
  // Never the error itself in the log line's message field from user input alone: name and message of our own errors only.
  if (internal)
    deps.log.error('kms api internal error', {
      err: (err as Error)?.message,
      path: ctx.path,
      correlationId: ctx.response.get('correlation-id'),
    });
  writeJson(ctx, status, ctx.method === 'HEAD' ? null : body);
}

/** What names a call in the audit log: a fixed action, or one read from the request (key actions). */
type ActionName = string | ((ctx: Context & { params?: Record<string, string> }) => string);

/**
 * One API endpoint: `action` names it in the audit log. The answer goes out
 * only after the call's audit entry is durable; if it cannot be made so, the
 * call is answered 503 instead (whatever it did is in no acknowledged reply).
 */
function endpoint(deps: KmsApiDeps, action: ActionName, handler: Handler) {
  return async (ctx: Context & { params?: Record<string, string> }): Promise<void> => {
    const correlationId = correlationIdOf(ctx);
    ctx.set('correlation-id', correlationId);
    const name = typeof action === 'string' ? action : action(ctx);
    let caller: Caller | undefined;
    let r: ApiRequest | undefined;
    let reply: Reply | undefined;
    let failure: unknown;
    try {
      caller = authenticate(deps, headerOf(ctx, 'authorization'));
      const instance = await resolveInstance(deps, headerOf(ctx, 'bluemix-instance'));
      assertNetworkAllowed(deps, ctx, caller, instance.id);
      r = {
        deps,
        ctx,
        caller,
        instance,
        correlationId,
        params: ctx.params ?? {},
        query: ctx.query as Query,
        body: undefined,
        authorized: false,
        audit: {},
      };
      const prefer = preferOf(ctx);
      const keyRing = keyRingOf(ctx);
      const tenant = tenantOf(r);
      if (prefer !== undefined) r.prefer = prefer;
      if (keyRing !== undefined) r.keyRing = keyRing;
      if (tenant !== undefined) r.tenant = tenant;
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') r.body = parseJsonObject(await readBody(ctx.req));
      reply = await handler(r);
      if (!r.authorized) throw new Error(`KMS API handler ${name} answered without an authorization check`);
    } catch (e) {
      failure = e;
      reply = undefined;
    }
    try {
      await deps.audit.record(auditEntry(name, correlationId, ctx.ip, caller, r, failure, reply === undefined));
    } catch (e) {
      deps.log.error('kms audit append failed: the call is answered 503', {
        err: (e as Error)?.message,
        correlationId,
      });
      renderKmsError(ctx, deps, auditUnavailable());
      return;
    }
    if (reply !== undefined) send(ctx, reply);
    else renderKmsError(ctx, deps, failure);
  };
}

function auditEntry(
  action: string,
  correlationId: string,
  sourceIp: string,
  caller: Caller | undefined,
  r: ApiRequest | undefined,
  err: unknown,
  failed: boolean,
): AuditInput {
  const e: AuditInput = {
    identity: caller ? `iam:${caller.identity.id}` : 'unauthenticated',
    action,
    outcome: failed ? 'failure' : 'success',
    correlationId,
    via: 'api',
  };
  if (sourceIp) e.sourceIp = sourceIp;
  if (r) {
    e.instance = r.instance.id;
    if (r.tenant !== undefined) e.tenant = r.tenant;
    const key = r.audit.key ?? r.params.id;
    if (key !== undefined) e.key = key;
    if (r.audit.version !== undefined) e.version = r.audit.version;
  }
  if (failed) {
    const { status, body } = toErrorResponse(err);
    e.status = status;
    e.reason = body.resources[0].reasons[0]?.code ?? 'INTERNAL_ERR';
  }
  return e;
}

export function kmsRouter(deps: KmsApiDeps): Router {
  const router = new Router({ prefix: '/api/v2' });
  const ep = (action: ActionName, h: Handler) => endpoint(deps, action, h);
  // HEAD before GET: the router also answers HEAD with the first matching GET route.
  router.head('/keys', ep('getKeyCollectionMetadata', keys.keyTotal));
  router.get('/keys', ep('listKeys', keys.listKeys));
  router.post(
    '/keys',
    ep('createKey', (r) => keys.createKey(r)),
  );
  router.post(
    '/keys_with_policy_overrides',
    ep('createKeyWithPolicyOverrides', (r) => keys.createKey(r, true)),
  );
  router.get(
    '/keys/registrations',
    ep('listRegistrationsAllKeys', (r) => listRegistrations(r, false)),
  );
  router.get('/keys/:id', ep('getKey', keys.getKey));
  router.patch('/keys/:id', ep('patchKey', keys.patchKey));
  router.delete('/keys/:id', ep('deleteKey', keys.deleteKey));
  router.post(
    '/keys/:id',
    ep(
      (ctx) => keyActionName(ctx.query.action, true),
      (r) => keyAction(r, true),
    ),
  );
  router.get('/keys/:id/metadata', ep('getKeyMetadata', keys.getKeyMetadata));
  router.delete('/keys/:id/purge', ep('purgeKey', keys.purgeKey));
  router.post('/keys/:id/restore', ep('restoreKey', keys.restoreKey));
  router.post(
    '/keys/:id/actions/:action',
    ep(
      (ctx) => keyActionName(ctx.params?.action, false),
      (r) => keyAction(r, false),
    ),
  );
  router.get('/keys/:id/versions', ep('listKeyVersions', keys.listVersions));
  router.get('/keys/:id/events', ep('listKeyEvents', listKeyEvents));
  router.get('/keys/:id/policies', ep('getKeyPolicies', getKeyPolicies));
  router.put('/keys/:id/policies', ep('putKeyPolicies', putKeyPolicies));
  router.post('/keys/:id/aliases/:alias', ep('createKeyAlias', keys.createAlias));
  router.delete('/keys/:id/aliases/:alias', ep('deleteKeyAlias', keys.deleteAlias));
  router.get(
    '/keys/:id/registrations',
    ep('listRegistrations', (r) => listRegistrations(r, true)),
  );
  router.post(
    '/keys/:id/registrations/:crn',
    ep('createRegistration', (r) => writeRegistration(r, 'create')),
  );
  router.put(
    '/keys/:id/registrations/:crn',
    ep('replaceRegistration', (r) => writeRegistration(r, 'replace')),
  );
  router.patch(
    '/keys/:id/registrations/:crn',
    ep('updateRegistration', (r) => writeRegistration(r, 'update')),
  );
  router.delete(
    '/keys/:id/registrations/:crn',
    ep('deleteRegistration', (r) => writeRegistration(r, 'delete')),
  );
  router.get('/key_rings', ep('listKeyRings', listKeyRings));
  router.post('/key_rings/:ringId', ep('createKeyRing', createKeyRing));
  router.delete('/key_rings/:ringId', ep('deleteKeyRing', deleteKeyRing));
  router.post('/import_token', ep('createImportToken', createImportToken));
  router.get('/import_token', ep('getImportToken', getImportToken));
  router.get('/instance/policies', ep('getInstancePolicies', getInstancePolicies));
  router.put('/instance/policies', ep('putInstancePolicies', putInstancePolicies));
  router.get('/instance/allowed_ip_port', ep('getAllowedIpPort', getAllowedIpPort));
  router.post('/event_ack', ep('eventAck', eventAck));
  return router;
}

/** Unknown paths and methods under /api/v2 in Key Protect's shape. */
export function notFoundError(): KmsError {
  return new KmsError('NOT_FOUND_ERR', 'The requested resource could not be found');
}
