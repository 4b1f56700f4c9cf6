/**
 * The real entry point (`node dist/src/main.js`, what `npm start` runs after the
 * build; `npm test` builds first): embedded defaults, start-up output, restart,
 * invalid configuration, wrong master key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = join(process.cwd(), 'dist', 'src', 'main.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('coffer main (needs the build: npm test runs it first)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it first)`);
    dir = await mkdtemp(join(tmpdir(), 'coffer-main-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts with embedded defaults, prints endpoint, credentials once and the default root key CRN, and keeps them across a restart', async () => {
    const port = await freePort();
    const env = {
      COFFER_DATA_DIR: join(dir, 'a'),
      COFFER_S3_PORT: String(port),
      COFFER_KMS_PORT: String(await freePort()),
      COFFER_LOG_LEVEL: 'warn',
      // The default master key path is under it: never the developer's real home.
      XDG_CONFIG_HOME: join(dir, 'config-a'),
    };
    const first = run(env);
    await waitFor(() => first.out().includes('Default root key'), 'start-up banner');
    expect(first.out()).toContain(`http://127.0.0.1:${port}`);
    const crn = /Default root key:\s+(\S+)/.exec(first.out())?.[1] ?? '';
    expect(crn).toMatch(/^crn:v1:coffer:local:kms:[a-z0-9-]+:a\/[^:]+:[^:]+:key:[^:]+$/);
    expect(first.out()).toMatch(/Secret access key:\s+\S+/);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    // The generated key file (apart from the data dir, by default) and credentials are private to the owner.
    expect((await stat(join(dir, 'config-a', 'coffer', 'master.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'config-a', 'coffer'))).mode & 0o777).toBe(0o700);
    expect(existsSync(join(dir, 'a', 'kms-master.key'))).toBe(false);
    expect(first.out()).toContain(`Master key file:    ${join(dir, 'config-a', 'coffer', 'master.key')}`);
    expect((await stat(join(dir, 'a', 'root-credentials.json'))).mode & 0o077).toBe(0);
    // Nothing in the data dir is readable by group or others (LevelDB would create its dirs 0755).
    for (const entry of await readdir(join(dir, 'a'))) {
      expect((await stat(join(dir, 'a', entry))).mode & 0o077, entry).toBe(0);
    }
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = run(env);
    await waitFor(() => second.out().includes('Default root key'), 'restart banner');
    expect(second.out()).toContain(crn);
    expect(second.out()).not.toMatch(/Secret access key/);
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('an invalid setting stops the start with one line naming it, exit code 2', async () => {
    const r = run({ COFFER_DATA_DIR: join(dir, 'b'), COFFER_S3_PORT: 'ninety' });
    expect(await r.exited).toBe(2);
    expect(r.err().trim().split('\n')).toHaveLength(1);
    expect(r.err()).toContain('COFFER_S3_PORT');
  });

  it('a master key that is not 32 bytes is refused by name', async () => {
    const r = run({ COFFER_DATA_DIR: join(dir, 'c'), COFFER_MASTER_KEY: Buffer.alloc(16).toString('base64') });
    expect(await r.exited).toBe(2);
    expect(r.err()).toContain('COFFER_MASTER_KEY');
  });

  it('a wrong master key makes the start fail with a clear message', async () => {
    const env = {
      COFFER_DATA_DIR: join(dir, 'd'),
      COFFER_S3_PORT: String(await freePort()),
      COFFER_KMS_PORT: String(await freePort()),
      COFFER_LOG_LEVEL: 'warn',
      COFFER_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    };
    const ok = run(env);
    await waitFor(() => ok.out().includes('Default root key'), 'start-up banner');
    ok.child.kill('SIGTERM');
    await ok.exited;
    const bad = run({ ...env, COFFER_MASTER_KEY: Buffer.alloc(32, 2).toString('base64') });
    expect(await bad.exited).not.toBe(0);
    expect(bad.err()).toMatch(/master key/i);
    expect(bad.out()).not.toContain('Coffer is running');
  });
});
