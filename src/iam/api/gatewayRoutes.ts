/**
 * What a split-mode gateway asks the KMS process for, under /iam/v1:
 *
 *   GET /iam/v1/s3-credentials/{accessKeyId}  gateway service identities only:
 *       the secret and principal SigV4 needs (root credentials first, then IAM
 *       accounts' access keys, exactly the embedded gateway's CredentialStore).
 *       Unknown ids are 404. The answer is never logged and never cached by
 *       intermediaries (cache-control: no-store).
 *   GET /iam/v1/s3-accounts/{accountId}       gateway service identities only:
 *       whether an account exists and its name (S3 ACL grants by canonical
 *       id name accounts; a grant to no account is refused). Unknown ids 404.
 *   GET /iam/v1/default-root-key              any authenticated identity:
 *       the CRN of the provider-managed default root key.
 *
 * Why the lookup lives here: IAM's store is one LevelDB directory that one
 * process opens, and the KMS process owns it; the gateway keeps a short cache
 * (remoteCredentialStore.ts). A user, or a service identity that is not a
 * gateway, gets 403 - a credential lookup is as sensitive as the secrets.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { CredentialStore } from '../../auth/credentials.js';
import type { Logger } from '../../util/logger.js';
import { IamError, notFound } from '../errors.js';
import type { IamService } from '../iamService.js';
import { bearer, renderIamError } from './http.js';

export interface GatewayApiDeps {
  iam: IamService;
  /** The embedded gateway's own credential store (root credentials + IAM access keys). */
  credentials: CredentialStore;
  defaultRootKeyCrn: () => Promise<string>;
  log: Logger;
}

const ACCESS_KEY_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** IamService's account id syntax. */
const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function gatewayRouter(deps: GatewayApiDeps): Router {
  const router = new Router({ prefix: '/iam/v1' });
  const reply = (ctx: Context, body: unknown) => {
    ctx.set('cache-control', 'no-store');
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(body);
  };
  // Errors carry no request detail: the access key id is not echoed either.
  const fail = (ctx: Context, e: unknown) =>
    renderIamError(ctx, e, (m) => deps.log.error(m, { path: '/iam/v1/s3-credentials' }));

  router.get('/s3-credentials/:accessKeyId', async (ctx: Context & { params: Record<string, string> }) => {
    try {
      const caller = bearer(ctx, deps.iam);
      if (caller.identity.kind !== 'service' || caller.identity.gateway !== true) {
        throw new IamError(403, 'FORBIDDEN', 'Only a gateway service identity may look up S3 credentials');
      }
      const id = ctx.params.accessKeyId ?? '';
      const found = ACCESS_KEY_ID.test(id) ? await deps.credentials.lookup(id) : undefined;
      if (!found) throw notFound('The access key');
      reply(ctx, { accessKeyId: id, secretAccessKey: found.secretAccessKey, principal: found.principal });
    } catch (e) {
      fail(ctx, e);
    }
  });

  router.get('/s3-accounts/:accountId', async (ctx: Context & { params: Record<string, string> }) => {
    try {
      const caller = bearer(ctx, deps.iam);
      if (caller.identity.kind !== 'service' || caller.identity.gateway !== true) {
        throw new IamError(403, 'FORBIDDEN', 'Only a gateway service identity may look up S3 accounts');
      }
      const id = ctx.params.accountId ?? '';
      const account = ACCOUNT_ID.test(id) ? deps.iam.getAccount(id) : undefined;
      if (!account) throw notFound('The account');
      reply(ctx, { id: account.id, displayName: account.name });
    } catch (e) {
      renderIamError(ctx, e, (m) => deps.log.error(m, { path: '/iam/v1/s3-accounts' }));
    }
  });

  router.get('/default-root-key', async (ctx: Context) => {
    try {
      bearer(ctx, deps.iam);
      reply(ctx, { crn: await deps.defaultRootKeyCrn() });
    } catch (e) {
      renderIamError(ctx, e, (m, f) => deps.log.error(m, f));
    }
  });
  return router;
}
