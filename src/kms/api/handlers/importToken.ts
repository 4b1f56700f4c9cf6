/**
 * Import tokens (key-protect.md 2.4): POST creates the instance's one token,
 * GET returns its public key and nonce (one retrieval each). The body is not
 * enveloped: {expiration, maxAllowedRetrievals}.
 */
import { authorize } from '../access.js';
import type { ApiRequest, Reply } from '../context.js';
import { invalidField } from '../errors.js';
import { onlyFields, onlyQuery } from '../schema.js';
import { json } from './common.js';

function optInt(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidField(name, 'an integer');
  return v;
}

export async function createImportToken(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  await authorize(r, 'importToken');
  const body = r.body ?? {};
  onlyFields(body, ['expiration', 'maxAllowedRetrievals'], 'the request body');
  const view = await r.deps.importTokens.create(
    r.instance.id,
    optInt(body.expiration, 'expiration'),
    optInt(body.maxAllowedRetrievals, 'maxAllowedRetrievals'),
  );
  return json(201, view);
}

export async function getImportToken(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  await authorize(r, 'importToken');
  return json(200, r.deps.importTokens.retrieve(r.instance.id));
}
