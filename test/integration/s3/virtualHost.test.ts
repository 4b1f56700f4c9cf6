/**
 * Virtual-host style addressing on a configured base domain: a gateway started
 * with baseDomain "coffer.test", requests sent to 127.0.0.1 with
 * Host: <bucket>.coffer.test[:port], signed for that Host.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeKey, endpointOf, parseXml, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { md5Hex } from '../../helpers/seeded.js';
import { bodyBytes, bucketName, expectXmlError } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;

beforeAll(async () => {
  gw = await startTestGateway({ config: { baseDomain: 'coffer.test' } });
  s3 = gw.client();
  ep = endpointOf(gw);
});
afterAll(async () => {
  await gw?.close();
});

const vhost = (b: string, withPort = true) => `${b}.coffer.test${withPort ? `:${ep.port}` : ''}`;

describe('virtual-host style', () => {
  it('PUT and GET an object through <bucket>.coffer.test; path style sees the same object', async () => {
    const b = bucketName('vh');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const body = Buffer.from('virtual host body');
    const key = 'dir/a b+c.txt';
    const put = await signedRequest(ep, {
      method: 'PUT',
      path: `/${encodeKey(key)}`,
      host: vhost(b),
      body,
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(put.status, put.text()).toBe(200);
    expect(put.headers['etag']).toBe(`"${md5Hex(body)}"`);
    const get = await signedRequest(ep, { method: 'GET', path: `/${encodeKey(key)}`, host: vhost(b) });
    expect(get.status, get.text()).toBe(200);
    expect(get.body.equals(body)).toBe(true);
    const viaPath = await s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
    expect((await bodyBytes(viaPath)).equals(body)).toBe(true);
  });

  it('a Host without the port (as s3cmd sends it) works too', async () => {
    const b = bucketName('vh-noport');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('x') }));
    const get = await signedRequest(ep, { method: 'GET', path: '/k', host: vhost(b, false) });
    expect(get.status, get.text()).toBe(200);
    expect(get.text()).toBe('x');
  });

  it('GET / on the bucket host is ListObjects of that bucket; HEAD / is HeadBucket', async () => {
    const b = bucketName('vh-list');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    for (const k of ['one', 'two/three'])
      await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: Buffer.from(k) }));
    const list = await signedRequest(ep, { method: 'GET', path: '/?list-type=2', host: vhost(b) });
    expect(list.status, list.text()).toBe(200);
    const doc = parseXml(list.body).ListBucketResult as { Name?: string; Contents?: Array<{ Key: string }> };
    expect(doc.Name).toBe(b);
    expect((doc.Contents ?? []).map((c) => c.Key)).toEqual(['one', 'two/three']);
    const head = await signedRequest(ep, { method: 'HEAD', path: '/', host: vhost(b) });
    expect(head.status).toBe(200);
  });

  it('CreateBucket through the bucket host', async () => {
    const b = bucketName('vh-create');
    const res = await signedRequest(ep, { method: 'PUT', path: '/', host: vhost(b) });
    expect(res.status, res.text()).toBe(200);
    const head = await signedRequest(ep, { method: 'HEAD', path: `/${b}` });
    expect(head.status).toBe(200);
  });

  it('the bare base domain is path style: GET / lists buckets', async () => {
    const b = bucketName('vh-bare');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const res = await signedRequest(ep, { method: 'GET', path: '/', host: `coffer.test:${ep.port}` });
    expect(res.status, res.text()).toBe(200);
    expect(res.text()).toContain(`<Name>${b}</Name>`);
  });

  it('a missing bucket on the bucket host is 404 NoSuchBucket', async () => {
    const res = await signedRequest(ep, { method: 'GET', path: '/k', host: vhost(bucketName('vh-none')) });
    expectXmlError(res, 404, 'NoSuchBucket');
  });
});
