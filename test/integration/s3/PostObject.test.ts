/**
 * Browser uploads: POST Object with a SigV4 POST policy, sent as a browser
 * sends it (fetch + FormData), and as a raw stream of 20 MiB to show that the
 * file part reaches the blob store while the client is still sending it.
 * Policies are built and signed here with node:crypto, independently of the
 * server's code.
 */
import { createHash, createHmac } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { errorBody } from '../../helpers/rawS3.js';
import {
  blobFiles,
  bodyBytes,
  createBucket,
  expectAbsent,
  tmpFiles,
  useGateway,
  type GatewayUnderTest,
} from '../../helpers/s3Test.js';

let t: GatewayUnderTest;
useGateway((g) => (t = g));
const s3 = (): S3Client => t.s3;

const MiB = 1024 * 1024;

function amzNow(d = new Date()): { amzDate: string; day: string } {
  const amzDate = d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return { amzDate, day: amzDate.slice(0, 8) };
}

/** The policy fields of a form: policy, its signature and the x-amz-* it names. */
function signedFields(
  conditions: unknown[],
  opts: { expiresInMs?: number; secret?: string; accessKeyId?: string } = {},
): Record<string, string> {
  const { amzDate, day } = amzNow();
  const credential = `${opts.accessKeyId ?? t.gw.accessKeyId}/${day}/${t.gw.region}/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(Date.now() + (opts.expiresInMs ?? 600_000)).toISOString(),
      conditions: [
        ...conditions,
        { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
        { 'x-amz-credential': credential },
        { 'x-amz-date': amzDate },
      ],
    }),
  ).toString('base64');
  const h = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  const key = h(h(h(h('AWS4' + (opts.secret ?? t.gw.secretAccessKey), day), t.gw.region), 's3'), 'aws4_request');
  return {
    policy,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': amzDate,
    'x-amz-signature': createHmac('sha256', key).update(policy).digest('hex'),
  };
}

/** POST a browser-style form (fields in order, then the file) with fetch. */
async function postForm(
  bucket: string,
  fields: Record<string, string>,
  file: Buffer | string,
  filename = 'upload.bin',
): Promise<Response> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([file], { type: 'application/octet-stream' }), filename);
  return fetch(`${t.gw.s3Url}/${bucket}`, { method: 'POST', body: fd, redirect: 'manual' });
}

const unescape = (x: string) =>
  x
    .replace(/&quot;/g, '"')
    .replace(/&apos;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

async function expectPolicyError(res: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const text = await res.text();
  const body = errorBody({
    status: res.status,
    headers: {},
    body: Buffer.from(text),
    complete: true,
    text: () => text,
  });
  expect(res.status, text).toBe(status);
  expect(body.Code).toBe(code);
  if (message) expect(unescape(body.Message ?? '')).toMatch(message);
}

describe('POST Object (browser form upload)', () => {
  it('stores the file under the key, with metadata, encrypted, and answers 204', async () => {
    const b = await createBucket(s3(), 'post');
    const data = Buffer.from('hello from a browser form \u00e9'.repeat(100));
    const res = await postForm(
      b,
      {
        key: 'uploads/a.txt',
        'Content-Type': 'text/plain',
        'x-amz-meta-owner': 'alice',
        ...signedFields([
          { bucket: b },
          ['starts-with', '$key', 'uploads/'],
          ['starts-with', '$Content-Type', 'text/'],
          ['eq', '$x-amz-meta-owner', 'alice'],
        ]),
      },
      data,
    );
    expect(res.status, await res.clone().text()).toBe(204);
    const md5 = createHash('md5').update(data).digest('hex');
    expect(res.headers.get('etag')).toBe(`"${md5}"`);
    expect(res.headers.get('location')).toBe(`${t.gw.s3Url}/${b}/uploads/a.txt`);
    expect(res.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const got = await s3().send(new GetObjectCommand({ Bucket: b, Key: 'uploads/a.txt' }));
    expect(got.ContentType).toBe('text/plain');
    expect(got.Metadata).toEqual({ owner: 'alice' });
    expect((await bodyBytes(got)).equals(data)).toBe(true);
    // Encrypted like any PUT: the plaintext is in no blob file.
    const { readFile } = await import('node:fs/promises');
    for (const f of await blobFiles(t.gw.dataDir))
      expect((await readFile(f)).includes('hello from a browser')).toBe(false);
  });

  it('encryption fields: SSE-KMS under another root key, and SSE-C (the key then needed to read)', async () => {
    const b = await createBucket(s3(), 'post-sse');
    const crn = await t.gw.createRootKey('post-object-key');
    const kms = {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': crn,
    };
    const res = await postForm(
      b,
      {
        key: 'kms',
        ...kms,
        ...signedFields([{ bucket: b }, { key: 'kms' }, ...Object.entries(kms).map(([k, v]) => ({ [k]: v }))]),
      },
      'under a per-object key',
    );
    expect(res.status, await res.clone().text()).toBe(204);
    expect(res.headers.get('x-amz-server-side-encryption')).toBe('aws:kms');
    expect(res.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(crn);
    expect((await s3().send(new HeadObjectCommand({ Bucket: b, Key: 'kms' }))).SSEKMSKeyId).toBe(crn);

    const customerKey = createHash('sha256').update('post sse-c key').digest();
    const keyMd5 = createHash('md5').update(customerKey).digest('base64');
    const ssec = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': customerKey.toString('base64'),
      'x-amz-server-side-encryption-customer-key-MD5': keyMd5,
    };
    const res2 = await postForm(
      b,
      {
        key: 'ssec',
        ...ssec,
        ...signedFields([{ bucket: b }, { key: 'ssec' }, ...Object.entries(ssec).map(([k, v]) => ({ [k]: v }))]),
      },
      'under a customer key',
    );
    expect(res2.status, await res2.clone().text()).toBe(204);
    expect(res2.headers.get('x-amz-server-side-encryption-customer-key-md5')).toBe(keyMd5);
    await expect(s3().send(new HeadObjectCommand({ Bucket: b, Key: 'ssec' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
    });
    const got = await s3().send(
      new GetObjectCommand({
        Bucket: b,
        Key: 'ssec',
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: customerKey as unknown as string,
      }),
    );
    expect((await bodyBytes(got)).toString()).toBe('under a customer key');

    // A wrong key MD5 is refused as on PUT, and nothing is stored.
    const bad = {
      ...ssec,
      'x-amz-server-side-encryption-customer-key-MD5': createHash('md5').update('x').digest('base64'),
    };
    const res3 = await postForm(
      b,
      {
        key: 'bad',
        ...bad,
        ...signedFields([{ bucket: b }, { key: 'bad' }, ...Object.entries(bad).map(([k, v]) => ({ [k]: v }))]),
      },
      'x',
    );
    await expectPolicyError(res3, 400, 'InvalidArgument');
    await expectAbsent(s3(), b, 'bad');
  });

  it('without a policy or signature: anonymous, allowed exactly where the bucket lets everyone write', async () => {
    const closed = await createBucket(s3(), 'post-anon');
    await expectPolicyError(await postForm(closed, { key: 'k' }, 'nobody'), 403, 'AccessDenied');
    await expectAbsent(s3(), closed, 'k');
    // A bucket whose policy lets everyone PUT under drop/ (as a public upload box would).
    const open = await createBucket(s3(), 'post-anon-open');
    await s3().send(
      new PutBucketPolicyCommand({
        Bucket: open,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${open}/drop/*` },
          ],
        }),
      }),
    );
    const res = await postForm(
      open,
      { key: 'drop/${filename}', 'x-amz-meta-from': 'anyone' },
      'anonymous upload',
      'a.txt',
    );
    expect(res.status, await res.clone().text()).toBe(204);
    const got = await s3().send(new GetObjectCommand({ Bucket: open, Key: 'drop/a.txt' }));
    expect(got.Metadata).toEqual({ from: 'anyone' });
    expect((await bodyBytes(got)).toString()).toBe('anonymous upload');
    // Outside what the policy allows, still refused.
    await expectPolicyError(await postForm(open, { key: 'elsewhere' }, 'x'), 403, 'AccessDenied');
    await expectAbsent(s3(), open, 'elsewhere');
    // A policy without its signature is not anonymous: it is a bad signed POST.
    const half = signedFields([{ bucket: open }]);
    const res2 = await postForm(open, { key: 'drop/b', policy: half.policy! }, 'x');
    expect(res2.status).toBe(400);
  });

  it('makes a new version in a versioned bucket and names it in x-amz-version-id', async () => {
    const b = await createBucket(s3(), 'postver');
    await s3().send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const fields = () => ({ key: 'v.txt', ...signedFields([{ bucket: b }, ['eq', '$key', 'v.txt']]) });
    const first = await postForm(b, fields(), 'one');
    const second = await postForm(b, fields(), 'two');
    expect(second.status, await second.clone().text()).toBe(204);
    const [v1, v2] = [first.headers.get('x-amz-version-id'), second.headers.get('x-amz-version-id')];
    expect(v1).toMatch(/^[0-9a-f]{32}$/);
    expect(v2).toMatch(/^[0-9a-f]{32}$/);
    expect(v2).not.toBe(v1);
    const old = await s3().send(new GetObjectCommand({ Bucket: b, Key: 'v.txt', VersionId: v1! }));
    expect((await bodyBytes(old)).toString()).toBe('one');
    const listed = await s3().send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(listed.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      [v2, true],
      [v1, false],
    ]);
  });

  it('replaces ${filename}, answers 201 with a PostResponse, or 303 to success_action_redirect', async () => {
    const b = await createBucket(s3(), 'post');
    const res = await postForm(
      b,
      {
        key: 'user/${filename}',
        success_action_status: '201',
        ...signedFields([{ bucket: b }, ['starts-with', '$key', 'user/'], { success_action_status: '201' }]),
      },
      'abc',
      'cat.jpg',
    );
    const xml = unescape(await res.text());
    expect(res.status, xml).toBe(201);
    expect(xml).toContain('<PostResponse>');
    expect(xml).toContain(`<Bucket>${b}</Bucket>`);
    expect(xml).toContain('<Key>user/cat.jpg</Key>');
    expect(xml).toContain(`<ETag>"${createHash('md5').update('abc').digest('hex')}"</ETag>`);
    await s3().send(new HeadObjectCommand({ Bucket: b, Key: 'user/cat.jpg' }));

    const redirect = 'http://127.0.0.1:1/done?x=1';
    const r2 = await postForm(
      b,
      {
        key: 'r.txt',
        success_action_redirect: redirect,
        ...signedFields([
          { bucket: b },
          { key: 'r.txt' },
          ['starts-with', '$success_action_redirect', 'http://127.0.0.1'],
        ]),
      },
      'redirected',
    );
    expect(r2.status).toBe(303);
    const loc = new URL(r2.headers.get('location') ?? '');
    expect(loc.origin + loc.pathname).toBe('http://127.0.0.1:1/done');
    expect(loc.searchParams.get('x')).toBe('1');
    expect(loc.searchParams.get('bucket')).toBe(b);
    expect(loc.searchParams.get('key')).toBe('r.txt');
    expect(loc.searchParams.get('etag')).toBe(`"${createHash('md5').update('redirected').digest('hex')}"`);
  });

  it('refuses what the policy does not allow, stores nothing', async () => {
    const b = await createBucket(s3(), 'post');
    const cond = [{ bucket: b }, ['starts-with', '$key', 'ok/']];
    // A field the policy does not name.
    await expectPolicyError(
      await postForm(b, { key: 'ok/1', 'x-amz-meta-extra': 'x', ...signedFields(cond) }, 'x'),
      403,
      'AccessDenied',
      /^Invalid according to Policy: Extra input fields: x-amz-meta-extra$/,
    );
    // A condition that fails.
    await expectPolicyError(
      await postForm(b, { key: 'other/1', ...signedFields(cond) }, 'x'),
      403,
      'AccessDenied',
      /Invalid according to Policy: Policy Condition failed: \["starts-with", "\$key", "ok\/"\]/,
    );
    // Another bucket than the policy's.
    const other = await createBucket(s3(), 'post');
    await expectPolicyError(
      await postForm(other, { key: 'ok/1', ...signedFields(cond) }, 'x'),
      403,
      'AccessDenied',
      /Condition failed/,
    );
    // Expired.
    await expectPolicyError(
      await postForm(b, { key: 'ok/1', ...signedFields(cond, { expiresInMs: -1000 }) }, 'x'),
      403,
      'AccessDenied',
      /Policy expired/,
    );
    // Signed with another secret; a policy changed after signing.
    await expectPolicyError(
      await postForm(b, { key: 'ok/1', ...signedFields(cond, { secret: 'not-the-secret' }) }, 'x'),
      403,
      'SignatureDoesNotMatch',
    );
    const f = signedFields(cond);
    const tampered = JSON.parse(Buffer.from(f.policy!, 'base64').toString()) as { conditions: unknown[] };
    tampered.conditions[1] = ['starts-with', '$key', ''];
    f.policy = Buffer.from(JSON.stringify(tampered)).toString('base64');
    await expectPolicyError(await postForm(b, { key: 'any', ...f }, 'x'), 403, 'SignatureDoesNotMatch');
    // Unsigned, and without a key.
    await expectPolicyError(await postForm(b, { key: 'ok/1' }, 'x'), 403, 'AccessDenied');
    await expectPolicyError(
      await postForm(b, { ...signedFields(cond) }, 'x'),
      400,
      'InvalidArgument',
      /field named 'key'/,
    );
    // Not a form at all.
    const plain = await fetch(`${t.gw.s3Url}/${b}`, {
      method: 'POST',
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    await expectPolicyError(plain, 412, 'PreconditionFailed');
    for (const k of ['ok/1', 'other/1', 'any']) await expectAbsent(s3(), b, k);
  });

  it('a refused upload of several MiB still gets its answer, and the server keeps serving', async () => {
    const b = await createBucket(s3(), 'post');
    const cond = [{ bucket: b }, { key: 'k' }];
    for (const size of [3 * MiB, 12 * MiB]) {
      const res = await postForm(b, { key: 'other', ...signedFields(cond) }, Buffer.alloc(size, 7));
      await expectPolicyError(res, 403, 'AccessDenied', /Condition failed/);
    }
    const over = await postForm(
      b,
      { key: 'k', ...signedFields([...cond, ['content-length-range', 0, MiB]]) },
      Buffer.alloc(12 * MiB, 7),
    );
    await expectPolicyError(over, 400, 'EntityTooLarge');
    await expectAbsent(s3(), b, 'k');
    expect((await postForm(b, { key: 'k', ...signedFields(cond) }, 'fine')).status).toBe(204);
  });

  it('enforces content-length-range: EntityTooLarge and EntityTooSmall', async () => {
    const b = await createBucket(s3(), 'post');
    const cond = [{ bucket: b }, ['starts-with', '$key', ''], ['content-length-range', 10, 1000]];
    await expectPolicyError(
      await postForm(b, { key: 'big', ...signedFields(cond) }, Buffer.alloc(1001)),
      400,
      'EntityTooLarge',
    );
    await expectPolicyError(
      await postForm(b, { key: 'small', ...signedFields(cond) }, Buffer.alloc(9)),
      400,
      'EntityTooSmall',
    );
    await expectAbsent(s3(), b, 'big');
    await expectAbsent(s3(), b, 'small');
    const ok = await postForm(b, { key: 'fits', ...signedFields(cond) }, Buffer.alloc(1000, 1));
    expect(ok.status).toBe(204);
  });

  it('refuses fields before the file over 20 KiB', async () => {
    const b = await createBucket(s3(), 'post');
    const res = await postForm(
      b,
      { key: 'k', 'x-ignore-pad': 'p'.repeat(21 * 1024), ...signedFields([{ bucket: b }, { key: 'k' }]) },
      'x',
    );
    await expectPolicyError(res, 400, 'MaxPostPreDataLengthExceededError');
  });

  it('streams a 20 MiB file part: the blob grows on disk while the client is still sending', async () => {
    const b = await createBucket(s3(), 'post');
    const boundary = '----coffer-test-boundary-7f3a';
    const fields = { key: 'stream.bin', ...signedFields([{ bucket: b }, { key: 'stream.bin' }]) };
    let head = '';
    for (const [k, v] of Object.entries(fields))
      head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
    head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="stream.bin"\r\n\r\n`;
    const tail = `\r\n--${boundary}\r\nContent-Disposition: form-data; name="after"\r\n\r\nignored\r\n--${boundary}--\r\n`;
    const size = 20 * MiB;
    const md5 = createHash('md5');
    const chunk = (i: number) => Buffer.alloc(MiB, i & 0xff);
    const u = new URL(t.gw.s3Url);
    const done = new Promise<{ status: number; etag?: string; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: Number(u.port),
          method: 'POST',
          path: `/${b}`,
          headers: {
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(Buffer.byteLength(head) + size + Buffer.byteLength(tail)),
          },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, body }));
        },
      );
      req.on('error', reject);
      (async () => {
        req.write(head);
        for (let i = 0; i < 10; i++) {
          md5.update(chunk(i));
          if (!req.write(chunk(i))) await new Promise((r) => req.once('drain', r));
        }
        // Half the file is sent and the rest is held back: a server that buffers
        // the part has written nothing yet; one that streams has most of it on disk.
        const deadline = Date.now() + 20_000;
        let onDisk = 0;
        while (Date.now() < deadline) {
          onDisk = 0;
          for (const f of await tmpFiles(t.gw.dataDir)) onDisk += (await stat(f).catch(() => ({ size: 0 }))).size;
          if (onDisk >= 8 * MiB) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(onDisk, 'bytes of the upload on disk before the client sent the second half').toBeGreaterThanOrEqual(
          8 * MiB,
        );
        for (let i = 10; i < 20; i++) {
          md5.update(chunk(i));
          if (!req.write(chunk(i))) await new Promise((r) => req.once('drain', r));
        }
        req.end(tail);
      })().catch((e: unknown) => {
        req.destroy();
        reject(e as Error);
      });
    });
    const res = await done;
    expect(res.status, res.body).toBe(204);
    expect(res.etag).toBe(`"${md5.digest('hex')}"`);
    const head2 = await s3().send(new HeadObjectCommand({ Bucket: b, Key: 'stream.bin' }));
    expect(head2.ContentLength).toBe(size);
  });

  it('another account posts only where the bucket policy grants it s3:PutObject', async () => {
    const b = await createBucket(s3(), 'post');
    const iam = t.gw.gateway.iam.service;
    const { account } = await iam.createAccount({ name: 'post-writer' });
    const key = await iam.createS3AccessKey(account.id);
    const form = () =>
      postForm(
        b,
        {
          key: 'in/k',
          ...signedFields([{ bucket: b }, ['starts-with', '$key', 'in/']], {
            accessKeyId: key.accessKeyId,
            secret: key.secretAccessKey,
          }),
        },
        'from another account',
      );
    await expectPolicyError(await form(), 403, 'AccessDenied');
    await s3().send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: account.id },
              Action: 's3:PutObject',
              Resource: `arn:aws:s3:::${b}/in/*`,
            },
          ],
        }),
      }),
    );
    expect((await form()).status).toBe(204);
    const got = await s3().send(new GetObjectCommand({ Bucket: b, Key: 'in/k' }));
    expect(await got.Body?.transformToString()).toBe('from another account');
  });
});
