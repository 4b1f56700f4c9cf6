/**
 * Requests signed by the `aws4` npm package (an independent SigV4 signer),
 * turned into the SigV4Request shape node would give verifySigV4.
 */
import aws4 from 'aws4';
import { StaticCredentialStore } from '../../../../src/auth/credentials.js';
import type { SigV4Request, VerifyOptions } from '../../../../src/auth/sigv4/verify.js';

export const ACCESS_KEY = 'AKIDCOFFERTEST000001';
export const SECRET = 'coffer/test+secret/0123456789abcdefghijkl';
export const REGION = 'eu-test-1';
export const NOW = new Date('2026-03-01T10:20:30Z');
export const AMZ_NOW = '20260301T102030Z';

export const principal = { accountId: 'acct-1', accessKeyId: ACCESS_KEY, displayName: 'tester' };
export const creds = new StaticCredentialStore([{ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, principal }]);

export const opts = (over: Partial<VerifyOptions> = {}): VerifyOptions => ({
  region: REGION,
  service: 's3',
  now: NOW,
  maxSkewSeconds: 900,
  maxPresignSeconds: 604_800,
  ...over,
});

export interface SignInput {
  method?: string;
  /** Path with optional query, as given to aws4 (it encodes what needs encoding). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  presign?: boolean;
  region?: string;
  date?: string;
  accessKeyId?: string;
  secret?: string;
  /** Sign with the Date header only (aws4 then adds no x-amz-date). */
  dateHeaderOnly?: boolean;
}

/** Sign with aws4 and return what the server would see. */
export function signed(input: SignInput): SigV4Request {
  const headers: Record<string, string> = { ...(input.headers ?? {}) };
  if (input.dateHeaderOnly) {
    headers.Date ??= NOW.toUTCString();
    headers['X-Amz-Content-Sha256'] ??= 'UNSIGNED-PAYLOAD';
  } else if (!input.presign) {
    headers['X-Amz-Date'] ??= input.date ?? AMZ_NOW;
  }
  let path = input.path;
  if (input.presign) {
    const sep = path.includes('?') ? '&' : '?';
    path += `${sep}X-Amz-Date=${input.date ?? AMZ_NOW}`;
  }
  const req = aws4.sign(
    {
      host: 'coffer.test:9000',
      method: input.method ?? 'GET',
      path,
      headers,
      service: 's3',
      region: input.region ?? REGION,
      signQuery: input.presign === true,
      doNotModifyHeaders: input.dateHeaderOnly === true,
      ...(input.body !== undefined ? { body: input.body } : {}),
    },
    { accessKeyId: input.accessKeyId ?? ACCESS_KEY, secretAccessKey: input.secret ?? SECRET },
  );
  const full = req.path ?? '/';
  const q = full.indexOf('?');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return {
    method: req.method ?? 'GET',
    rawPath: q < 0 ? full : full.slice(0, q),
    rawQuery: q < 0 ? '' : full.slice(q + 1),
    headers: out,
  };
}
