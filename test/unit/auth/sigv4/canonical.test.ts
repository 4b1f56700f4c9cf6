import { describe, expect, it } from 'vitest';
import {
  canonicalHeaderValue,
  headerText,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  percentDecode,
  stringToSign,
  uriEncode,
  type CanonicalUriOptions,
} from '../../../../src/auth/sigv4/canonical.js';
import { deriveSigningKey, signHex } from '../../../../src/auth/sigv4/signingKey.js';
import { headerMap, suite, type SuiteVector } from './vectors.js';

const { credentials, vectors, skipped } = suite();

/** Canonical request, string to sign and signature of a vector under the given URI rules. */
function sign(v: SuiteVector, path: string, opts: CanonicalUriOptions) {
  const creq = canonicalRequest({
    method: v.method,
    canonicalUri: canonicalUri(path, opts),
    canonicalQuery: canonicalQuery(v.query, v.presigned ? ['X-Amz-Signature'] : []),
    headers: headerMap(v.headers),
    signedHeaders: v.signedHeaders,
    payloadHash: v.payloadHash,
  });
  const scope = `${v.amzDate.slice(0, 8)}/${v.region}/${v.service}/aws4_request`;
  const sts = stringToSign(v.amzDate, scope, creq);
  const key = deriveSigningKey(credentials[v.credentials].secretAccessKey, v.amzDate.slice(0, 8), v.region, v.service);
  return { creq, sts, signature: signHex(key, sts) };
}

describe('AWS SigV4 test suite (fixtures/sigv4/aws-sig-v4-test-suite.json)', () => {
  it.each(vectors.map((v) => [v.name, v] as const))("%s, with the vector service's rules", (_n, v) => {
    const got = sign(v, v.path, v.switches);
    if (v.canonicalRequest !== undefined) expect(got.creq).toBe(v.canonicalRequest);
    if (v.stringToSign !== undefined) expect(got.sts).toBe(v.stringToSign);
    expect(got.signature).toBe(v.signature);
  });

  it.each(vectors.filter((v) => v.s3Equivalent).map((v) => [v.name, v] as const))(
    '%s, under S3 rules from the wire path',
    (_n, v) => {
      expect(sign(v, v.wirePath ?? v.path, {}).signature).toBe(v.signature);
    },
  );

  it.each(vectors.filter((v) => v.s3CanonicalUri !== undefined).map((v) => [v.name, v] as const))(
    '%s: S3 encodes the wire path once',
    (_n, v) => {
      expect(canonicalUri(v.wirePath ?? v.path)).toBe(v.s3CanonicalUri);
    },
  );

  it('documents every skipped vector', () => {
    expect(skipped.every((s) => s.reason.length > 10)).toBe(true);
  });
});

describe('canonicalUri (S3 rules)', () => {
  it.each([
    ['/', '/'],
    ['', '/'],
    ['/bucket/key', '/bucket/key'],
    ['/b/a%20b', '/b/a%20b'],
    ['/b/a+b', '/b/a%2Bb'],
    ['/b/100%25', '/b/100%25'],
    ['/b/%7Etilde~', '/b/~tilde~'],
    ['/b/%2f-slash', '/b/%2F-slash'],
    ['/b/%e1%88%b4', '/b/%E1%88%B4'],
    ["/b/a!b'c(d)e*f$g", '/b/a%21b%27c%28d%29e%2Af%24g'],
    ['/b//double//./dots/../', '/b//double//./dots/../'],
    ['/b/100%', '/b/100%25'],
    ['/b/%zz', '/b/%25zz'],
    ['/b/%ff%fe', '/b/%FF%FE'],
  ])('%s -> %s', (raw, want) => {
    expect(canonicalUri(raw)).toBe(want);
  });

  it('normalises only when asked', () => {
    expect(canonicalUri('//a/./b/../c/', { normalize: true })).toBe('/a/c/');
    expect(canonicalUri('/a/..', { normalize: true })).toBe('/');
  });
});

describe('canonicalQuery', () => {
  it('sorts by encoded name then value and re-encodes both', () => {
    expect(canonicalQuery('b=2&a=3&a=1&A=0')).toBe('A=0&a=1&a=3&b=2');
    expect(canonicalQuery('prefix=a%2Fb&delimiter=%2F&list-type=2')).toBe('delimiter=%2F&list-type=2&prefix=a%2Fb');
  });

  it('keeps valueless and unknown parameters (x-id, ?uploads, ?acl)', () => {
    expect(canonicalQuery('uploads')).toBe('uploads=');
    expect(canonicalQuery('x-id=PutObject&partNumber=1&uploadId=u%2B1')).toBe(
      'partNumber=1&uploadId=u%2B1&x-id=PutObject',
    );
  });

  it('decodes "+" as a space and encodes a space as %20', () => {
    expect(canonicalQuery('prefix=a+b')).toBe('prefix=a%20b');
    expect(canonicalQuery('prefix=a%2Bb')).toBe('prefix=a%2Bb');
  });

  it('excludes named parameters', () => {
    expect(canonicalQuery('X-Amz-Signature=abc&a=1', ['X-Amz-Signature'])).toBe('a=1');
  });

  it('skips empty pieces', () => {
    expect(canonicalQuery('a=1&&b=2&')).toBe('a=1&b=2');
  });
});

describe('canonical headers and encoding helpers', () => {
  it('trims, collapses runs of whitespace and joins repeats with ","', () => {
    expect(canonicalHeaderValue('  a   b \t c  ')).toBe('a b c');
    expect(canonicalHeaderValue(['1', ' 2 , 3 '])).toBe('1,2 , 3');
    expect(canonicalHeaderValue(undefined)).toBe('');
  });

  it('a value whose bytes are UTF-8 (as Node gives them, latin1) canonicalizes to the characters: hashed as UTF-8, the wire bytes', () => {
    const wire = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    // "Å" is C3 85 and "à" C3 A0: 0x85 and 0xA0 are whitespace to \s in latin1 and must not be collapsed or trimmed.
    for (const v of ['café', 'naïve Åsa', 'x à', '日本語', '😀 end']) {
      expect(canonicalHeaderValue(wire(v))).toBe(v);
      expect(Buffer.from(canonicalHeaderValue(wire(`  ${v}  `)), 'utf8').equals(Buffer.from(v, 'utf8'))).toBe(true);
    }
    expect(canonicalHeaderValue([wire('é'), wire('ü')])).toBe('é,ü');
  });

  it('bytes that are not UTF-8, and strings already decoded, are left as they are', () => {
    expect(headerText('\xe9t\xe9')).toBe('\xe9t\xe9'); // latin1 "été": not UTF-8
    expect(headerText('café')).toBe('café');
    expect(headerText('日本')).toBe('日本');
    expect(headerText('plain ascii')).toBe('plain ascii');
  });

  it('uriEncode encodes everything but the unreserved set', () => {
    expect(uriEncode('AZaz09-._~ /?=&+%ሴ')).toBe('AZaz09-._~%20%2F%3F%3D%26%2B%25%E1%88%B4');
  });

  it('percentDecode is byte-exact and lenient', () => {
    expect(percentDecode('%E1%88%B4', false)).toEqual(Buffer.from('ሴ'));
    expect(percentDecode('a+b%2', true).toString()).toBe('a b%2');
    expect(percentDecode('%FF', false)).toEqual(Buffer.from([0xff]));
  });
});
