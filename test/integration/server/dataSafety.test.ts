/**
 * The real entry point (`node dist/src/main.js`; `npm test` builds first) on a
 * data dir that lost its metadata store or has a damaged one: it refuses to
 * start with one clear line (exit code 1, no stack trace) instead of serving
 * empty buckets. And an install from before COFFER_MASTER_KEY_FILE, whose key
 * is <data>/kms-master.key, keeps starting on that key with a loud warning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = join(process.cwd(), 'dist', 'src', 'main.js');

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', COFFER_S3_PORT: '0', COFFER_KMS_PORT: '0', COFFER_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function startAndStop(env: Record<string, string>): Promise<Run> {
  const r = run(env);
  const t0 = Date.now();
  while (!r.out().includes('Default root key') && r.child.exitCode === null) {
    if (Date.now() - t0 > 20_000) throw new Error(`no start-up banner: ${r.err()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  expect(r.out()).toContain('Coffer is running');
  r.child.kill('SIGTERM');
  expect(await r.exited).toBe(0);
  return r;
}

describe('refusing a lost or damaged metadata store (needs the build)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it first)`);
    dir = await mkdtemp(join(tmpdir(), 'coffer-safety-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const envFor = (name: string) => ({
    COFFER_DATA_DIR: join(dir, name),
    COFFER_MASTER_KEY_FILE: join(dir, `${name}-master.key`),
  });

  it('a data dir whose meta/ is gone refuses to start, naming it and how to restore', async () => {
    const env = envFor('lost');
    await startAndStop(env);
    await rm(join(dir, 'lost', 'meta'), { recursive: true });
    const r = run(env);
    expect(await r.exited).toBe(1);
    expect(r.err()).toContain(join(dir, 'lost', 'meta'));
    expect(r.err()).toMatch(/refusing to start: the metadata store .* is missing/);
    expect(r.err()).toMatch(/coffer restore/);
    expect(r.err()).not.toMatch(/\n\s+at /);
    expect(r.out()).not.toContain('Coffer is running');
    expect(existsSync(join(dir, 'lost', 'meta'))).toBe(false);
  });

  it('a damaged meta/ refuses to start', async () => {
    const env = envFor('corrupt');
    await startAndStop(env);
    await writeFile(join(dir, 'corrupt', 'meta', 'CURRENT'), 'MANIFEST-999999\n');
    const r = run(env);
    expect(await r.exited).toBe(1);
    expect(r.err()).toMatch(/metadata store .* cannot be opened, it is damaged/);
    expect(r.err()).not.toMatch(/\n\s+at /);
  });

  it('a fresh empty data dir starts and creates everything', async () => {
    await startAndStop(envFor('fresh'));
    for (const s of ['meta', 'kms', 'iam', 'kms-instance', 'coffer-data.json'])
      expect(existsSync(join(dir, 'fresh', s)), s).toBe(true);
  });

  it('an old install with <data>/kms-master.key keeps using it, warning loudly, and makes no new key', async () => {
    // The old layout: the key file inside the data dir.
    const old = { COFFER_DATA_DIR: join(dir, 'old'), COFFER_MASTER_KEY_FILE: join(dir, 'old', 'kms-master.key') };
    const first = await startAndStop(old);
    const crn = /Default root key:\s+(\S+)/.exec(first.out())![1]!;
    // Upgraded: COFFER_MASTER_KEY_FILE unset, the default path (under XDG_CONFIG_HOME) has no key yet.
    const xdg = join(dir, 'xdg');
    const second = await startAndStop({ COFFER_DATA_DIR: join(dir, 'old'), XDG_CONFIG_HOME: xdg });
    expect(second.out()).toContain(crn);
    expect(second.err()).toMatch(/WARNING: the KMS master key is read from .*INSIDE the data directory/);
    expect(existsSync(join(xdg, 'coffer', 'master.key'))).toBe(false);
  });
});
