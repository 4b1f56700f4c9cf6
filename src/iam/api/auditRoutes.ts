/**
 * GET /iam/v1/audit: the KMS audit log (src/kms/audit.ts) for `coffer kms
 * audit`, so the CLI needs no access to the KMS's data dir (in split mode it
 * may run on another machine). Query: since (RFC 3339 or epoch ms), key,
 * action, instance, outcome, limit (the newest n, default 100, at most 10,000).
 *
 * The owner of the root (system) account sees every entry; the owner of another
 * account sees the entries of the KMS instances its account owns and of IAM
 * calls in its account; anyone else 403. The log is scanned file by file with
 * at most `limit` entries held (kms/auditReader.ts), however long it is.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AuditEntry } from '../../kms/auditEntry.js';
import type { AuditQuery } from '../../kms/auditReader.js';
import type { KmsService } from '../../kms/kmsService.js';
import type { Logger } from '../../util/logger.js';
import { IamError, invalidInput } from '../errors.js';
import type { IamService } from '../iamService.js';
import { bearer, renderIamError } from './http.js';

export interface AuditApiDeps {
  iam: IamService;
  kms: KmsService;
  /** Flushes pending appends, then reads the log with the query. */
  read: (q: AuditQuery) => Promise<AuditEntry[]>;
  log: Logger;
}

const MAX_LIMIT = 10_000;

function one(v: unknown, name: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw invalidInput(`'${name}' must be given once`);
  return v;
}

export function auditRouter(deps: AuditApiDeps): Router {
  const router = new Router({ prefix: '/iam/v1' });
  router.get('/audit', async (ctx: Context) => {
    try {
      const caller = bearer(ctx, deps.iam);
      const account = deps.iam.getAccount(caller.identity.accountId);
      if (caller.identity.owner !== true || !account)
        throw new IamError(403, 'FORBIDDEN', 'Only an account owner may read the audit log');
      const q: AuditQuery = {};
      for (const k of Object.keys(ctx.query)) {
        if (!['since', 'key', 'action', 'instance', 'outcome', 'limit'].includes(k))
          throw invalidInput(`Unknown query parameter '${k}'`);
      }
      const since = one(ctx.query.since, 'since');
      if (since !== undefined) {
        const t = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
        if (!Number.isFinite(t)) throw invalidInput("'since' must be an RFC 3339 date or epoch milliseconds");
        q.since = t;
      }
      const key = one(ctx.query.key, 'key');
      const action = one(ctx.query.action, 'action');
      const instance = one(ctx.query.instance, 'instance');
      const outcome = one(ctx.query.outcome, 'outcome');
      if (key !== undefined) q.key = key;
      if (action !== undefined) q.action = action;
      if (instance !== undefined) q.instance = instance;
      if (outcome !== undefined) {
        if (outcome !== 'success' && outcome !== 'failure') throw invalidInput("'outcome' must be success or failure");
        q.outcome = outcome;
      }
      const limitRaw = one(ctx.query.limit, 'limit');
      const limit = limitRaw === undefined ? 100 : Number(limitRaw);
      if (!/^\d+$/.test(limitRaw ?? '0') || limit < 1 || limit > MAX_LIMIT)
        throw invalidInput(`'limit' must be an integer from 1 to ${MAX_LIMIT}`);
      q.limit = limit;
      if (account.system !== true) {
        const instances = new Set((await deps.kms.listInstances(account.id)).map((i) => i.id));
        q.visibleTo = { account: account.id, instances };
      }
      const entries = await deps.read(q);
      ctx.set('cache-control', 'no-store');
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({ entries });
    } catch (e) {
      renderIamError(ctx, e, (m, f) => deps.log.error(m, f));
    }
  });
  return router;
}
