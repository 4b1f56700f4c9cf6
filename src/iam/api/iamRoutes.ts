/**
 * The IAM management API (/iam/v1), on the KMS listener, for the CLI and for
 * automation: accounts, users and service identities, API keys, S3 access
 * keys, KMS instances, access policies, and service-to-service authorizations.
 *
 * Who may do what and see what is the IAM core's (src/iam/adminScope.ts);
 * besides, any identity may read itself and manage its own API keys. Secrets
 * (API keys, S3 secret keys) are in the creating response only.
 *
 * Every call is audited (iamAudit.ts) under its handler's name, with the
 * account and the resource id it touched, and answered once that is durable.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { KmsService } from '../../kms/kmsService.js';
import type { InstanceRecord } from '../../kms/records.js';
import type { Logger } from '../../util/logger.js';
import type { AccessControl } from '../accessControl.js';
import { AdminScope, forbidden } from '../adminScope.js';
import { IamError, notFound } from '../errors.js';
import type { Caller } from '../../identity/caller.js';
import type { IamService } from '../iamService.js';
import type { AuthorizationRecord, IdentityKind } from '../records.js';
import type { AuditSink } from '../../kms/auditEntry.js';
import { accountHoldings, describeHoldings } from './accountHoldings.js';
import { auditIamCall, transactionIdOf, type IamCallAudit } from './iamAudit.js';
import { bearer, fields, readJson, renderIamError } from './http.js';

export interface IamApiDeps {
  iam: IamService;
  access: AccessControl;
  kms: KmsService;
  /** Region of KMS instances created through this API. */
  region: string;
  audit: AuditSink;
  log: Logger;
}

type Ctx = Context & { params: Record<string, string> };
type H = (
  ctx: Ctx,
  caller: Caller,
  deps: IamApiDeps,
  scope: AdminScope<InstanceRecord>,
) => Promise<{ status: number; body?: unknown; audit?: Partial<IamCallAudit> }>;

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '')
    throw new IamError(400, 'INVALID_INPUT', `'${name}' must be a non-empty string`);
  return v;
}

const handlers: Record<string, H> = {
  whoami: async (_ctx, c, d) => ({
    status: 200,
    body: { identity: c.identity, account: d.iam.getAccount(c.identity.accountId) },
  }),

  createAccount: async (ctx, c, d, s) => {
    if (!s.isSystemAdmin(c)) throw forbidden();
    const body = await readJson(ctx);
    fields(body, ['name', 'id']);
    const { account, owner } = await d.iam.createAccount({
      name: str(body.name, 'name'),
      ...(body.id !== undefined ? { id: str(body.id, 'id') } : {}),
    });
    const key = await d.iam.createApiKey(owner.id, 'owner');
    const s3 = await d.iam.createS3AccessKey(account.id, owner.id);
    return {
      status: 201,
      body: { account, owner, apikey: key.apiKey, apikeyId: key.record.id, s3 },
      audit: { account: account.id, target: account.id },
    };
  },
  listAccounts: async (_ctx, c, _d, s) => ({ status: 200, body: { accounts: s.visibleAccounts(c) } }),
  deleteAccount: async (ctx, c, d, s) => {
    if (!s.isSystemAdmin(c)) throw forbidden();
    const id = ctx.params.account as string;
    const account = d.iam.getAccount(id);
    if (!account) throw notFound(`Account ${id}`);
    if (account.system) throw new IamError(409, 'CONFLICT', 'the root account cannot be deleted');
    const held = describeHoldings(await accountHoldings(d.kms, id));
    if (held) throw new IamError(409, 'CONFLICT', `Account ${id} still holds ${held}: delete them first`);
    // Grants from and to the account go first, through the one revoke path (it drops cached DEKs):
    // an account made again under the same id must not inherit them.
    const own = new Set((await d.kms.listInstances(id)).map((i) => i.id));
    for (const a of d.access.listAuthorizations())
      if (
        a.source.accountId === id ||
        a.target.accountId === id ||
        (a.target.instanceId && own.has(a.target.instanceId))
      )
        await d.access.deleteAuthorization(a.id);
    for (const p of d.access.listPolicies()) if (own.has(p.target.instanceId)) await d.access.deletePolicy(p.id);
    await d.iam.deleteAccount(id);
    return { status: 204, audit: { account: id, target: id } };
  },

  createIdentity: async (ctx, c, d, s) => {
    s.requireAdmin(c, ctx.params.account as string);
    const body = await readJson(ctx);
    fields(body, ['kind', 'name', 'gateway']);
    if (body.gateway !== undefined && (typeof body.gateway !== 'boolean' || !s.isSystemAdmin(c))) throw forbidden();
    const ident = await d.iam.createIdentity({
      accountId: ctx.params.account as string,
      kind: body.kind as IdentityKind,
      name: str(body.name, 'name'),
      gateway: body.gateway === true,
    });
    return { status: 201, body: ident, audit: { target: ident.id } };
  },
  listIdentities: async (ctx, c, d, s) => {
    s.requireAdmin(c, ctx.params.account as string);
    return { status: 200, body: { identities: d.iam.listIdentities(ctx.params.account) } };
  },
  deleteIdentity: async (ctx, c, d, s) => {
    const ident = d.iam.getIdentity(ctx.params.id as string);
    if (!ident) throw notFound(`Identity ${ctx.params.id}`);
    s.requireAdmin(c, ident.accountId);
    await d.iam.deleteIdentity(ident.id);
    return { status: 204, audit: { account: ident.accountId } };
  },

  createApiKey: async (ctx, c, d, s) => {
    const ident = d.iam.getIdentity(ctx.params.id as string);
    if (!ident) throw notFound(`Identity ${ctx.params.id}`);
    if (ident.id !== c.identity.id) s.requireAdmin(c, ident.accountId);
    const body = await readJson(ctx);
    fields(body, ['name']);
    const { record, apiKey } = await d.iam.createApiKey(
      ident.id,
      body.name === undefined ? 'apikey' : str(body.name, 'name'),
    );
    const { hash: _h, ...shown } = record;
    return { status: 201, body: { ...shown, apikey: apiKey }, audit: { account: ident.accountId, target: record.id } };
  },
  listApiKeys: async (ctx, c, d, s) => {
    const ident = d.iam.getIdentity(ctx.params.id as string);
    if (!ident) throw notFound(`Identity ${ctx.params.id}`);
    if (ident.id !== c.identity.id) s.requireAdmin(c, ident.accountId);
    return { status: 200, body: { apikeys: d.iam.listApiKeys(ident.id) } };
  },
  deleteApiKey: async (ctx, c, d, s) => {
    const k = d.iam.getApiKey(ctx.params.id as string);
    const ident = k ? d.iam.getIdentity(k.identityId) : undefined;
    if (!k || !ident) throw notFound(`API key ${ctx.params.id}`);
    if (ident.id !== c.identity.id) s.requireAdmin(c, ident.accountId);
    await d.iam.deleteApiKey(k.id);
    return { status: 204, audit: { account: ident.accountId } };
  },

  createAccessKey: async (ctx, c, d, s) => {
    s.requireAdmin(c, ctx.params.account as string);
    const body = await readJson(ctx);
    fields(body, ['identityId']);
    const out = await d.iam.createS3AccessKey(
      ctx.params.account as string,
      body.identityId === undefined ? undefined : str(body.identityId, 'identityId'),
    );
    return { status: 201, body: out, audit: { target: out.accessKeyId } };
  },
  listAccessKeys: async (ctx, c, d, s) => {
    s.requireAdmin(c, ctx.params.account as string);
    return { status: 200, body: { accessKeys: d.iam.listS3AccessKeys(ctx.params.account) } };
  },
  deleteAccessKey: async (ctx, c, d, s) => {
    const k = d.iam.listS3AccessKeys().find((x) => x.accessKeyId === ctx.params.id);
    if (!k) throw notFound(`Access key ${ctx.params.id}`);
    s.requireAdmin(c, k.accountId);
    await d.iam.deleteS3AccessKey(k.accessKeyId);
    return { status: 204, audit: { account: k.accountId } };
  },

  createInstance: async (ctx, c, d, s) => {
    const body = await readJson(ctx);
    fields(body, ['accountId', 'name']);
    const account = body.accountId === undefined ? c.identity.accountId : str(body.accountId, 'accountId');
    s.requireAdmin(c, account);
    if (!d.iam.getAccount(account)) throw notFound(`Account ${account}`);
    const inst = await d.kms.createInstance({
      account,
      region: d.region,
      name: body.name === undefined ? `${account}-kms` : str(body.name, 'name'),
    });
    return { status: 201, body: inst, audit: { account, instance: inst.id, target: inst.id } };
  },
  listInstances: async (_ctx, c, _d, s) => ({ status: 200, body: { instances: await s.visibleInstances(c) } }),

  createPolicy: async (ctx, c, d, s) => {
    const body = await readJson(ctx);
    fields(body, ['subjectId', 'target', 'role']);
    await s.requireInstanceAdmin(c, body.target);
    const policy = await d.access.createPolicy({
      subjectId: str(body.subjectId, 'subjectId'),
      target: body.target,
      role: body.role,
      by: c.identity.id,
    });
    return { status: 201, body: policy, audit: { target: policy.id } };
  },
  listPolicies: async (ctx, c, _d, s) => {
    const subject =
      typeof ctx.query.subjectId === 'string' && ctx.query.subjectId !== '' ? ctx.query.subjectId : undefined;
    return { status: 200, body: { policies: await s.visiblePolicies(c, subject) } };
  },
  deletePolicy: async (ctx, c, d, s) => {
    const p = d.access.getPolicy(ctx.params.id as string);
    if (!p) throw notFound(`Policy ${ctx.params.id}`);
    await s.requireInstanceAdmin(c, p.target);
    await d.access.deletePolicy(p.id);
    return { status: 204 };
  },

  createAuthorization: async (ctx, c, d, s) => {
    const body = await readJson(ctx);
    fields(body, ['sourceAccount', 'source', 'target', 'role', 'description']);
    if ((body.source === undefined) === (body.sourceAccount === undefined))
      throw new IamError(400, 'INVALID_INPUT', "Give either 'source' or 'sourceAccount'");
    await s.requireTargetAdmin(c, body.target);
    const authorization = await d.access.createAuthorization({
      ...(body.source !== undefined ? { source: body.source } : { sourceAccount: body.sourceAccount }),
      target: body.target,
      role: body.role,
      ...(body.description !== undefined ? { description: str(body.description, 'description') } : {}),
      by: c.identity.id,
    });
    return { status: 201, body: authorizationView(authorization), audit: { target: authorization.id } };
  },
  listAuthorizations: async (_ctx, c, _d, s) => ({
    status: 200,
    body: { authorizations: (await s.visibleAuthorizations(c)).map(authorizationView) },
  }),
  deleteAuthorization: async (ctx, c, d, s) => {
    const a = d.access.getAuthorization(ctx.params.id as string);
    if (!a) throw notFound(`Authorization ${ctx.params.id}`);
    await s.requireTargetAdmin(c, a.target);
    await d.access.deleteAuthorization(a.id);
    return { status: 204 };
  },
};

/** The stored record, with `sourceAccount` (the source's account) as this API answered before sources had instances. */
function authorizationView(a: AuthorizationRecord): AuthorizationRecord & { sourceAccount: string } {
  return { ...a, sourceAccount: a.source.accountId };
}

export function iamRouter(deps: IamApiDeps): Router {
  const router = new Router({ prefix: '/iam/v1' });
  const scope = new AdminScope(deps.iam, deps.access, deps.kms);
  const h = (name: keyof typeof handlers) => async (ctx: Ctx) => {
    const tid = transactionIdOf(ctx);
    const call: IamCallAudit = { identity: 'unauthenticated', action: name };
    if (ctx.params.account !== undefined) call.account = ctx.params.account;
    if (ctx.params.id !== undefined) call.target = ctx.params.id;
    let out: Awaited<ReturnType<H>> | undefined;
    let failure: unknown;
    try {
      const caller = bearer(ctx, deps.iam);
      call.identity = `iam:${caller.identity.id}`;
      out = await (handlers[name] as H)(ctx, caller, deps, scope);
      Object.assign(call, out.audit);
    } catch (e) {
      failure = e;
      out = undefined;
    }
    const unavailable = await auditIamCall(deps.audit, ctx, tid, call, failure, out === undefined);
    if (unavailable) return renderIamError(ctx, unavailable, () => undefined);
    if (out === undefined) return renderIamError(ctx, failure, (m, f) => deps.log.error(m, f));
    ctx.status = out.status;
    if (out.body !== undefined) {
      ctx.set('cache-control', 'no-store');
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(out.body);
    }
  };
  router.get('/identity', h('whoami'));
  router.post('/accounts', h('createAccount'));
  router.get('/accounts', h('listAccounts'));
  router.delete('/accounts/:account', h('deleteAccount'));
  router.post('/accounts/:account/identities', h('createIdentity'));
  router.get('/accounts/:account/identities', h('listIdentities'));
  router.post('/accounts/:account/access_keys', h('createAccessKey'));
  router.get('/accounts/:account/access_keys', h('listAccessKeys'));
  router.delete('/access_keys/:id', h('deleteAccessKey'));
  router.delete('/identities/:id', h('deleteIdentity'));
  router.post('/identities/:id/apikeys', h('createApiKey'));
  router.get('/identities/:id/apikeys', h('listApiKeys'));
  router.delete('/apikeys/:id', h('deleteApiKey'));
  router.post('/instances', h('createInstance'));
  router.get('/instances', h('listInstances'));
  router.post('/policies', h('createPolicy'));
  router.get('/policies', h('listPolicies'));
  router.delete('/policies/:id', h('deletePolicy'));
  router.post('/authorizations', h('createAuthorization'));
  router.get('/authorizations', h('listAuthorizations'));
  router.delete('/authorizations/:id', h('deleteAuthorization'));
  return router;
}
