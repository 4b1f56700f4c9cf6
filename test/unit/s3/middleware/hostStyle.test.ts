import { describe, expect, it } from 'vitest';
import { S3Error } from '../../../../src/s3/errors.js';
import { resolveTarget } from '../../../../src/s3/middleware/hostStyle.js';

const BASE = 's3.example.com';

function bk(url: string, host = 'localhost:9000', base = BASE): { bucket?: string; key?: string } {
  const t = resolveTarget(url, host, base);
  return { bucket: t.bucket, key: t.key };
}

describe('resolveTarget: path-style', () => {
  it('service, bucket, bucket with trailing slash, object', () => {
    expect(bk('/')).toEqual({ bucket: undefined, key: undefined });
    expect(bk('')).toEqual({ bucket: undefined, key: undefined });
    expect(bk('/b')).toEqual({ bucket: 'b', key: undefined });
    expect(bk('/b/')).toEqual({ bucket: 'b', key: undefined });
    expect(bk('/b/k')).toEqual({ bucket: 'b', key: 'k' });
    expect(bk('/b/dir/sub/file.txt')).toEqual({ bucket: 'b', key: 'dir/sub/file.txt' });
  });

  it('keeps a trailing slash in the key ("folder" objects)', () => {
    expect(bk('/b/dir/')).toEqual({ bucket: 'b', key: 'dir/' });
    expect(bk('/b/dir//')).toEqual({ bucket: 'b', key: 'dir//' });
  });

  it('keeps leading and doubled slashes inside the key', () => {
    expect(bk('/b//k')).toEqual({ bucket: 'b', key: '/k' });
    expect(bk('/b/a//b')).toEqual({ bucket: 'b', key: 'a//b' });
  });

  it('decodes %2F in the key to a slash', () => {
    expect(bk('/b/a%2Fb%2Fc')).toEqual({ bucket: 'b', key: 'a/b/c' });
    expect(bk('/b/a%2fb')).toEqual({ bucket: 'b', key: 'a/b' });
  });

  it("'+' in a path is a literal plus, %2B too, and %20 is a space", () => {
    expect(bk('/b/a+b')).toEqual({ bucket: 'b', key: 'a+b' });
    expect(bk('/b/a%2Bb')).toEqual({ bucket: 'b', key: 'a+b' });
    expect(bk('/b/my%20file%20.txt')).toEqual({ bucket: 'b', key: 'my file .txt' });
    expect(bk('/b/%20lead%20and%20trail%20')).toEqual({ bucket: 'b', key: ' lead and trail ' });
  });

  it('decodes UTF-8 percent-encoding (accents, CJK, emoji)', () => {
    expect(bk('/b/caf%C3%A9')).toEqual({ bucket: 'b', key: 'café' });
    expect(bk('/b/%E6%97%A5%E6%9C%AC/%F0%9F%98%80.txt')).toEqual({ bucket: 'b', key: '日本/😀.txt' });
  });

  it('decodes exactly once: %2525 is the three characters "%25"', () => {
    expect(bk('/b/100%2525')).toEqual({ bucket: 'b', key: '100%25' });
    expect(bk('/b/%25')).toEqual({ bucket: 'b', key: '%' });
  });

  it('keeps reserved characters that arrive unencoded', () => {
    expect(bk("/b/a=b&c;d,e:f@g$h!i'j(k)l*m")).toEqual({ bucket: 'b', key: "a=b&c;d,e:f@g$h!i'j(k)l*m" });
  });

  it('splits the query off at the first "?" and keeps it raw', () => {
    const t = resolveTarget('/b/k%20x?uploadId=a%2Bb&partNumber=1&x=?y', 'localhost', BASE);
    expect(t).toEqual({ bucket: 'b', key: 'k x', rawPath: '/b/k%20x', rawQuery: 'uploadId=a%2Bb&partNumber=1&x=?y' });
    expect(resolveTarget('/b?location', 'localhost', BASE)).toEqual({
      bucket: 'b',
      rawPath: '/b',
      rawQuery: 'location',
    });
    expect(resolveTarget('/b/k', 'localhost', BASE).rawQuery).toBe('');
    expect(resolveTarget('/?', 'localhost', BASE)).toEqual({ rawPath: '/', rawQuery: '' });
  });

  it('does not decode the query into the key: an encoded "?" belongs to the key', () => {
    expect(resolveTarget('/b/what%3F?acl', 'localhost', BASE)).toMatchObject({
      bucket: 'b',
      key: 'what?',
      rawQuery: 'acl',
    });
  });

  it('is path-style whatever the Host when no base domain is configured', () => {
    expect(bk('/b/k', 'photos.s3.example.com', '')).toEqual({ bucket: 'b', key: 'k' });
    expect(bk('/b/k', undefined, '')).toEqual({ bucket: 'b', key: 'k' });
  });

  it('is path-style when the Host is the base domain itself (with or without port) or another host', () => {
    expect(bk('/b/k', 's3.example.com')).toEqual({ bucket: 'b', key: 'k' });
    expect(bk('/b/k', 's3.example.com:9000')).toEqual({ bucket: 'b', key: 'k' });
    expect(bk('/b/k', '127.0.0.1:9000')).toEqual({ bucket: 'b', key: 'k' });
    expect(bk('/b/k', '[::1]:9000')).toEqual({ bucket: 'b', key: 'k' });
    expect(bk('/b/k', 'evil-s3.example.com')).toEqual({ bucket: 'b', key: 'k' });
    expect(bk('/b/k', undefined)).toEqual({ bucket: 'b', key: 'k' });
  });
});

describe('resolveTarget: virtual-host style', () => {
  it('takes the bucket from <bucket>.<base domain>', () => {
    expect(bk('/', 'photos.s3.example.com')).toEqual({ bucket: 'photos', key: undefined });
    expect(bk('', 'photos.s3.example.com')).toEqual({ bucket: 'photos', key: undefined });
    expect(bk('/k', 'photos.s3.example.com')).toEqual({ bucket: 'photos', key: 'k' });
    expect(bk('/a/b/c', 'photos.s3.example.com')).toEqual({ bucket: 'photos', key: 'a/b/c' });
  });

  it('ignores the port and the case of the Host', () => {
    expect(bk('/k', 'photos.s3.example.com:9000')).toEqual({ bucket: 'photos', key: 'k' });
    expect(bk('/k', 'Photos.S3.Example.COM:443')).toEqual({ bucket: 'photos', key: 'k' });
  });

  it('allows dotted bucket names', () => {
    expect(bk('/k', 'my.dotted.bucket.s3.example.com')).toEqual({ bucket: 'my.dotted.bucket', key: 'k' });
  });

  it('the whole path is the key: the first segment is not a bucket', () => {
    expect(bk('/other-bucket/k', 'photos.s3.example.com')).toEqual({ bucket: 'photos', key: 'other-bucket/k' });
  });

  it('keys: trailing slash, leading slash, %2F, plus, spaces, unicode', () => {
    const h = 'photos.s3.example.com';
    expect(bk('/dir/', h)).toEqual({ bucket: 'photos', key: 'dir/' });
    expect(bk('//k', h)).toEqual({ bucket: 'photos', key: '/k' });
    expect(bk('/a%2Fb', h)).toEqual({ bucket: 'photos', key: 'a/b' });
    expect(bk('/a+b%2B', h)).toEqual({ bucket: 'photos', key: 'a+b+' });
    expect(bk('/my%20file', h)).toEqual({ bucket: 'photos', key: 'my file' });
    expect(bk('/%C3%A9t%C3%A9/%F0%9F%98%80', h)).toEqual({ bucket: 'photos', key: 'été/😀' });
  });

  it('keeps the raw path and query for signature verification', () => {
    expect(resolveTarget('/a%20b?tagging', 'photos.s3.example.com', BASE)).toEqual({
      bucket: 'photos',
      key: 'a b',
      rawPath: '/a%20b',
      rawQuery: 'tagging',
    });
  });
});

describe('resolveTarget: bad percent-encoding is InvalidURI', () => {
  for (const url of ['/b/%', '/b/%zz', '/b/a%2', '/b/%E0%A4%A', '/b/%C3', '/b/%FF', '/%ZZ/k', '/b/ok%C3%28']) {
    it(url, () => {
      let err: unknown;
      try {
        resolveTarget(url, 'localhost', BASE);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(S3Error);
      expect((err as S3Error).code).toBe('InvalidURI');
      expect((err as S3Error).status).toBe(400);
    });
  }

  it('also in virtual-host style', () => {
    expect(() => resolveTarget('/%', 'photos.s3.example.com', BASE)).toThrow(S3Error);
  });

  it("a bad escape in the query is not the path decoder's business", () => {
    expect(resolveTarget('/b/k?x=%zz', 'localhost', BASE)).toMatchObject({ bucket: 'b', key: 'k', rawQuery: 'x=%zz' });
  });
});
