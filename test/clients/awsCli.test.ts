/**
 * The AWS CLI (Debian's /usr/bin/aws, by full path) against a real Coffer:
 * config and credentials files in a temporary HOME, path-style addressing,
 * nothing else configured.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/startGateway.js';
import { childEnv, describeRun, requireProgram, run, runOk, type RunResult } from './helpers/programs.js';
import {
  AWKWARD_NAMES,
  contentOf,
  makeTree,
  manifest,
  md5File,
  removeDir,
  tempDir,
  writeSeededFile,
} from './helpers/trees.js';

const MiB = 1024 * 1024;

describe('AWS CLI', () => {
  let gw: TestGateway;
  let work: string;
  let env: NodeJS.ProcessEnv;
  /** Resolved on every use: a missing program fails each test with the install hint, none is skipped. */
  const bin = () => requireProgram('aws', '/usr/bin/aws');
  const bucket = 'aws-cli-bucket';

  const aws = (...args: string[]) => runOk(bin(), ['--endpoint-url', gw.s3Url, ...args], { env, cwd: work });
  const awsRaw = (...args: string[]) => run(bin(), ['--endpoint-url', gw.s3Url, ...args], { env, cwd: work });
  const json = async <T>(...args: string[]): Promise<T> =>
    JSON.parse((await aws(...args, '--output', 'json')).stdout) as T;
  const lines = (r: RunResult, re: RegExp) => r.output.split(/[\r\n]+/).filter((l) => re.test(l));

  beforeAll(async () => {
    gw = await startTestGateway();
    work = await tempDir('aws');
    const home = join(work, 'home');
    await mkdir(join(home, '.aws'), { recursive: true });
    await writeFile(
      join(home, '.aws', 'config'),
      `[default]\nregion = ${gw.region}\noutput = json\ns3 =\n    addressing_style = path\n`,
    );
    await writeFile(
      join(home, '.aws', 'credentials'),
      `[default]\naws_access_key_id = ${gw.accessKeyId}\naws_secret_access_key = ${gw.secretAccessKey}\n`,
    );
    env = childEnv(home, {
      AWS_CONFIG_FILE: join(home, '.aws', 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
      AWS_PAGER: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });

  afterAll(async () => {
    await gw?.close();
    await removeDir(work);
  });

  it("Debian's AWS CLI is installed at /usr/bin/aws", () => {
    expect(bin()).toBe('/usr/bin/aws');
  });

  it('s3 mb creates the bucket; a second mb of a bucket we own succeeds, as in us-east-1', async () => {
    const r = await aws('s3', 'mb', `s3://${bucket}`);
    expect(r.stdout).toContain(`make_bucket: ${bucket}`);
    const again = await aws('s3', 'mb', `s3://${bucket}`);
    expect(again.stdout).toContain(`make_bucket: ${bucket}`);
    const ls = await aws('s3', 'ls');
    expect(ls.stdout).toMatch(new RegExp(`\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${bucket}`));
  });

  it('s3 cp up and back with an awkward key, byte for byte; s3api head-object reports size, MD5 ETag, SSE and type', async () => {
    const src = join(work, 'small.txt');
    const body = Buffer.from('hello from the AWS CLI\n'.repeat(100));
    await writeFile(src, body);
    const key = `cp/${AWKWARD_NAMES.join(' ')}`;
    await aws('s3', 'cp', src, `s3://${bucket}/${key}`, '--only-show-errors');
    await aws('s3', 'cp', src, `s3://${bucket}/cp/with space.txt`, '--only-show-errors');
    const back = join(work, 'back.txt');
    await aws('s3', 'cp', `s3://${bucket}/${key}`, back, '--only-show-errors');
    expect((await readFile(back)).equals(body), `round trip of ${key}`).toBe(true);
    const head = await json<Record<string, unknown>>('s3api', 'head-object', '--bucket', bucket, '--key', key);
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toBe(`"${await md5File(src)}"`);
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.ContentType).toBe('text/plain');
    expect(typeof head.LastModified).toBe('string');
  });

  it('s3 cp of a 100 MiB file goes multipart (8 MiB parts) and comes back identical; partNumber reads one part', async () => {
    const big = join(work, 'big.bin');
    const md5 = await writeSeededFile(big, 100 * MiB, 'aws-cli-100MiB');
    const up = await aws('s3', 'cp', big, `s3://${bucket}/big/100MiB.bin`, '--only-show-errors');
    expect(up.output).toBe('');
    const head = await json<Record<string, unknown>>(
      's3api',
      'head-object',
      '--bucket',
      bucket,
      '--key',
      'big/100MiB.bin',
    );
    expect(head.ContentLength).toBe(100 * MiB);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-13"$/);
    const part = await json<Record<string, unknown>>(
      's3api',
      'head-object',
      '--bucket',
      bucket,
      '--key',
      'big/100MiB.bin',
      '--part-number',
      '2',
    );
    expect(part.ContentLength).toBe(8 * MiB);
    expect(part.PartsCount).toBe(13);
    const back = join(work, 'big.back');
    await aws('s3', 'cp', `s3://${bucket}/big/100MiB.bin`, back, '--only-show-errors');
    expect(await md5File(back)).toBe(md5);
    // Nothing left half-done.
    const uploads = await gw.client().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('s3 sync of 500 files uploads each once; a second sync uploads nothing; sync down reproduces the tree', async () => {
    const tree = join(work, 'tree');
    const files = await makeTree(tree, { files: 500, seed: 'aws-cli-tree' });
    const first = await aws('s3', 'sync', tree, `s3://${bucket}/tree`, '--no-progress');
    expect(lines(first, /^upload: /).length, describeRun(first)).toBe(500);
    const second = await aws('s3', 'sync', tree, `s3://${bucket}/tree`, '--no-progress');
    expect(lines(second, /^upload: /), describeRun(second)).toEqual([]);
    const ls = await aws('s3', 'ls', '--recursive', `s3://${bucket}/tree/`);
    const listed = ls.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\d+) (.*)$/.exec(l);
        if (!m) throw new Error(`unexpected s3 ls line: ${l}`);
        return { rel: m[3].slice('tree/'.length), size: Number(m[2]) };
      })
      .sort((a, b) => (a.rel < b.rel ? -1 : 1));
    expect(listed).toEqual(contentOf(files).map(({ rel, size }) => ({ rel, size })));
    const down = join(work, 'down');
    const d = await aws('s3', 'sync', `s3://${bucket}/tree`, down, '--no-progress');
    expect(lines(d, /^download: /).length).toBe(500);
    expect(await manifest(down)).toEqual(contentOf(files));
    const d2 = await aws('s3', 'sync', `s3://${bucket}/tree`, down, '--no-progress');
    expect(lines(d2, /^download: /), describeRun(d2)).toEqual([]);
  });

  it('a key with a trailing slash (folder marker) is listed and readable', async () => {
    await aws('s3api', 'put-object', '--bucket', bucket, '--key', 'folder marker/é+%/');
    const ls = await aws('s3', 'ls', '--recursive', `s3://${bucket}/folder marker/`);
    expect(ls.stdout).toMatch(/\s0 folder marker\/é\+%\/\n/);
    const head = await json<Record<string, unknown>>(
      's3api',
      'head-object',
      '--bucket',
      bucket,
      '--key',
      'folder marker/é+%/',
    );
    expect(head.ContentLength).toBe(0);
  });

  it('s3 presign: the URL works with plain HTTP and no credentials', async () => {
    const key = `cp/${AWKWARD_NAMES.join(' ')}`;
    const r = await aws('s3', 'presign', `s3://${bucket}/${key}`, '--expires-in', '300');
    const url = r.stdout.trim();
    expect(url.startsWith(`${gw.s3Url}/${bucket}/`)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(join(work, 'small.txt')))).toBe(true);
  });

  it('s3api put-bucket-encryption with a root key CRN moves the bucket to that key; get-bucket-encryption reports it; data stays readable', async () => {
    const crn = await gw.createRootKey('aws-cli-key');
    const before = await json<{
      ServerSideEncryptionConfiguration: {
        Rules: Array<{ ApplyServerSideEncryptionByDefault: Record<string, string> }>;
      };
    }>('s3api', 'get-bucket-encryption', '--bucket', bucket);
    expect(before.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm).toBe(
      'AES256',
    );
    const cfg = JSON.stringify({
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: crn },
          BucketKeyEnabled: true,
        },
      ],
    });
    await aws('s3api', 'put-bucket-encryption', '--bucket', bucket, '--server-side-encryption-configuration', cfg);
    const after = await json<{
      ServerSideEncryptionConfiguration: {
        Rules: Array<{ ApplyServerSideEncryptionByDefault: Record<string, string> }>;
      };
    }>('s3api', 'get-bucket-encryption', '--bucket', bucket);
    expect(after.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: crn,
    });
    // Objects written before the change read back unchanged, now reported under the customer key.
    const head = await json<Record<string, unknown>>(
      's3api',
      'head-object',
      '--bucket',
      bucket,
      '--key',
      'cp/with space.txt',
    );
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(crn);
    const back = join(work, 'after-key-change.txt');
    await aws('s3', 'cp', `s3://${bucket}/cp/with space.txt`, back, '--only-show-errors');
    expect((await readFile(back)).equals(await readFile(join(work, 'small.txt')))).toBe(true);
    // And back to the provider-managed key.
    await aws(
      's3api',
      'put-bucket-encryption',
      '--bucket',
      bucket,
      '--server-side-encryption-configuration',
      JSON.stringify({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] }),
    );
    const again = await json<{
      ServerSideEncryptionConfiguration: {
        Rules: Array<{ ApplyServerSideEncryptionByDefault: Record<string, string> }>;
      };
    }>('s3api', 'get-bucket-encryption', '--bucket', bucket);
    expect(again.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'AES256',
    });
    const h2 = await gw.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'cp/with space.txt' }));
    expect(h2.ServerSideEncryption).toBe('AES256');
  });

  it('s3 rm --recursive empties a prefix; s3 rb --force removes a bucket with objects in it', async () => {
    const rm = await aws('s3', 'rm', '--recursive', `s3://${bucket}/tree/`);
    expect(lines(rm, /^delete: /).length).toBe(500);
    const ls = await awsRaw('s3', 'ls', '--recursive', `s3://${bucket}/tree/`);
    expect(ls.stdout).toBe('');
    const rb = await aws('s3', 'rb', '--force', `s3://${bucket}`);
    expect(rb.stdout).toContain(`remove_bucket: ${bucket}`);
    const head = await awsRaw('s3api', 'head-bucket', '--bucket', bucket);
    expect(head.code, describeRun(head)).not.toBe(0);
    expect(head.stderr).toMatch(/404|Not Found/);
  });
});
