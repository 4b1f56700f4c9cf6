import { describe, expect, it } from 'vitest';
import { StaticCredentialStore } from '../../../../src/auth/credentials.js';
import { SigV4Error, type SigV4ErrorCode } from '../../../../src/auth/sigv4/errors.js';
import { isAnonymous, verifySigV4, type SigV4Request, type VerifyOptions } from '../../../../src/auth/sigv4/verify.js';
import { ACCESS_KEY, AMZ_NOW, creds, NOW, opts, principal, REGION, signed } from './signers.js';
import { headerMap, s3Examples } from './vectors.js';

async function rejects(req: SigV4Request, code: SigV4ErrorCode, o: VerifyOptions = opts()): Promise<SigV4Error> {
  const err = await verifySigV4(req, creds, o).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SigV4Error);
  expect((err as SigV4Error).code).toBe(code);
  return err as SigV4Error;
}

const withHeaders = (req: SigV4Request, h: Record<string, string | undefined>): SigV4Request => ({
  ...req,
  headers: { ...req.headers, ...h },
});

describe('verifySigV4: the S3 API reference examples (fixtures/sigv4/s3-examples.json)', () => {
  const ex = s3Examples();
  const store = new StaticCredentialStore([
    { ...ex.credentials, principal: { ...principal, accessKeyId: ex.credentials.accessKeyId } },
  ]);
  const o = opts({ region: 'us-east-1', now: new Date(ex.now) });
  it.each(ex.requests.map((r) => [r.name, r] as const))('%s', async (_n, r) => {
    const auth = await verifySigV4(
      { method: r.method, rawPath: r.rawPath, rawQuery: r.rawQuery, headers: headerMap(r.headers) },
      store,
      o,
    );
    expect(auth.payloadMode).toBe(r.payloadMode);
    expect(auth.amzDate).toBe('20130524T000000Z');
    expect(auth.scope).toBe('20130524/us-east-1/s3/aws4_request');
    expect(auth.presigned).toBe(r.rawQuery.includes('X-Amz-Signature'));
  });

  it('reports the string to sign (and never the canonical request) on a mismatch', async () => {
    const r = ex.requests[0];
    const headers = headerMap(r.headers);
    const err = await verifySigV4(
      { method: 'GET', rawPath: '/test.txt', rawQuery: '', headers: { ...headers, range: 'bytes=0-8' } },
      store,
      o,
    ).catch((e: SigV4Error) => e);
    expect(err).toBeInstanceOf(SigV4Error);
    expect((err as SigV4Error).code).toBe('SignatureDoesNotMatch');
    expect((err as SigV4Error).detail?.StringToSign).toMatch(/^AWS4-HMAC-SHA256\n20130524T000000Z\n/);
    expect(JSON.stringify((err as SigV4Error).detail)).not.toContain('range:');
  });
});

describe('verifySigV4: header auth signed by aws4', () => {
  it.each([
    ['/bucket'],
    ['/bucket/key.txt?x-id=GetObject'],
    ['/bucket/dir/with space/ünïcødé ключ.bin'],
    ['/bucket/100%25 done.txt'],
    ['/bucket/a%2Bb.txt'],
    ["/bucket/~tilde/!$&'()*,;=:@"],
    ['/bucket?list-type=2&prefix=photos%2F2026&delimiter=%2F&encoding-type=url'],
    ['/bucket/key?uploads'],
    ['/bucket/key?partNumber=3&uploadId=abc%2Bdef%3D%3D'],
  ])('%s', async (path) => {
    const auth = await verifySigV4(signed({ path }), creds, opts());
    expect(auth.principal).toEqual(principal);
    expect(auth.accessKeyId).toBe(ACCESS_KEY);
    expect(auth.region).toBe(REGION);
    expect(auth.presigned).toBe(false);
    expect(auth.payloadMode).toBe('sha256');
    expect(auth.payloadHash).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(auth.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(auth.signingKey).toHaveLength(32);
  });

  it('a PUT with a body and user metadata', async () => {
    const req = signed({
      method: 'PUT',
      path: '/b/k',
      body: 'hello',
      headers: { 'x-amz-meta-color': '  blue   sky ', 'Content-Type': 'text/plain' },
    });
    const auth = await verifySigV4(req, creds, opts());
    expect(auth.payloadHash).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it.each([
    ['UNSIGNED-PAYLOAD', 'unsigned'],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'streaming-signed'],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'streaming-signed-trailer'],
    ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'streaming-unsigned-trailer'],
  ])('x-amz-content-sha256: %s -> %s', async (value, mode) => {
    const auth = await verifySigV4(
      signed({ method: 'PUT', path: '/b/k', headers: { 'X-Amz-Content-Sha256': value } }),
      creds,
      opts(),
    );
    expect(auth.payloadMode).toBe(mode);
    expect(auth.payloadHash).toBeUndefined();
  });

  it('tolerates extra spaces and missing spaces in the Authorization header', async () => {
    const req = signed({ path: '/b/k' });
    const a = String(req.headers.authorization);
    const spaced = a.replace('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA256   ').replace(/, /g, ' ,  ').replace(/=/g, ' = ');
    await verifySigV4(withHeaders(req, { authorization: spaced }), creds, opts());
    await verifySigV4(withHeaders(req, { authorization: a.replace(/, /g, ',') }), creds, opts());
  });

  it('accepts a Date header instead of x-amz-date', async () => {
    const req = signed({ path: '/b/k', dateHeaderOnly: true });
    expect(req.headers['x-amz-date']).toBeUndefined();
    expect(String(req.headers.authorization)).toContain('SignedHeaders=date;host;x-amz-content-sha256');
    const auth = await verifySigV4(req, creds, opts());
    expect(auth.amzDate).toBe(AMZ_NOW);
    await rejects(req, 'RequestTimeTooSkewed', opts({ now: new Date(NOW.getTime() + 3_600_000) }));
  });

  it('reads a literal "+" in a path as "+", never as a space', async () => {
    // aws4 signs /b/a+b as if it were /b/a%20b (form decoding); SDKs send a '+'
    // in a key as %2B. Only the literal reading is accepted, so a request signed
    // for key "a b" cannot be replayed against key "a+b".
    await verifySigV4(signed({ path: '/b/a%2Bb' }), creds, opts());
    await verifySigV4(signed({ path: '/b/a%20b' }), creds, opts());
    await rejects(signed({ path: '/b/a+b' }), 'SignatureDoesNotMatch');
    await rejects({ ...signed({ path: '/b/a%20b' }), rawPath: '/b/a+b' }, 'SignatureDoesNotMatch');
  });

  it('accepts the clock within the skew window either way', async () => {
    await verifySigV4(signed({ path: '/b/k' }), creds, opts({ now: new Date(NOW.getTime() + 899_000) }));
    await verifySigV4(signed({ path: '/b/k' }), creds, opts({ now: new Date(NOW.getTime() - 899_000) }));
  });
});

describe('verifySigV4: one changed byte fails', () => {
  const base = signed({
    method: 'PUT',
    path: '/bucket/key.txt?x-id=PutObject',
    headers: { 'x-amz-meta-a': 'b' },
    body: 'x',
  });
  it.each([
    ['path', { ...base, rawPath: '/bucket/key.txu' }],
    ['path case', { ...base, rawPath: '/bucket/Key.txt' }],
    ['query', { ...base, rawQuery: 'x-id=PutObjecu' }],
    ['added query parameter', { ...base, rawQuery: 'x-id=PutObject&acl' }],
    ['method', { ...base, method: 'POST' }],
    ['signed header', withHeaders(base, { 'x-amz-meta-a': 'c' })],
    ['host', withHeaders(base, { host: 'coffer.test:9001' })],
    ['payload hash', withHeaders(base, { 'x-amz-content-sha256': 'f'.repeat(64) })],
    [
      'signature',
      withHeaders(base, {
        authorization: String(base.headers.authorization).replace(
          /Signature=(.)/,
          (_m, c: string) => `Signature=${c === 'a' ? 'b' : 'a'}`,
        ),
      }),
    ],
  ])('%s', async (_n, req) => {
    await rejects(req, 'SignatureDoesNotMatch');
  });

  it('a wrong secret', async () => {
    await rejects(signed({ path: '/b/k', secret: 'not-the-secret' }), 'SignatureDoesNotMatch');
  });
});

describe('verifySigV4: request rules', () => {
  it('unknown access key -> InvalidAccessKeyId', async () => {
    const err = await rejects(signed({ path: '/b/k', accessKeyId: 'AKIDUNKNOWN' }), 'InvalidAccessKeyId');
    expect(err.detail?.AWSAccessKeyId).toBe('AKIDUNKNOWN');
  });

  it('wrong region -> AuthorizationHeaderMalformed with <Region> (s3cmd retries with it)', async () => {
    const err = await rejects(signed({ path: '/b?location', region: 'us-east-1' }), 'AuthorizationHeaderMalformed');
    expect(err.detail).toEqual({ Region: REGION });
    expect(err.message).toContain("'us-east-1' is wrong");
  });

  it('clock skew beyond 15 minutes -> RequestTimeTooSkewed', async () => {
    const err = await rejects(
      signed({ path: '/b/k' }),
      'RequestTimeTooSkewed',
      opts({ now: new Date(NOW.getTime() + 901_000) }),
    );
    expect(err.detail?.RequestTime).toBe(AMZ_NOW);
    await rejects(signed({ path: '/b/k' }), 'RequestTimeTooSkewed', opts({ now: new Date(NOW.getTime() - 901_000) }));
  });

  it('scope date differing from x-amz-date -> AuthorizationHeaderMalformed', async () => {
    const req = signed({ path: '/b/k' });
    const a = String(req.headers.authorization).replace('/20260301/', '/20260302/');
    await rejects(withHeaders(req, { authorization: a }), 'AuthorizationHeaderMalformed');
  });

  it('another service in the scope -> AuthorizationHeaderMalformed', async () => {
    const req = signed({ path: '/b/k' });
    await rejects(
      withHeaders(req, { authorization: String(req.headers.authorization).replace('/s3/', '/sqs/') }),
      'AuthorizationHeaderMalformed',
    );
  });

  it('missing x-amz-content-sha256 -> InvalidRequest', async () => {
    const req = signed({ path: '/b/k' });
    const err = await rejects(withHeaders(req, { 'x-amz-content-sha256': undefined }), 'InvalidRequest');
    expect(err.message).toContain('x-amz-content-sha256');
  });

  it('an unknown x-amz-content-sha256 value -> InvalidArgument', async () => {
    await rejects(
      signed({ path: '/b/k', headers: { 'X-Amz-Content-Sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD' } }),
      'InvalidArgument',
    );
    await rejects(
      signed({ path: '/b/k', headers: { 'X-Amz-Content-Sha256': 'STREAMING-UNSIGNED-PAYLOAD' } }),
      'InvalidArgument',
    );
  });

  it('an x-amz-* header that is not signed -> AccessDenied', async () => {
    const err = await rejects(withHeaders(signed({ path: '/b/k' }), { 'x-amz-meta-evil': '1' }), 'AccessDenied');
    expect(err.detail?.HeadersNotSigned).toBe('x-amz-meta-evil');
  });

  it('host not signed -> AuthorizationHeaderMalformed', async () => {
    const req = signed({ path: '/b/k' });
    const a = String(req.headers.authorization).replace('SignedHeaders=host;', 'SignedHeaders=');
    await rejects(withHeaders(req, { authorization: a }), 'AuthorizationHeaderMalformed');
  });

  it.each([
    ['no Signature', (a: string) => a.replace(/, Signature=.*/, '')],
    ['short Signature', (a: string) => a.slice(0, -2)],
    ['bad Credential', (a: string) => a.replace('/aws4_request', '/aws5_request')],
    ['junk field', (a: string) => `${a}, Junk`],
    ['scheme only', () => 'AWS4-HMAC-SHA256'],
  ])('malformed header (%s) -> AuthorizationHeaderMalformed', async (_n, edit) => {
    const req = signed({ path: '/b/k' });
    await rejects(
      withHeaders(req, { authorization: edit(String(req.headers.authorization)) }),
      'AuthorizationHeaderMalformed',
    );
  });

  it('SigV2 -> InvalidRequest', async () => {
    await rejects(withHeaders(signed({ path: '/b/k' }), { authorization: 'AWS AKID:c2lnbmF0dXJl' }), 'InvalidRequest');
  });

  it('missing or invalid date -> AccessDenied', async () => {
    await rejects(withHeaders(signed({ path: '/b/k' }), { 'x-amz-date': undefined }), 'AccessDenied');
    await rejects(withHeaders(signed({ path: '/b/k' }), { 'x-amz-date': '20260230T102030Z' }), 'AccessDenied');
  });

  it('header and query auth together -> InvalidArgument', async () => {
    const pre = signed({ path: '/b/k', presign: true });
    await rejects({ ...signed({ path: '/b/k' }), rawQuery: pre.rawQuery }, 'InvalidArgument');
  });

  it('no credentials -> MissingAuthenticationToken', async () => {
    await rejects(
      { method: 'GET', rawPath: '/b/k', rawQuery: '', headers: { host: 'h' } },
      'MissingAuthenticationToken',
    );
  });
});

describe('verifySigV4: presigned URLs signed by aws4', () => {
  it.each([
    ['/b/k'],
    ['/b/dir/ünï cødé%2Bplus.txt'],
    ['/b/k?response-content-disposition=attachment%3B%20filename%3D%22a.txt%22&x-id=GetObject'],
  ])('%s', async (path) => {
    const auth = await verifySigV4(signed({ path, presign: true }), creds, opts());
    expect(auth.presigned).toBe(true);
    expect(auth.payloadMode).toBe('unsigned');
    expect(auth.amzDate).toBe(AMZ_NOW);
  });

  it('is valid until X-Amz-Expires, then AccessDenied "Request has expired"', async () => {
    const req = signed({ path: '/b/k?X-Amz-Expires=60', presign: true });
    await verifySigV4(req, creds, opts({ now: new Date(NOW.getTime() + 60_000) }));
    const err = await rejects(req, 'AccessDenied', opts({ now: new Date(NOW.getTime() + 61_000) }));
    expect(err.message).toBe('Request has expired');
  });

  it('a URL dated in the future is not valid yet', async () => {
    const req = signed({ path: '/b/k', presign: true });
    await rejects(req, 'AccessDenied', opts({ now: new Date(NOW.getTime() - 3_600_000) }));
  });

  it('X-Amz-Expires over 7 days -> AuthorizationQueryParametersError', async () => {
    await verifySigV4(signed({ path: '/b/k?X-Amz-Expires=604800', presign: true }), creds, opts());
    await rejects(signed({ path: '/b/k?X-Amz-Expires=604801', presign: true }), 'AuthorizationQueryParametersError');
  });

  it('wrong region -> AuthorizationQueryParametersError with <Region>', async () => {
    const err = await rejects(
      signed({ path: '/b/k', presign: true, region: 'us-east-1' }),
      'AuthorizationQueryParametersError',
    );
    expect(err.detail).toEqual({ Region: REGION });
  });

  it('a changed query parameter or path fails', async () => {
    const req = signed({ path: '/b/k?x-id=GetObject', presign: true });
    await rejects(
      { ...req, rawQuery: req.rawQuery.replace('x-id=GetObject', 'x-id=PutObject') },
      'SignatureDoesNotMatch',
    );
    await rejects(
      { ...req, rawQuery: req.rawQuery.replace('X-Amz-Expires=86400', 'X-Amz-Expires=86401') },
      'SignatureDoesNotMatch',
    );
    await rejects({ ...req, rawPath: '/b/l' }, 'SignatureDoesNotMatch');
  });

  it('a missing or repeated parameter -> AuthorizationQueryParametersError', async () => {
    const req = signed({ path: '/b/k', presign: true });
    await rejects(
      { ...req, rawQuery: req.rawQuery.replace(/&?X-Amz-SignedHeaders=[^&]*/, '') },
      'AuthorizationQueryParametersError',
    );
    await rejects({ ...req, rawQuery: `${req.rawQuery}&X-Amz-Expires=5` }, 'AuthorizationQueryParametersError');
    await rejects(
      { ...req, rawQuery: req.rawQuery.replace('X-Amz-Expires=86400', 'X-Amz-Expires=-1') },
      'AuthorizationQueryParametersError',
    );
  });

  it('unknown key -> InvalidAccessKeyId', async () => {
    await rejects(signed({ path: '/b/k', presign: true, accessKeyId: 'AKIDNOPE' }), 'InvalidAccessKeyId');
  });

  it('an unsigned x-amz-* header sent with the URL -> AccessDenied', async () => {
    await rejects(withHeaders(signed({ path: '/b/k', presign: true }), { 'x-amz-acl': 'public-read' }), 'AccessDenied');
  });
});

describe('isAnonymous', () => {
  const bare: SigV4Request = { method: 'GET', rawPath: '/b/k', rawQuery: 'x-id=GetObject', headers: { host: 'h' } };
  it('is true without Authorization or presign parameters', () => {
    expect(isAnonymous(bare)).toBe(true);
  });
  it('is false with either form, even a half-formed presigned URL', () => {
    expect(isAnonymous(signed({ path: '/b/k' }))).toBe(false);
    expect(isAnonymous(signed({ path: '/b/k', presign: true }))).toBe(false);
    expect(isAnonymous({ ...bare, rawQuery: 'X-Amz-Credential=AKID%2F20260301' })).toBe(false);
  });
});
