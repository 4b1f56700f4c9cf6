/**
 * Hostile and malformed input: bad XML (malformed, DOCTYPE/ENTITY, over 1 MiB),
 * invalid bucket names, over-long keys, oversized headers and metadata, bad
 * parameters. Every error is S3 XML with Code, Message and RequestId, never a
 * stack trace; HEAD errors have no body; failed uploads leave no blob.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { errorBody, objectPath, send, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { md5Base64 } from '../../helpers/seeded.js';
import {
  bodyBytes,
  bucketName,
  countBlobs,
  expectBlobCount,
  expectHeadError,
  expectNoStackTrace,
  expectSdkError,
  expectXmlError,
  useGateway,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ gw, s3, ep } = t));

async function bucketWith(prefix: string, keys: string[] = []): Promise<string> {
  const b = bucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: Buffer.from(k) }));
  return b;
}

async function keysOf(b: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((c) => c.Key ?? '');
}

const postDelete = (b: string, body: string | Buffer) =>
  signedRequest(ep, {
    method: 'POST',
    path: objectPath(b, undefined, 'delete'),
    body,
    headers: { 'Content-MD5': md5Base64(body), 'Content-Type': 'application/xml' },
  });

async function uploadWithPart(b: string, key: string): Promise<{ id: string; etag: string }> {
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
  const p = await s3.send(
    new UploadPartCommand({ Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: Buffer.from('part one') }),
  );
  return { id: up.UploadId!, etag: p.ETag! };
}

const postComplete = (b: string, key: string, id: string, body: string | Buffer) =>
  signedRequest(ep, {
    method: 'POST',
    path: objectPath(b, key, `uploadId=${encodeURIComponent(id)}`),
    body,
    headers: { 'Content-Type': 'application/xml' },
  });

const XXE = (inner: string) =>
  `<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Delete>${inner}</Delete>`;
const LAUGHS =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>';

describe('malformed XML', () => {
  it.each([
    ['unclosed tags', '<Delete><Object><Key>a</Key></Object'],
    ['not XML at all', 'this is not xml'],
    ['wrong root element', '<Remove><Object><Key>a</Key></Object></Remove>'],
    ['an Object without a Key', '<Delete><Object><Nope>a</Nope></Object></Delete>'],
    ['no Object at all', '<Delete></Delete>'],
    ['empty body', ''],
  ])('DeleteObjects with %s is 400 MalformedXML and deletes nothing', async (_l, xml) => {
    const b = await bucketWith('bad-del', ['a']);
    expectXmlError(await postDelete(b, xml), 400, 'MalformedXML');
    expect(await keysOf(b)).toEqual(['a']);
  });

  it.each([
    [
      'unclosed tags',
      (e: string) => `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${e}</ETag></Part>`,
    ],
    [
      'a non-numeric PartNumber',
      (e: string) =>
        `<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>${e}</ETag></Part></CompleteMultipartUpload>`,
    ],
    ['no parts', () => '<CompleteMultipartUpload></CompleteMultipartUpload>'],
    ['garbage', () => '{"parts": [1]}'],
  ])('CompleteMultipartUpload with %s is 400 MalformedXML; the upload survives', async (_l, mk) => {
    const b = await bucketWith('bad-complete');
    const { id, etag } = await uploadWithPart(b, 'k');
    expectXmlError(await postComplete(b, 'k', id, mk(etag)), 400, 'MalformedXML');
    const parts = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: id }));
    expect((parts.Parts ?? []).length).toBe(1);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 404, 'NoSuchKey');
  });

  it('a deeply nested XML body is 400 MalformedXML, not 500, and deletes nothing', async () => {
    const b = await bucketWith('deep-xml', ['a']);
    const depth = 5000;
    const deep = `<Delete><Object><Key>a</Key></Object>${'<x>'.repeat(depth)}${'</x>'.repeat(depth)}</Delete>`;
    expectXmlError(await postDelete(b, deep), 400, 'MalformedXML');
    expect(await keysOf(b)).toEqual(['a']);
    const { id, etag } = await uploadWithPart(b, 'k');
    const complete = `<CompleteMultipartUpload>${'<Part>'.repeat(depth)}<PartNumber>1</PartNumber><ETag>${etag}</ETag>${'</Part>'.repeat(depth)}</CompleteMultipartUpload>`;
    expectXmlError(await postComplete(b, 'k', id, complete), 400, 'MalformedXML');
  });

  it('CreateBucket with a malformed CreateBucketConfiguration is 400 MalformedXML and creates nothing', async () => {
    const b = bucketName('bad-cbc');
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b),
      body: '<CreateBucketConfiguration><LocationConstraint>us-east-1',
    });
    expectXmlError(res, 400, 'MalformedXML');
    expectHeadError(await signedRequest(ep, { method: 'HEAD', path: objectPath(b) }), 404);
  });
});

describe('DOCTYPE / ENTITY', () => {
  it('DeleteObjects with an external entity (XXE) is 400 and deletes nothing, leaking nothing', async () => {
    const b = await bucketWith('xxe-del', ['a']);
    const res = await postDelete(b, XXE('<Object><Key>&xxe;</Key></Object><Object><Key>a</Key></Object>'));
    expectXmlError(res, 400);
    expect(res.text()).not.toMatch(/root:|\/bin\/(ba)?sh/);
    expect(await keysOf(b)).toEqual(['a']);
  });

  it('DeleteObjects with a billion-laughs DOCTYPE is 400, quickly', async () => {
    const b = await bucketWith('laughs-del', ['a']);
    const t0 = Date.now();
    const res = await postDelete(b, `${LAUGHS}<Delete><Object><Key>&lol3;</Key></Object></Delete>`);
    expectXmlError(res, 400);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await keysOf(b)).toEqual(['a']);
  });

  it('CompleteMultipartUpload with a DOCTYPE is 400; the upload survives', async () => {
    const b = await bucketWith('xxe-complete');
    const { id, etag } = await uploadWithPart(b, 'k');
    const body = `<?xml version="1.0"?><!DOCTYPE CompleteMultipartUpload [<!ENTITY e "${etag.replace(/"/g, '')}">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>`;
    expectXmlError(await postComplete(b, 'k', id, body), 400);
    expect(((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: id }))).Parts ?? []).length).toBe(1);
  });

  it('a lower-case <!doctype is refused too', async () => {
    const b = await bucketWith('xxe-lower', ['a']);
    expectXmlError(await postDelete(b, '<!doctype Delete><Delete><Object><Key>a</Key></Object></Delete>'), 400);
    expect(await keysOf(b)).toEqual(['a']);
  });
});

describe('oversized XML', () => {
  const bigDelete = () => {
    const head = '<Delete>';
    const filler = `<!--${'x'.repeat(1024 * 1024 + 10)}-->`;
    return `${head}${filler}<Object><Key>a</Key></Object></Delete>`;
  };

  it('a DeleteObjects body over 1 MiB (with Content-Length) is 400 and deletes nothing', async () => {
    const b = await bucketWith('big-del', ['a']);
    const res = await postDelete(b, bigDelete());
    expectXmlError(res, 400);
    expect(await keysOf(b)).toEqual(['a']);
  });

  it('a DeleteObjects body over 1 MiB sent chunked (no Content-Length) is 400 and deletes nothing', async () => {
    const b = await bucketWith('big-del-te', ['a']);
    const body = Buffer.from(bigDelete());
    const pieces = function* () {
      for (let off = 0; off < body.length; off += 64 * 1024) yield body.subarray(off, off + 64 * 1024);
    };
    const res = await signedRequest(ep, {
      method: 'POST',
      path: objectPath(b, undefined, 'delete'),
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'Transfer-Encoding': 'chunked', 'Content-MD5': md5Base64(body) },
      sendBody: pieces(),
    });
    expectXmlError(res, 400);
    expect(await keysOf(b)).toEqual(['a']);
  });

  it('a CompleteMultipartUpload body over 1 MiB is 400; the upload survives', async () => {
    const b = await bucketWith('big-complete');
    const { id, etag } = await uploadWithPart(b, 'k');
    const body = `<CompleteMultipartUpload><!--${'y'.repeat(1024 * 1024 + 10)}--><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`;
    expectXmlError(await postComplete(b, 'k', id, body), 400);
    expect(((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: id }))).Parts ?? []).length).toBe(1);
  });
});

describe('names and sizes', () => {
  it.each([
    'ab',
    'UpperCase',
    'under_score',
    '-leading-dash',
    'trailing-dash-',
    'double..dot',
    '192.168.5.4',
    'x'.repeat(64),
    'bad!char',
    'xn--prefixed',
    // A label next to a dot must start and end with a letter or digit.
    'dash-.dot',
    'dot.-dash',
    'a.b-.c',
    'sthree-reserved',
    'reserved--x-s3',
  ])('CreateBucket %j is 400 InvalidBucketName', async (name) => {
    const res = await signedRequest(ep, { method: 'PUT', path: `/${encodeURIComponent(name)}` });
    expectXmlError(res, 400, 'InvalidBucketName');
    const list = await signedRequest(ep, { method: 'GET', path: '/' });
    expect(list.text()).not.toContain(`<Name>${name}</Name>`);
  });

  it('a 63-character name and a 3-character name are valid', async () => {
    for (const name of [`a${'b'.repeat(61)}c`, 'a-1']) {
      const res = await signedRequest(ep, { method: 'PUT', path: `/${name}` });
      expect(res.status, res.text()).toBe(200);
    }
  });

  it('a key of 1024 UTF-8 bytes is fine; 1025 bytes is 400 KeyTooLongError and leaves no blob', async () => {
    const b = await bucketWith('longkey');
    const ok = 'é'.repeat(512); // 1024 bytes, 512 characters
    await s3.send(new PutObjectCommand({ Bucket: b, Key: ok, Body: Buffer.from('fits') }));
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: ok })))).toString()).toBe('fits');
    const before = await countBlobs(gw.dataDir);
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: ok + 'a', Body: Buffer.from('too long') })),
      400,
      'KeyTooLongError',
    );
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'k'.repeat(1025), Body: Buffer.from('too long') })),
      400,
      'KeyTooLongError',
    );
    await expectBlobCount(gw.dataDir, before, 'blobs after KeyTooLongError');
  });

  it('a key containing NUL is 400 InvalidArgument on PUT, GET, HEAD and DELETE, never a 500, and stores nothing', async () => {
    const b = await bucketWith('nulkey');
    const before = await countBlobs(gw.dataDir);
    const path = `/${b}/a%00b`;
    expectXmlError(await signedRequest(ep, { method: 'PUT', path, body: Buffer.from('x') }), 400, 'InvalidArgument');
    expectXmlError(await signedRequest(ep, { method: 'GET', path }), 400, 'InvalidArgument');
    expectXmlError(await signedRequest(ep, { method: 'DELETE', path }), 400, 'InvalidArgument');
    expectHeadError(await signedRequest(ep, { method: 'HEAD', path }), 400);
    expectXmlError(await signedRequest(ep, { method: 'POST', path: `${path}?uploads` }), 400, 'InvalidArgument');
    await expectBlobCount(gw.dataDir, before);
    expect(await keysOf(b)).toEqual([]);
  });

  it('user metadata over 2 KiB is 400 MetadataTooLarge and leaves no blob', async () => {
    const b = await bucketWith('bigmeta');
    const before = await countBlobs(gw.dataDir);
    await expectSdkError(
      s3.send(
        new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('x'), Metadata: { big: 'm'.repeat(2100) } }),
      ),
      400,
      'MetadataTooLarge',
    );
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 404, 'NoSuchKey');
    await expectBlobCount(gw.dataDir, before);
  });

  it('a header section over 16 KiB is 400 with an XML error body', async () => {
    const b = await bucketWith('bighdr');
    const res = await send(ep, {
      method: 'GET',
      path: objectPath(b, 'k'),
      headers: { 'x-amz-meta-huge': 'h'.repeat(20 * 1024) },
    });
    expect(res.status).toBe(400);
    expect(res.text()).toMatch(/<Error>[\s\S]*<Code>[^<]+<\/Code>[\s\S]*<\/Error>/);
    expect(String(res.headers['content-type'])).toMatch(/xml/);
    expectNoStackTrace(res.text());
  });

  it('the oversized-header error also carries a Message and a RequestId', async () => {
    const res = await send(ep, { method: 'GET', path: '/', headers: { 'x-amz-meta-huge': 'h'.repeat(20 * 1024) } });
    expectXmlError(res, 400, 'RequestHeaderSectionTooLarge');
  });
});

describe('bad parameters', () => {
  it.each(['0', '10001', 'abc'])(
    'UploadPartCopy with partNumber=%s is 400 InvalidArgument, as UploadPart',
    async (pn) => {
      const b = await bucketWith('bad-pn-copy', ['src']);
      const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }));
      const before = await countBlobs(gw.dataDir);
      const res = await signedRequest(ep, {
        method: 'PUT',
        path: objectPath(b, 'k', `partNumber=${pn}&uploadId=${encodeURIComponent(up.UploadId!)}`),
        headers: { 'x-amz-copy-source': `/${b}/src` },
      });
      expectXmlError(res, 400, 'InvalidArgument');
      expect(errorBody(res).Message).toBe('Part number must be an integer between 1 and 10000, inclusive');
      await expectBlobCount(gw.dataDir, before);
    },
  );

  it.each(['0', '10001', 'abc', '-1'])('UploadPart with partNumber=%s is 400 InvalidArgument', async (pn) => {
    const b = await bucketWith('bad-pn');
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }));
    const before = await countBlobs(gw.dataDir);
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k', `partNumber=${pn}&uploadId=${encodeURIComponent(up.UploadId!)}`),
      body: Buffer.from('data'),
    });
    expectXmlError(res, 400, 'InvalidArgument');
    await expectBlobCount(gw.dataDir, before);
  });

  it.each(['abc', '-1'])('ListObjectsV2 with max-keys=%s is 400 InvalidArgument', async (mk) => {
    const b = await bucketWith('bad-maxkeys');
    expectXmlError(
      await signedRequest(ep, { method: 'GET', path: objectPath(b, undefined, `list-type=2&max-keys=${mk}`) }),
      400,
      'InvalidArgument',
    );
  });

  // AWS refuses an empty token (boto3's ContinuationToken='' is a client bug, not "first page").
  it('an empty continuation-token is 400 InvalidArgument naming it', async () => {
    const b = await bucketWith('empty-token', ['a']);
    const res = await signedRequest(ep, {
      method: 'GET',
      path: objectPath(b, undefined, 'list-type=2&continuation-token='),
    });
    expectXmlError(res, 400, 'InvalidArgument');
    expect(errorBody(res).Message).toBe('The continuation token provided is incorrect');
    expect(errorBody(res).raw).toContain('<ArgumentName>continuation-token</ArgumentName>');
  });

  it('a continuation token that was never issued is 400 InvalidArgument', async () => {
    const b = await bucketWith('bad-token', ['a']);
    expectXmlError(
      await signedRequest(ep, {
        method: 'GET',
        path: objectPath(b, undefined, 'list-type=2&continuation-token=bm90LWEtdG9rZW4'),
      }),
      400,
      'InvalidArgument',
    );
  });

  it('a bad percent-encoding in the path is 400 InvalidURI, not a 500', async () => {
    // aws4 cannot sign an undecodable path, so this goes unsigned: the path is
    // refused before authentication, as S3 does, so the answer is InvalidURI, not AccessDenied.
    const res = await send(ep, { method: 'GET', path: '/bucket/%ZZbad' });
    expectXmlError(res, 400, 'InvalidURI');
    // errorBody gives the XML text as sent (the apostrophe escaped).
    expect(errorBody(res)).toMatchObject({
      Message: 'Couldn&apos;t parse the specified URI.',
      Resource: '/bucket/%ZZbad',
    });
  });
});

describe('every error is XML with Code, Message, RequestId, without internals', () => {
  it.each([
    ['PATCH on a bucket (405)', 'PATCH', '/some-bucket', 405],
    ['POST on the service (405)', 'POST', '/', 405],
    ['an unsupported sub-resource (501)', 'GET', '/some-bucket?replication', 501],
    ['GetBucketPolicyStatus of a missing bucket (404, not a listing)', 'GET', '/no-such-bucket-here?policyStatus', 404],
    ['an unknown sub-resource (501, not a listing)', 'GET', '/some-bucket?someFutureThing', 501],
    ['a missing bucket (404)', 'GET', '/no-such-bucket-here', 404],
    ['a missing upload (404)', 'GET', '/no-such-bucket-here/k?uploadId=nope', 404],
  ] as const)('%s', async (_l, method, path, status) => {
    const res = await signedRequest(ep, { method, path });
    expectXmlError(res, status);
    expect(res.headers['x-amz-request-id']).toBe(errorBody(res).RequestId);
  });

  it.each([
    ['missing bucket', (b: string) => `/${b}-nope`, 404],
    ['missing key', (b: string) => `/${b}/nope`, 404],
    ['precondition failed', (b: string) => `/${b}/k`, 412],
  ] as const)('HEAD error (%s) has no body', async (label, path, status) => {
    const b = await bucketWith('headerr', ['k']);
    const headers: Record<string, string> =
      label === 'precondition failed' ? { 'If-Match': '"ffffffffffffffffffffffffffffffff"' } : {};
    expectHeadError(await signedRequest(ep, { method: 'HEAD', path: path(b), headers }), status);
  });
});
