/**
 * POST /identity/token: IBM IAM's token endpoint as IBM's SDK core calls it
 * (form body grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=...).
 * Also grant_type=refresh_token. The API key and tokens never reach a log.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { IamError } from '../errors.js';
import type { IamService } from '../iamService.js';
import type { Logger } from '../../util/logger.js';
import { readForm, renderIamError } from './http.js';

export const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

export function tokenRouter(iam: IamService, log: Logger): Router {
  const router = new Router();
  router.post('/identity/token', async (ctx: Context) => {
    try {
      const form = await readForm(ctx);
      const grant = form.get('grant_type');
      let out;
      if (grant === APIKEY_GRANT) {
        const apikey = form.get('apikey');
        if (!apikey) throw new IamError(400, 'BXNIM0109E', "Property missing or empty: 'apikey'");
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
      ctx.set('cache-control', 'no-store');
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(out);
    } catch (e) {
      renderIamError(ctx, e, (m, f) => log.error(m, f));
    }
  });
  return router;
}
