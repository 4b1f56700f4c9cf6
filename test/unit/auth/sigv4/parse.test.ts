import { describe, expect, it } from 'vitest';
import { SigV4Error } from '../../../../src/auth/sigv4/errors.js';
import { parseAuthorizationHeader, parsePresignedQuery, queryParameters } from '../../../../src/auth/sigv4/parse.js';

const SIG = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';
const CRED = 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';

describe('parseAuthorizationHeader', () => {
  it('parses the AWS example', () => {
    expect(
      parseAuthorizationHeader(
        `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;range;x-amz-date, Signature=${SIG}`,
      ),
    ).toEqual({
      kind: 'header',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      scopeDate: '20130524',
      region: 'us-east-1',
      service: 's3',
      scope: '20130524/us-east-1/s3/aws4_request',
      signedHeaders: ['host', 'range', 'x-amz-date'],
      signature: SIG,
    });
  });

  it('tolerates spacing variants and field order, lower-cases names and hex', () => {
    const p = parseAuthorizationHeader(
      `  AWS4-HMAC-SHA256\tSignature = ${SIG.toUpperCase()} ,SignedHeaders=Host;X-Amz-Date,Credential=${CRED},`,
    );
    expect(p.signedHeaders).toEqual(['host', 'x-amz-date']);
    expect(p.signature).toBe(SIG);
  });

  it.each([
    ['AWS AKID:sig', 'InvalidRequest'],
    ['AWS4-ECDSA-P256-SHA256 Credential=x', 'InvalidRequest'],
    [`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host`, 'AuthorizationHeaderMalformed'],
    [
      `AWS4-HMAC-SHA256 Credential=AKID/2013-05-24/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${SIG}`,
      'AuthorizationHeaderMalformed',
    ],
    [
      `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, Signature=${SIG}`,
      'AuthorizationHeaderMalformed',
    ],
    [
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;bad header, Signature=${SIG}`,
      'AuthorizationHeaderMalformed',
    ],
    [`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=xyz`, 'AuthorizationHeaderMalformed'],
  ])('%s -> %s', (value, code) => {
    expect(() => parseAuthorizationHeader(value)).toThrow(expect.objectContaining({ code }));
  });

  it('never echoes the signature in its messages', () => {
    try {
      parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}0`);
    } catch (e) {
      expect((e as SigV4Error).message).not.toContain(SIG);
    }
  });
});

describe('parsePresignedQuery', () => {
  const q =
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    `&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=${SIG}`;

  it('parses the AWS example', () => {
    const p = parsePresignedQuery(q);
    expect(p).toMatchObject({
      kind: 'presigned',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      amzDate: '20130524T000000Z',
      expires: 86400,
      signedHeaders: ['host'],
    });
  });

  it.each([
    ['missing X-Amz-Expires', q.replace('&X-Amz-Expires=86400', '')],
    ['another algorithm', q.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')],
    ['negative expiry', q.replace('86400', '-5')],
    ['non-numeric expiry', q.replace('86400', '1e3')],
    ['repeated signature', `${q}&X-Amz-Signature=${SIG}`],
  ])('%s -> AuthorizationQueryParametersError', (_n, query) => {
    expect(() => parsePresignedQuery(query)).toThrow(
      expect.objectContaining({ code: 'AuthorizationQueryParametersError' }),
    );
  });
});

describe('queryParameters', () => {
  it('decodes names and values and reports repeats', () => {
    const { params, repeated } = queryParameters('a=1&b=x%2By+z&a=2&flag');
    expect(params.get('a')).toBe('1');
    expect(params.get('b')).toBe('x+y z');
    expect(params.get('flag')).toBe('');
    expect([...repeated]).toEqual(['a']);
  });
});
