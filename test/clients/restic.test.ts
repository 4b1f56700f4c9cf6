/**
 * restic (its S3 backend, minio-go) against a real Coffer. restic has no config
 * file: the repository URL, keys and a password file come from its documented
 * environment variables, with HOME and the cache in a temporary directory.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/startGateway.js';
import { childEnv, describeRun, requireProgram, runOk, type RunResult } from './helpers/programs.js';
import { contentOf, makeTree, manifest, removeDir, tempDir, type TreeFile } from './helpers/trees.js';

describe('restic', () => {
  let gw: TestGateway;
  let work: string;
  let env: NodeJS.ProcessEnv;
  /** Resolved on every use: a missing program fails each test with the install hint, none is skipped. */
  const bin = () => requireProgram('restic');
  let files: TreeFile[];
  const bucket = 'restic-repo';

  const restic = async (...args: string[]): Promise<RunResult> => {
    const r = await runOk(bin(), args, { env, cwd: work, timeoutMs: 280_000 });
    expect(r.output, `restic reported trouble\n${describeRun(r)}`).not.toMatch(
      /Fatal|error:|returned error|retrying|unable to/i,
    );
    return r;
  };

  beforeAll(async () => {
    gw = await startTestGateway();
    work = await tempDir('restic');
    const home = join(work, 'home');
    await mkdir(home, { recursive: true });
    const passwordFile = join(home, 'restic-password');
    await writeFile(passwordFile, 'correct horse battery staple\n', { mode: 0o600 });
    env = childEnv(home, {
      RESTIC_REPOSITORY: `s3:${gw.s3Url}/${bucket}/backups`,
      RESTIC_PASSWORD_FILE: passwordFile,
      RESTIC_CACHE_DIR: join(home, 'cache'),
      AWS_ACCESS_KEY_ID: gw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: gw.secretAccessKey,
    });
    files = await makeTree(join(work, 'data'), { files: 2000, seed: 'restic-tree', maxSize: 6000 });
  });

  afterAll(async () => {
    await gw?.close();
    await removeDir(work);
  });

  it('restic is installed', () => {
    expect(bin()).toMatch(/\/restic$/);
  });

  it('init creates the repository (and its bucket)', async () => {
    const r = await restic('init');
    expect(r.stdout).toMatch(/created restic repository [0-9a-f]+ at s3:/);
    const listed = await gw.client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'backups/' }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toContain('backups/config');
  });

  it('backup of 2,000 files; check --read-data finds no errors', async () => {
    const b = await restic('backup', 'data');
    expect(b.output).toMatch(/Added to the (repo|repository)/);
    expect(b.output).toMatch(/processed 2000 files/);
    const c = await restic('check', '--read-data');
    expect(c.output).toContain('no errors were found');
  });

  it('restore reproduces the tree byte for byte', async () => {
    const target = join(work, 'restore-1');
    await restic('restore', 'latest', '--target', target);
    expect(await manifest(join(target, 'data'))).toEqual(contentOf(files));
  });

  it('forget --prune after a second backup keeps one snapshot; the repository checks clean and restores the new state', async () => {
    await appendFile(join(work, 'data', ...files[10].rel.split('/')), 'changed after the first backup\n');
    await writeFile(join(work, 'data', 'new file +ü.txt'), 'added after the first backup\n');
    await restic('backup', 'data');
    const before = JSON.parse((await restic('snapshots', '--json')).stdout) as unknown[];
    expect(before.length).toBe(2);
    const f = await restic('forget', '--keep-last', '1', '--prune');
    expect(f.output).toMatch(/remove 1 snapshots|removed 1 snapshots|1 snapshots have been removed/i);
    const after = JSON.parse((await restic('snapshots', '--json')).stdout) as unknown[];
    expect(after.length).toBe(1);
    const c = await restic('check', '--read-data');
    expect(c.output).toContain('no errors were found');
    const target = join(work, 'restore-2');
    await restic('restore', 'latest', '--target', target);
    expect(await manifest(join(target, 'data'))).toEqual(await manifest(join(work, 'data')));
  });
});
