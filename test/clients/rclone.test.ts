/**
 * rclone's S3 backend against a real Coffer, twice: provider "Other" (the
 * generic S3-compatible profile: V1 listings, no multipart ETag check, MD5 of
 * multipart objects from X-Amz-Meta-Md5chksum) and the "Minio" preset (V2
 * listings, URL-encoded listings, multipart ETag checked after upload). The
 * config file names only the endpoint and keys.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/startGateway.js';
import { childEnv, describeRun, requireProgram, run, runOk, type RunResult } from './helpers/programs.js';
import {
  AWKWARD_NAMES,
  isoToNs,
  makeTree,
  md5Sink,
  removeDir,
  tempDir,
  writeSeededFile,
  type TreeFile,
} from './helpers/trees.js';

const MiB = 1024 * 1024;
const BIG = 300 * MiB;
/** rclone's words for a failed or retried operation. */
const TROUBLE =
  /ERROR|Failed to|low level retry|corrupted|hashes differ|hash.*could not be checked|no hashes in common/i;

interface LsJsonEntry {
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
  Hashes?: Record<string, string>;
}

let shared: { dir: string; tree: TreeFile[]; treeDir: string; big: string; bigMd5: string } | undefined;
/** Resolved on every use: a missing program fails each test with the install hint, none is skipped. */
const bin = () => requireProgram('rclone');

beforeAll(async () => {
  const dir = await tempDir('rclone');
  const treeDir = join(dir, 'tree');
  const tree = await makeTree(treeDir, { files: 500, seed: 'rclone-tree', mtimes: true });
  const big = join(dir, 'big-300MiB.bin');
  const bigMd5 = await writeSeededFile(big, BIG, 'rclone-300MiB');
  shared = { dir, tree, treeDir, big, bigMd5 };
});

afterAll(async () => {
  await removeDir(shared?.dir);
});

describe.each(['Other', 'Minio'])('rclone, provider %s', (provider) => {
  let gw: TestGateway;
  let work: string;
  let conf: string;
  let env: NodeJS.ProcessEnv;
  const bucket = `rclone-${provider.toLowerCase()}`;
  const remote = (p = '') => `coffer:${bucket}${p ? '/' + p : ''}`;

  const rclone = async (...args: string[]): Promise<RunResult> => {
    const r = await runOk(bin(), ['--config', conf, '--retries', '1', '--low-level-retries', '1', ...args], {
      env,
      cwd: work,
    });
    expect(r.output, `rclone reported trouble\n${describeRun(r)}`).not.toMatch(TROUBLE);
    return r;
  };
  const lsjson = async (path: string, ...flags: string[]): Promise<LsJsonEntry[]> =>
    JSON.parse((await rclone('lsjson', ...flags, path)).stdout) as LsJsonEntry[];
  const catMd5 = async (path: string): Promise<{ md5: string; size: number }> => {
    const sink = md5Sink();
    const r = await run(bin(), ['--config', conf, 'cat', path], { env, cwd: work, onStdout: (c) => sink.update(c) });
    if (r.code !== 0) throw new Error(`rclone cat failed\n${describeRun(r)}`);
    return { size: sink.size(), md5: sink.hex() };
  };
  const count = (r: RunResult, re: RegExp) => r.output.split(/\r?\n/).filter((l) => re.test(l)).length;

  beforeAll(async () => {
    gw = await startTestGateway();
    work = await tempDir(`rclone-${provider}`);
    const home = join(work, 'home');
    await mkdir(join(home, '.config', 'rclone'), { recursive: true });
    conf = join(home, '.config', 'rclone', 'rclone.conf');
    await writeFile(
      conf,
      [
        '[coffer]',
        'type = s3',
        `provider = ${provider}`,
        `access_key_id = ${gw.accessKeyId}`,
        `secret_access_key = ${gw.secretAccessKey}`,
        `endpoint = ${gw.s3Url}`,
        `region = ${gw.region}`,
        '',
      ].join('\n'),
    );
    env = childEnv(home, { RCLONE_CONFIG: conf });
  });

  afterAll(async () => {
    await gw?.close();
    await removeDir(work);
  });

  it('rclone is installed', () => {
    expect(bin()).toMatch(/\/rclone$/);
  });

  it('mkdir creates the bucket; copy of a file with an awkward name reads back byte for byte', async () => {
    await rclone('mkdir', remote());
    await gw.client().send(new HeadBucketCommand({ Bucket: bucket }));
    const name = AWKWARD_NAMES.join(' ');
    const src = join(work, name);
    const body = Buffer.from(`rclone ${provider} small object\n`.repeat(40));
    await writeFile(src, body);
    await rclone('copy', src, remote('small'));
    const back = await catMd5(remote(`small/${name}`));
    expect(back.size).toBe(body.length);
    expect(back.md5).toBe(createHash('md5').update(body).digest('hex'));
  });

  it('sync of a 500-file tree with nested folders; a second sync transfers nothing; check finds 0 differences (MD5 included)', async () => {
    const first = await rclone('sync', shared!.treeDir, remote('tree'), '-v');
    expect(count(first, /: Copied \(new\)/), describeRun(first)).toBe(500);
    const second = await rclone('sync', shared!.treeDir, remote('tree'), '-v');
    expect(count(second, /: Copied/), describeRun(second)).toBe(0);
    const check = await rclone('check', shared!.treeDir, remote('tree'));
    expect(check.output).toContain('0 differences found');
    expect(check.output).toContain('500 matching files');
  });

  it('lsjson lists every file with its size, MD5 and the original modification time', async () => {
    const entries = (await lsjson(remote('tree'), '-R', '--hash', '--files-only')).sort((a, b) =>
      a.Path < b.Path ? -1 : 1,
    );
    expect(entries.map((e) => e.Path)).toEqual(shared!.tree.map((f) => f.rel).sort());
    const byPath = new Map(shared!.tree.map((f) => [f.rel, f]));
    for (const e of entries) {
      const f = byPath.get(e.Path)!;
      expect(e.Size, e.Path).toBe(f.size);
      expect(e.Hashes?.MD5 ?? e.Hashes?.md5, e.Path).toBe(f.md5);
      expect(isoToNs(e.ModTime), `${e.Path} ModTime ${e.ModTime}`).toBe(f.mtimeNs);
    }
  });

  it('move is a server-side copy then delete: content and modtimes arrive, the source is gone', async () => {
    const dir = 'beta dir';
    const moving = shared!.tree.filter((f) => f.rel.startsWith(`${dir}/`));
    expect(moving.length).toBeGreaterThan(100);
    const r = await rclone('move', remote(`tree/${dir}`), remote(`moved/${dir}`), '-v');
    expect(count(r, /Moved \(server-side\)|Copied \(server-side copy\)/), describeRun(r)).toBe(moving.length);
    expect(await lsjson(remote(`tree/${dir}`), '-R', '--files-only').catch(() => [])).toEqual([]);
    const moved = await lsjson(remote(`moved/${dir}`), '-R', '--hash', '--files-only');
    const got = moved
      .map((e) => ({
        rel: `${dir}/${e.Path}`,
        size: e.Size,
        md5: e.Hashes?.MD5 ?? e.Hashes?.md5,
        mtimeNs: isoToNs(e.ModTime),
      }))
      .sort((a, b) => (a.rel < b.rel ? -1 : 1));
    expect(got).toEqual(
      moving
        .map(({ rel, size, md5, mtimeNs }) => ({ rel, size, md5, mtimeNs }))
        .sort((a, b) => (a.rel < b.rel ? -1 : 1)),
    );
    const one = moving[moving.length - 1];
    expect(await catMd5(remote(`moved/${one.rel}`))).toEqual({ size: one.size, md5: one.md5 });
  });

  it('touch of an existing object changes only its modtime (copy onto itself with REPLACE)', async () => {
    const name = AWKWARD_NAMES.join(' ');
    const before = await catMd5(remote(`small/${name}`));
    await rclone('touch', remote(`small/${name}`), '-t', '2020-01-02T03:04:05');
    const [e] = await lsjson(remote(`small/${name}`));
    expect(isoToNs(e.ModTime)).toBe(isoToNs('2020-01-02T03:04:05Z'));
    expect(await catMd5(remote(`small/${name}`))).toEqual(before);
  });

  it('a 300 MiB file goes multipart; check passes and the download is byte for byte', async () => {
    const r = await rclone('copy', shared!.big, remote('big'), '-v');
    expect(count(r, /: Copied \(new\)/), describeRun(r)).toBe(1);
    const head = await gw.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/big-300MiB.bin' }));
    expect(head.ETag, 'a multipart ETag').toMatch(/^"[0-9a-f]{32}-\d+"$/);
    const check = await rclone('check', shared!.big, remote('big'));
    expect(check.output).toContain('0 differences found');
    const [e] = await lsjson(remote('big/big-300MiB.bin'), '--hash');
    expect(e.Size).toBe(BIG);
    expect(e.Hashes?.MD5 ?? e.Hashes?.md5).toBe(shared!.bigMd5);
    const back = await catMd5(remote('big/big-300MiB.bin'));
    expect(back).toEqual({ size: BIG, md5: shared!.bigMd5 });
  });

  it('a folder-marker key (trailing slash) made by another client shows as a directory', async () => {
    await gw.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'markers/folder é+%/', Body: '' }));
    // Non-recursive (delimiter '/'): the marker is a common prefix. rclone's recursive listing skips marker objects by design.
    const entries = await lsjson(remote('markers'));
    expect(entries.map((e) => [e.Path, e.IsDir])).toEqual([['folder é+%', true]]);
  });

  it('delete removes the files, rmdirs the empty directories', async () => {
    await rclone('delete', remote('tree'));
    await rclone('rmdirs', remote());
    const left = await lsjson(remote(), '-R');
    expect(left.filter((x) => x.Path.startsWith('tree')).map((x) => x.Path)).toEqual([]);
    expect(left.filter((x) => !x.IsDir).length).toBe(
      2 + shared!.tree.filter((f) => f.rel.startsWith('beta dir/')).length,
    );
  });

  it('cleanup lists pending multipart uploads (recent ones stay); backend cleanup max-age=0 aborts them', async () => {
    const c = gw.client();
    await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'pending/upload' }));
    await rclone('cleanup', remote(), '-v');
    expect((await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length).toBe(1);
    const r = await rclone('backend', 'cleanup', remote(), '-o', 'max-age=0s', '-v');
    expect(r.output).toMatch(/removing pending multipart upload/);
    expect((await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
  });
});
