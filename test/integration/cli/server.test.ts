/**
 * `coffer server` (the built CLI) in embedded mode: flags over the environment,
 * the start-up banner, liveness, a clean stop on SIGTERM; an invalid flag
 * value exits 2 with one line naming it. `coffer kms` names the root account's
 * own KMS instance and the provider-managed default key apart.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, cli } from './runCli.js';

describe('coffer server', () => {
  let dir: string;
  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'coffer-cli-server-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('embedded: --data-dir and ports from flags, banner with both endpoints, /health, SIGTERM exits 0', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'server', '--data-dir', join(dir, 'data'), '--s3-port', '0', '--kms-port', '0'],
      {
        // The master key file in the test's temp dir: never the developer's home.
        env: {
          PATH: process.env.PATH ?? '',
          COFFER_LOG_LEVEL: 'warn',
          COFFER_MASTER_KEY_FILE: join(dir, 'master.key'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const t0 = Date.now();
      while (!out.includes('Default root key') && Date.now() - t0 < 20_000 && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('Coffer is running.');
      const s3 = /S3 endpoint:\s+(\S+)/.exec(out)![1]!;
      const kms = /KMS API:\s+(\S+)/.exec(out)![1]!;
      expect(out).toContain(`Data directory:     ${join(dir, 'data')}`);
      expect(out).toMatch(/Root API key:\s+\S+/);
      expect((await fetch(`${s3}/health`)).status).toBe(200);
      expect((await fetch(`${kms}/api/v2/keys`)).status).toBe(401); // no token: the KMS answers
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it("coffer kms: the banner names the root account's own KMS instance and labels the default key provider-managed", async () => {
    const apikey = 'banner-root-apikey-0123456789abcdef';
    const child = spawn(process.execPath, [CLI, 'kms', '--data-dir', join(dir, 'kms'), '--kms-port', '0'], {
      env: {
        PATH: process.env.PATH ?? '',
        COFFER_LOG_LEVEL: 'warn',
        COFFER_MASTER_KEY_FILE: join(dir, 'kms-master.key'),
        COFFER_API_KEY: apikey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const t0 = Date.now();
      while (!out.includes('Start a gateway') && Date.now() - t0 < 20_000 && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      const kms = /KMS API:\s+(\S+)/.exec(out)![1]!;
      const rootAccount = /Root account:\s+(\S+)/.exec(out)![1]!;
      const own = /Root KMS instance:\s+(\S+)\s+\(the root account's own/.exec(out)?.[1];
      const crn = /Default root key:\s+(crn:\S+)\s+\(provider-managed/.exec(out)?.[1];
      expect(own, out).toBeDefined();
      expect(crn, out).toBeDefined();
      // The CLI, with the same variable, finds the root account's instance to be that one.
      const listed = await cli(['kms', 'instances', 'list', '--json'], { COFFER_KMS_URL: kms, COFFER_API_KEY: apikey });
      const instances = JSON.parse(listed.out) as Array<{ id: string; account: string }>;
      expect(instances.filter((i) => i.account === rootAccount).map((i) => i.id)).toEqual([own]);
      // The default key lives in another (the provider's) account and instance, not in the root's.
      expect(crn).not.toContain(`:a/${rootAccount}:`);
      expect(crn).not.toContain(own);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('an invalid flag value exits 2 with one line naming the setting', async () => {
    const r = await cli(['server', '--s3-port', 'ninety', '--data-dir', join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^coffer: invalid configuration: s3Port: /);
    const unknown = await cli(['server', '--port', '9000']);
    expect(unknown.code).toBe(2);
  });

  it('top level: no command prints the usage and exits 2; help exits 0; an unknown command exits 2', async () => {
    const none = await cli([]);
    expect([none.code, none.out]).toEqual([2, expect.stringContaining('usage: coffer <command>')]);
    const help = await cli(['help']);
    expect([help.code, help.out]).toEqual([0, expect.stringContaining('coffer kms keys <command>')]);
    const unknown = await cli(['frobnicate']);
    expect([unknown.code, unknown.err]).toEqual([2, expect.stringMatching(/^coffer: unknown command "frobnicate"/)]);
  });
});
