/**
 * The root API key at the real entry point (`node dist/src/main.js`; `npm test`
 * builds first): generated on first start and printed once, usable at
 * POST /identity/token on the KMS port; never printed again; COFFER_API_KEY (the
 * variable the CLI reads too) replaces it and is never printed, and the old name
 * COFFER_ROOT_APIKEY still works with a deprecation warning; neither reaches the
 * log output. The banner names the root account's own KMS instance and labels
 * the default root key provider-managed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFor } from './kmsHttp.js';

const MAIN = join(process.cwd(), 'dist', 'src', 'main.js');

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [MAIN], {
    // The master key file next to the data dir, in the test's temp dir: never the developer's home.
    env: {
      PATH: process.env.PATH ?? '',
      ...(env.COFFER_DATA_DIR ? { COFFER_MASTER_KEY_FILE: `${env.COFFER_DATA_DIR}-master.key` } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return { child, out: () => out, err: () => err, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

async function started(r: Run): Promise<string> {
  const t0 = Date.now();
  while (!r.out().includes('Default root key')) {
    if (Date.now() - t0 > 20_000) throw new Error(`no start-up banner; stderr: ${r.err()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  const m = /KMS API:\s+(http:\/\/\S+)/.exec(r.out());
  if (!m) throw new Error('no KMS API URL in the banner');
  return m[1]!;
}

async function stop(r: Run): Promise<void> {
  r.child.kill('SIGTERM');
  await r.exited;
}

describe('root API key (main)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it first)`);
    dir = await mkdtemp(join(tmpdir(), 'coffer-rootkey-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is generated and printed once, works at /identity/token, and COFFER_API_KEY (or the old COFFER_ROOT_APIKEY) replaces it', async () => {
    const env = {
      COFFER_DATA_DIR: join(dir, 'd'),
      COFFER_S3_PORT: '0',
      COFFER_KMS_PORT: '0',
      COFFER_LOG_LEVEL: 'debug',
    };
    const first = run(env);
    const url = await started(first);
    const m = /Root API key:\s+(\S+)/.exec(first.out());
    expect(m).not.toBeNull();
    const generated = m![1]!;
    expect((await tokenFor(url, generated)).split('.')).toHaveLength(3);
    await stop(first);
    expect(first.err()).not.toContain(generated);

    const second = run(env);
    const url2 = await started(second);
    expect(second.out()).not.toContain('Root API key');
    await tokenFor(url2, generated);
    await stop(second);

    const chosen = 'chosen-root-api-key-0123456789';
    const third = run({ ...env, COFFER_API_KEY: chosen });
    const url3 = await started(third);
    expect(third.out()).not.toContain(chosen);
    expect(third.out()).not.toContain('Root API key');
    await tokenFor(url3, chosen);
    await expect(tokenFor(url3, generated)).rejects.toThrow(/400/);
    // The banner: the root account's own instance (the one its token lists), the default key labelled.
    const token = await tokenFor(url3, chosen);
    const inst = (await (
      await fetch(`${url3}/iam/v1/instances`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { instances: Array<{ id: string }> };
    const own = /Root KMS instance:\s+(\S+)/.exec(third.out())?.[1];
    expect(inst.instances.map((i) => i.id)).toContain(own);
    expect(third.out()).toMatch(/Default root key:\s+crn:\S+\s+\(provider-managed/);
    await stop(third);
    expect(third.err()).not.toContain(chosen);
    expect(third.err()).not.toContain('deprecated');

    // The old name still works, with a warning that names the new one.
    const old = 'old-name-root-api-key-0123456789';
    const fourth = run({ ...env, COFFER_ROOT_APIKEY: old });
    const url4 = await started(fourth);
    await tokenFor(url4, old);
    await expect(tokenFor(url4, chosen)).rejects.toThrow(/400/);
    await stop(fourth);
    expect(fourth.err()).toMatch(/warning: COFFER_ROOT_APIKEY is deprecated: set COFFER_API_KEY instead/);
    expect(fourth.err()).not.toContain(old);

    const bad = run({ ...env, COFFER_API_KEY: 'short' });
    expect(await bad.exited).toBe(2);
    expect(bad.err()).toMatch(/COFFER_API_KEY/);
    const badOld = run({ ...env, COFFER_ROOT_APIKEY: 'short' });
    expect(await badOld.exited).toBe(2);
    expect(badOld.err()).toMatch(/COFFER_ROOT_APIKEY/);
    const both = run({ ...env, COFFER_API_KEY: chosen, COFFER_ROOT_APIKEY: old });
    expect(await both.exited).toBe(2);
    expect(both.err()).toMatch(/COFFER_ROOT_APIKEY: is deprecated and differs from COFFER_API_KEY/);
  });
});
