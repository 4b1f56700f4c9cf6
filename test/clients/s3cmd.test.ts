/**
 * s3cmd against a real Coffer: SigV4 (its default), path-style (host_bucket is
 * the plain endpoint), plain HTTP. Everything else is s3cmd's default,
 * including bucket_location "US", so its region discovery (GetBucketLocation)
 * runs. Its output must never show an MD5 mismatch or a retry.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/startGateway.js';
import { childEnv, describeRun, requireProgram, runOk, type RunResult } from './helpers/programs.js';
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
/** What s3cmd prints when an ETag is not the MD5 it computed, or when it retries a request. */
const TROUBLE = /MD5 Sums don't match|MD5 sums of sent and received|Retrying|retries left|WARNING|ERROR/i;

describe('s3cmd', () => {
  let gw: TestGateway;
  let work: string;
  let cfg: string;
  let env: NodeJS.ProcessEnv;
  /** Resolved on every use: a missing program fails each test with the install hint, none is skipped. */
  const bin = () => requireProgram('s3cmd');
  const bucket = 's3cmd-bucket';

  const s3cmd = async (...args: string[]): Promise<RunResult> => {
    const r = await runOk(bin(), ['-c', cfg, '--no-progress', ...args], { env, cwd: work });
    expect(r.output, `s3cmd reported trouble\n${describeRun(r)}`).not.toMatch(TROUBLE);
    return r;
  };
  const lines = (r: RunResult, re: RegExp) => r.output.split(/\r?\n/).filter((l) => re.test(l));

  beforeAll(async () => {
    gw = await startTestGateway();
    work = await tempDir('s3cmd');
    const home = join(work, 'home');
    await mkdir(home, { recursive: true });
    const host = new URL(gw.s3Url).host;
    cfg = join(home, '.s3cfg');
    await writeFile(
      cfg,
      [
        '[default]',
        `access_key = ${gw.accessKeyId}`,
        `secret_key = ${gw.secretAccessKey}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = False',
        '',
      ].join('\n'),
    );
    env = childEnv(home);
  });

  afterAll(async () => {
    await gw?.close();
    await removeDir(work);
  });

  it('s3cmd is installed', () => {
    expect(bin()).toMatch(/\/s3cmd$/);
  });

  it('mb, then ls lists the bucket', async () => {
    const r = await s3cmd('mb', `s3://${bucket}`);
    expect(r.stdout).toContain(`Bucket 's3://${bucket}/' created`);
    expect((await s3cmd('ls')).stdout).toMatch(new RegExp(`s3://${bucket}\\s*$`, 'm'));
  });

  it('put (single part) with an awkward key passes its ETag check; get returns the same bytes', async () => {
    const src = join(work, 'small.bin');
    const body = Buffer.from('s3cmd small object\n'.repeat(50));
    await writeFile(src, body);
    const key = `small/${AWKWARD_NAMES.join(' ')}`;
    const up = await s3cmd('put', src, `s3://${bucket}/${key}`);
    expect(lines(up, /^upload: /).length, describeRun(up)).toBe(1);
    const back = join(work, 'small.back');
    await s3cmd('get', '--force', `s3://${bucket}/${key}`, back);
    expect((await readFile(back)).equals(body)).toBe(true);
    const head = await gw.client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ETag).toBe(`"${await md5File(src)}"`);
    expect(head.Metadata?.['s3cmd-attrs']).toMatch(/md5:[0-9a-f]{32}/);
  });

  it('put of a 20 MiB file goes multipart (15 MiB parts); get verifies and returns the same bytes', async () => {
    const src = join(work, 'mid.bin');
    const md5 = await writeSeededFile(src, 20 * MiB, 's3cmd-20MiB');
    await s3cmd('put', src, `s3://${bucket}/big/mid.bin`);
    const head = await gw.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/mid.bin' }));
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(head.ContentLength).toBe(20 * MiB);
    const back = join(work, 'mid.back');
    await s3cmd('get', '--force', `s3://${bucket}/big/mid.bin`, back);
    expect(await md5File(back)).toBe(md5);
  });

  it('ls, la and info describe the bucket and objects', async () => {
    const ls = await s3cmd('ls', `s3://${bucket}`);
    expect(ls.stdout).toMatch(/DIR\s+s3:\/\/s3cmd-bucket\/big\//);
    expect(ls.stdout).toMatch(/DIR\s+s3:\/\/s3cmd-bucket\/small\//);
    const rec = await s3cmd('ls', '--recursive', `s3://${bucket}`);
    expect(rec.stdout).toContain(`s3://${bucket}/small/${AWKWARD_NAMES.join(' ')}`);
    expect(rec.stdout).toMatch(/\s20971520\s+s3:\/\/s3cmd-bucket\/big\/mid\.bin/);
    const la = await s3cmd('la');
    expect(la.stdout).toMatch(/DIR\s+s3:\/\/s3cmd-bucket\/big\//);
    const info = await s3cmd('info', `s3://${bucket}`);
    expect(info.stdout).toMatch(/Location:\s+us-east-1/);
    expect(info.stdout).toMatch(/ACL:\s+\S+: FULL_CONTROL/);
    const oi = await s3cmd('info', `s3://${bucket}/big/mid.bin`);
    expect(oi.stdout).toMatch(/File size:\s+20971520/);
    expect(oi.stdout).toMatch(/MD5 sum:\s+[0-9a-f]{32}/);
    expect(oi.stdout).toMatch(/SSE:\s+AES256/);
  });

  it('cp and mv inside the bucket (CopyObject, then s3cmd copies the ACL over with Get/PutObjectAcl) keep the bytes', async () => {
    const key = `small/${AWKWARD_NAMES.join(' ')}`;
    const cp = await s3cmd('cp', `s3://${bucket}/${key}`, `s3://${bucket}/copies/${AWKWARD_NAMES[4]}`);
    expect(lines(cp, /^remote copy: /).length, describeRun(cp)).toBe(1);
    const mv = await s3cmd(
      'mv',
      `s3://${bucket}/copies/${AWKWARD_NAMES[4]}`,
      `s3://${bucket}/moved/${AWKWARD_NAMES[3]}`,
    );
    expect(lines(mv, /^move: /).length, describeRun(mv)).toBe(1);
    const back = join(work, 'moved.back');
    await s3cmd('get', '--force', `s3://${bucket}/moved/${AWKWARD_NAMES[3]}`, back);
    expect((await readFile(back)).equals(await readFile(join(work, 'small.bin')))).toBe(true);
    expect((await s3cmd('ls', `s3://${bucket}/copies/`)).stdout).toBe('');
  });

  it('a folder-marker key (trailing slash) made by another client is listed and described', async () => {
    await gw.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'markers/folder é+%/', Body: '' }));
    const ls = await s3cmd('ls', '--recursive', `s3://${bucket}/markers/`);
    expect(ls.stdout).toMatch(/\s0\s+s3:\/\/s3cmd-bucket\/markers\/folder é\+%\/$/m);
    const info = await s3cmd('info', `s3://${bucket}/markers/folder é+%/`);
    expect(info.stdout).toMatch(/File size:\s+0/);
  });

  it('sync up 500 files, then again (nothing transferred); sync down reproduces the tree, and again transfers nothing', async () => {
    const tree = join(work, 'tree');
    const files = await makeTree(tree, { files: 500, seed: 's3cmd-tree' });
    const first = await s3cmd('sync', `${tree}/`, `s3://${bucket}/tree/`);
    expect(lines(first, /^(upload|remote copy): /).length, describeRun(first)).toBe(500);
    const second = await s3cmd('sync', `${tree}/`, `s3://${bucket}/tree/`);
    expect(lines(second, /^(upload|remote copy): /), describeRun(second)).toEqual([]);
    const down = join(work, 'down');
    await mkdir(down);
    const d1 = await s3cmd('sync', `s3://${bucket}/tree/`, `${down}/`);
    expect(lines(d1, /^download: /).length, describeRun(d1)).toBe(500);
    expect(await manifest(down)).toEqual(contentOf(files));
    const d2 = await s3cmd('sync', `s3://${bucket}/tree/`, `${down}/`);
    expect(lines(d2, /^download: /), describeRun(d2)).toEqual([]);
  });

  it('multipart lists an unfinished upload, listmp its parts, abortmp removes it', async () => {
    const key = `pending/${AWKWARD_NAMES[3]}`;
    const c = gw.client();
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    expect(UploadId).toBeTruthy();
    await c.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 1) }),
    );
    const mp = await s3cmd('multipart', `s3://${bucket}`);
    expect(mp.stdout).toContain(UploadId!);
    expect(mp.stdout).toContain(`s3://${bucket}/${key}`);
    const parts = await s3cmd('listmp', `s3://${bucket}/${key}`, UploadId!);
    expect(parts.stdout).toMatch(/^\S+\t1\t"[0-9a-f]{32}"\t1024$/m);
    await s3cmd('abortmp', `s3://${bucket}/${key}`, UploadId!);
    const after = await s3cmd('multipart', `s3://${bucket}`);
    expect(after.stdout).not.toContain(UploadId!);
    expect((await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
  });

  it('del --recursive empties the bucket; rb removes it', async () => {
    const del = await s3cmd('del', '--recursive', '--force', `s3://${bucket}`);
    expect(lines(del, /^delete: /).length).toBe(504);
    expect((await s3cmd('ls', '--recursive', `s3://${bucket}`)).stdout).toBe('');
    const rb = await s3cmd('rb', `s3://${bucket}`);
    expect(rb.stdout).toContain(`Bucket 's3://${bucket}/' removed`);
    expect((await s3cmd('ls')).stdout).not.toContain(bucket);
  });
});
