/**
 * POST /identity/token: IBM IAM's token endpoint as IBM's SDK core calls it
 * (form body grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=...).
 * Also grant_type=refresh_token. The API key and tokens never reach a log.
 * Every exchange is audited (iamAudit.ts), a refused API key too: on success
 * with the identity and the API key's id, on failure as `unauthenticated`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { IamError } from '../errors.js';
import type { AuditSink } from '../../kms/auditEntry.js';
import type { IamService, TokenResponse } from '../iamService.js';
import type { Logger } from '../../util/logger.js';
import { readForm, renderIamError } from './http.js';
import { auditIamCall, transactionIdOf, type IamCallAudit } from './iamAudit.js';

export const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

/** The audit log's name for a token request. */
function tokenAction(grant: string | null): string {
  if (grant === APIKEY_GRANT) return 'exchangeApiKey';
  if (grant === 'refresh_token') return 'refreshToken';
  return 'token';
}

export function tokenRouter(iam: IamService, audit: AuditSink, log: Logger): Router {
  const router = new Router();
  router.post('/identity/token', async (ctx: Context) => {
    const tid = transactionIdOf(ctx);
    const call: IamCallAudit = { identity: 'unauthenticated', action: 'token' };
    let out: TokenResponse | undefined;
    let failure: unknown;
    try {
      const form = await readForm(ctx);
      const grant = form.get('grant_type');
      call.action = tokenAction(grant);
      if (grant === APIKEY_GRANT) {
        const apikey = form.get('apikey');
        if (!apikey) throw new IamError(400, 'BXNIM0109E', "Property missing or empty: 'apikey'");
        // A key created a moment ago by another process sharing the store may not be mirrored here yet.
        if (!iam.findApiKey(apikey)) await iam.catchUpApiKeys();
        out = iam.exchangeApiKey(apikey);
      } else if (grant === 'refresh_token') {
        const rt = form.get('refresh_token');
        if (!rt) throw new IamError(400, 'BXNIM0109E', "Property missing or empty: 'refresh_token'");
        try {
          out = iam.refresh(rt);
        } catch {
          throw new IamError(400, 'BXNIM0407E', 'The refresh token is invalid or expired');
        }
      } else {
        throw new IamError(400, 'BXNIM0109E', `Unsupported grant_type: use ${APIKEY_GRANT} or refresh_token`);
      }
      // Who the new token speaks for, read back from it: the API key itself is never kept.
      const caller = iam.verify(out.access_token);
      call.identity = `iam:${caller.identity.id}`;
      call.account = caller.identity.accountId;
      call.target = caller.claims.akid;
    } catch (e) {
      failure = e;
      out = undefined;
    }
    const unavailable = await auditIamCall(audit, ctx, tid, call, failure, out === undefined);
    if (unavailable) return renderIamError(ctx, unavailable, () => undefined);
    if (out === undefined) return renderIamError(ctx, failure, (m, f) => log.error(m, f));
    ctx.set('cache-control', 'no-store');
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(out);
  });
  return router;
}
