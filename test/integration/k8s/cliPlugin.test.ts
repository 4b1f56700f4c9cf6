/**
 * `coffer k8s-kms-plugin` as the built CLI in a child process, against a real
 * KMS: it prints where it listens, serves Status/Encrypt/Decrypt on the Unix
 * socket, starts again over the socket a killed plugin left behind, and on
 * SIGTERM exits 0 and removes its socket. Bad flags exit 2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, cli } from '../cli/runCli.js';
import { encryptProblems } from './apiServerChecks.js';
import { kmsV2Client } from './grpcClient.js';
import { startPluginKit, type PluginKit } from './pluginKit.js';

interface Child {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startCli(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, out: () => out, err: () => err, exited };
}

async function listening(c: Child): Promise<void> {
  const until = Date.now() + 20_000;
  while (!c.out().includes('listening on unix://')) {
    if (c.proc.exitCode !== null || Date.now() > until) throw new Error(`plugin did not start: ${c.out()} ${c.err()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('coffer k8s-kms-plugin (built CLI)', () => {
  let kit: PluginKit;
  let env: Record<string, string>;
  const running: Child[] = [];

  beforeAll(async () => {
    assertBuilt();
    kit = await startPluginKit();
    env = { COFFER_KMS_URL: kit.kms.url, COFFER_API_KEY: kit.serviceApiKey, COFFER_LOG_LEVEL: 'warn' };
  });
  afterAll(async () => {
    for (const c of running) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await kit?.close();
  });

  it('serves the KMS v2 API on the socket, survives a stale socket, and stops cleanly on SIGTERM', async () => {
    const socket = join(kit.dir, 'cli.sock');
    const args = ['k8s-kms-plugin', '--socket', socket, '--key', kit.key.crn, '--cluster-name', 'cli-cluster'];
    const first = startCli(args, env);
    running.push(first);
    await listening(first);
    expect(first.out()).toContain(`listening on unix://${socket}`);
    expect(first.out()).toContain(':cluster:cli-cluster');
    expect((await lstat(socket)).mode & 0o777).toBe(0o600);

    const seed = randomBytes(32);
    let client = kmsV2Client(socket);
    expect(await client.status()).toMatchObject({
      version: 'v2',
      healthz: 'ok',
      key_id: await kit.currentVersion(kit.key.id),
    });
    const enc = await client.encrypt(seed);
    expect(encryptProblems(enc)).toEqual([]);
    expect(
      (await client.decrypt({ ciphertext: enc.ciphertext, key_id: enc.key_id, annotations: enc.annotations })).equals(
        seed,
      ),
    ).toBe(true);
    client.close();

    // Killed without a chance to clean up: the socket file stays, and the next start removes it.
    first.proc.kill('SIGKILL');
    await first.exited;
    expect((await lstat(socket)).isSocket()).toBe(true);
    const second = startCli(args, env);
    running.push(second);
    await listening(second);
    client = kmsV2Client(socket);
    expect((await client.decrypt({ ciphertext: enc.ciphertext, annotations: enc.annotations })).equals(seed)).toBe(
      true,
    );
    client.close();

    second.proc.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });

    const regs = await kit.kp<{ resources: Array<{ resourceCrn: string }> }>(
      'GET',
      `/keys/${kit.key.id}/registrations`,
    );
    expect(regs.json.resources.map((r) => r.resourceCrn)).toEqual([
      `crn:v1:coffer:local:kubernetes:local:a/${kit.kms.account}::cluster:cli-cluster`,
    ]);
  });

  it('usage errors exit 2; a KMS that refuses the API key exits 1 without leaving a socket', async () => {
    const missing = await cli(['k8s-kms-plugin', '--key', kit.key.crn], env);
    expect([missing.code, missing.err]).toEqual([2, expect.stringMatching(/--socket and --key are required/)]);
    const badCrn = await cli(['k8s-kms-plugin', '--socket', join(kit.dir, 'x.sock'), '--key', 'crn:v1:nope'], env);
    expect([badCrn.code, badCrn.err]).toEqual([2, expect.stringMatching(/not a root key CRN/)]);
    const noKey = await cli(['k8s-kms-plugin', '--socket', join(kit.dir, 'x.sock'), '--key', kit.key.crn], {
      COFFER_KMS_URL: kit.kms.url,
    });
    expect([noKey.code, noKey.err]).toEqual([2, 'coffer: an API key is needed: set COFFER_API_KEY\n']);
    const refused = await cli(['k8s-kms-plugin', '--socket', join(kit.dir, 'r.sock'), '--key', kit.key.crn], {
      ...env,
      COFFER_API_KEY: 'not-an-api-key',
    });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^coffer: cannot start: the KMS refused the API key/);
    expect(refused.err).not.toContain('not-an-api-key');
    await expect(lstat(join(kit.dir, 'r.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
