/**
 * Service-to-service authorizations in the shape of IBM IAM Policy Management
 * (`/v1/policies`, `type: "authorization"`; policyShape.ts), so an IBM-style
 * request body - or a tool built on that API - works unchanged:
 *
 *   POST   /v1/policies        201 the policy
 *   GET    /v1/policies        200 {policies}  (?account_id, ?type, ?service_name narrow it)
 *   GET    /v1/policies/{id}   200 the policy
 *   DELETE /v1/policies/{id}   204
 *
 * The same records as /iam/v1/authorizations (AccessControl), with the same
 * rules for who may grant (the target account's administrator) and see them.
 * Errors are in IBM's platform error shape: {trace, errors: [{code, message,
 * more_info}], status_code}. Every call is audited like the /iam/v1 ones.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Caller } from '../../identity/caller.js';
import type { AuditSink } from '../../kms/auditEntry.js';
import type { KmsService } from '../../kms/kmsService.js';
import type { InstanceRecord } from '../../kms/records.js';
import { writeJson } from '../../restApi/response.js';
import type { Logger } from '../../util/logger.js';
import type { AccessControl } from '../accessControl.js';
import { AdminScope } from '../adminScope.js';
import { IamError } from '../errors.js';
import type { IamService } from '../iamService.js';
import type { AuthorizationRecord } from '../records.js';
import { bearer, iamErrorOf, readJson } from './http.js';
import { auditIamCall, transactionIdOf, type IamCallAudit } from './iamAudit.js';
import { POLICY_TYPE, parseAuthorizationPolicy, renderPolicy } from './policyShape.js';

export interface PolicyApiDeps {
  iam: IamService;
  access: AccessControl;
  kms: KmsService;
  audit: AuditSink;
  log: Logger;
}

/** IAM error codes -> IBM Policy Management's. */
const CODES: Record<string, string> = {
  INVALID_INPUT: 'invalid_body',
  NOT_FOUND: 'policy_not_found',
  FORBIDDEN: 'insufficent_permissions',
  UNAUTHORIZED: 'invalid_token',
  BXNIM0407E: 'invalid_token',
  CONFLICT: 'policy_conflict_error',
  AUDIT_UNAVAILABLE: 'service_unavailable',
  INTERNAL_ERROR: 'internal_error',
};

export function renderPolicyError(ctx: Context, trace: string, err: unknown, log: Logger): void {
  const { status, errorCode, errorMessage, internal } = iamErrorOf(err);
  if (internal) log.error('policy api internal error', { err: (err as Error)?.message, path: ctx.path });
  writeJson(ctx, status, {
    trace,
    errors: [
      {
        code: CODES[errorCode] ?? errorCode.toLowerCase(),
        message: errorMessage,
        more_info: 'https://cloud.ibm.com/apidocs/iam-policy-management#error-handling',
      },
    ],
    status_code: status,
  });
}

type Ctx = Context & { params: Record<string, string> };
type Out = { status: number; body?: unknown; audit?: Partial<IamCallAudit> };

function notFound(id: string): IamError {
  return new IamError(404, 'NOT_FOUND', `Policy with Id ${id} not found`);
}

export function policyRouter(deps: PolicyApiDeps): Router {
  const router = new Router({ prefix: '/v1/policies' });
  const scope = new AdminScope<InstanceRecord>(deps.iam, deps.access, deps.kms);

  const view = async (ctx: Context, a: AuthorizationRecord): Promise<unknown> => {
    const inst = a.target.instanceId !== undefined ? await deps.kms.findInstance(a.target.instanceId) : undefined;
    return renderPolicy(a, `${ctx.protocol}://${ctx.host}/v1/policies/${encodeURIComponent(a.id)}`, inst?.account);
  };
  /** An authorization the caller may see; 404 otherwise (as if it did not exist). */
  const visible = async (c: Caller, id: string): Promise<AuthorizationRecord> => {
    const a = (await scope.visibleAuthorizations(c)).find((x) => x.id === id);
    if (!a) throw notFound(id);
    return a;
  };

  const handlers: Record<string, (ctx: Ctx, c: Caller) => Promise<Out>> = {
    createAuthorizationPolicy: async (ctx, c) => {
      const p = parseAuthorizationPolicy(await readJson(ctx));
      if (p.target.instanceId !== undefined) {
        const inst = await deps.kms.findInstance(p.target.instanceId);
        if (inst && p.targetAccount !== undefined && p.targetAccount !== inst.account)
          throw new IamError(
            400,
            'INVALID_INPUT',
            `resources attribute accountId ${p.targetAccount} is not the account of instance ${inst.id}`,
          );
      }
      await scope.requireTargetAdmin(c, p.target);
      const a = await deps.access.createAuthorization({
        source: p.source,
        target: p.target,
        role: p.role,
        ...(p.description !== undefined ? { description: p.description } : {}),
        by: c.identity.id,
      });
      return { status: 201, body: await view(ctx, a), audit: { target: a.id } };
    },
    listAuthorizationPolicies: async (ctx, c) => {
      const q = (k: string) => (typeof ctx.query[k] === 'string' && ctx.query[k] !== '' ? ctx.query[k] : undefined);
      const type = q('type');
      const serviceName = q('service_name');
      const account = q('account_id');
      let list = type !== undefined && type !== POLICY_TYPE ? [] : await scope.visibleAuthorizations(c);
      // IBM's service_name filters by the target service: every authorization here targets kms.
      if (serviceName !== undefined && serviceName !== 'kms') list = [];
      const policies = [];
      for (const a of list) {
        const p = (await view(ctx, a)) as { resources: Array<{ attributes: Array<{ name: string; value: string }> }> };
        const acct = p.resources[0]?.attributes.find((x) => x.name === 'accountId')?.value;
        if (account === undefined || acct === account || a.source.accountId === account) policies.push(p);
      }
      return { status: 200, body: { policies } };
    },
    getAuthorizationPolicy: async (ctx, c) => ({
      status: 200,
      body: await view(ctx, await visible(c, ctx.params.id as string)),
    }),
    deleteAuthorizationPolicy: async (ctx, c) => {
      const a = await visible(c, ctx.params.id as string);
      await scope.requireTargetAdmin(c, a.target);
      await deps.access.deleteAuthorization(a.id);
      return { status: 204 };
    },
  };

  const h = (name: string) => async (ctx: Ctx) => {
    const trace = transactionIdOf(ctx);
    const call: IamCallAudit = { identity: 'unauthenticated', action: name };
    if (ctx.params.id !== undefined) call.target = ctx.params.id;
    let out: Out | undefined;
    let failure: unknown;
    try {
      const caller = bearer(ctx, deps.iam);
      call.identity = `iam:${caller.identity.id}`;
      call.account = caller.identity.accountId;
      out = await (handlers[name] as (ctx: Ctx, c: Caller) => Promise<Out>)(ctx, caller);
      Object.assign(call, out.audit);
    } catch (e) {
      failure = e;
      out = undefined;
    }
    const unavailable = await auditIamCall(deps.audit, ctx, trace, call, failure, out === undefined);
    if (unavailable) return renderPolicyError(ctx, trace, unavailable, deps.log);
    if (out === undefined) return renderPolicyError(ctx, trace, failure, deps.log);
    ctx.status = out.status;
    if (out.body !== undefined) {
      ctx.set('cache-control', 'no-store');
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(out.body);
    }
  };
  router.post('/', h('createAuthorizationPolicy'));
  router.get('/', h('listAuthorizationPolicies'));
  router.get('/:id', h('getAuthorizationPolicy'));
  router.delete('/:id', h('deleteAuthorizationPolicy'));
  return router;
}
