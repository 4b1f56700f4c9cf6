/**
 * `coffer kms audit` against a real embedded gateway whose audit log rotates
 * every few KiB: disable, enable and rotate are each found by `--action`, a
 * refused API key is found as a failed exchangeApiKey, the newest entries are
 * read across rotated files, and `coffer kms audit verify` proves the chain -
 * then names the line after an entry is edited.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/kms/audit.js';
import { ROOT_APIKEY, startClockedGateway, type ClockedGateway } from '../kms/lifecycleKit.js';
import { assertBuilt, cli } from './runCli.js';

describe('coffer kms audit: actions by name, IAM failures, verify', () => {
  let c: ClockedGateway;
  let env: Record<string, string>;
  let key: { id: string; crn: string };

  beforeAll(async () => {
    assertBuilt();
    c = await startClockedGateway({ auditMaxBytes: 4096 });
    env = { COFFER_KMS_URL: c.gw.kmsUrl, COFFER_API_KEY: ROOT_APIKEY };
    key = await c.kp.createRootKey('verified');
    expect((await cli(['kms', 'keys', 'disable', key.id], env)).code).toBe(0);
    c.advance(31_000);
    expect((await cli(['kms', 'keys', 'enable', key.id], env)).code).toBe(0);
    expect((await c.kp.req('POST', `/keys/${key.id}/actions/rotate`)).status).toBe(204);
    // A refused API key, through the CLI itself.
    expect((await cli(['kms', 'keys', 'list'], { ...env, COFFER_API_KEY: 'wrong-apikey-0123456789abcdef' })).code).toBe(
      1,
    );
    // Enough calls for the log to rotate a few times.
    for (let i = 0; i < 20; i++) await c.kp.req('GET', `/keys/${key.id}`);
  });
  afterAll(async () => c?.close());

  const entries = async (...args: string[]) => {
    const r = await cli(['kms', 'audit', ...args, '--json'], env);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out) as AuditEntry[];
  };

  it('finds disable, enable and rotate each by --action', async () => {
    for (const action of ['disable', 'enable', 'rotate']) {
      const found = await entries('--action', action, '--key', key.id);
      expect(found.map((e) => [e.action, e.outcome, e.via])).toEqual([[action, 'success', 'api']]);
    }
  });

  it('finds the refused API key as a failed exchangeApiKey, without the key', async () => {
    const failed = await entries('--action', 'exchangeApiKey', '--outcome', 'failure');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ identity: 'unauthenticated', status: 400, reason: 'BXNIM0415E', via: 'iam' });
    expect(JSON.stringify(failed)).not.toContain('wrong-apikey');
  });

  it('reads across rotated files: the newest entries, in order', async () => {
    const files = (await readdir(c.dataDir)).filter((n) => /^kms-audit\.log\.\d+$/.test(n));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const all = await entries('--limit', '10000');
    const seqs = all.map((e) => e.seq!);
    expect(seqs[0]).toBe(1);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // Each CLI run adds its own token exchange: the newest three are consecutive and no older than before.
    const newest = (await entries('--limit', '3')).map((e) => e.seq!);
    expect(newest).toEqual([newest[0]!, newest[0]! + 1, newest[0]! + 2]);
    expect(newest[0]).toBeGreaterThanOrEqual(seqs.at(-1)! - 2);
  });

  it('verify is OK, then names the edited line', async () => {
    const ok = await cli(['kms', 'audit', 'verify', '--data-dir', c.dataDir]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(
      /^audit log OK: \d+ chained entries in kms-audit\.log\.1, kms-audit\.log\.2, .*kms-audit\.log;/,
    );
    const viaEnv = await cli(['kms', 'audit', 'verify', '--json'], { COFFER_DATA_DIR: c.dataDir });
    expect(JSON.parse(viaEnv.out)).toMatchObject({ ok: true, warnings: [] });
    await c.gw.audit.flush();
    const file = join(c.dataDir, 'kms-audit.log.1');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const i = lines.findIndex((l) => l.includes('"action":"disable"') || l.includes('"action":"createKey"'));
    expect(i).toBeGreaterThanOrEqual(0);
    lines[i] = lines[i]!.replace('"outcome":"success"', '"outcome":"failure"');
    await writeFile(file, lines.join('\n'));
    const bad = await cli(['kms', 'audit', 'verify', '--data-dir', c.dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`audit log BROKEN: kms-audit.log.1 line ${i + 1}: the hash does not match`);
    expect((await cli(['kms', 'audit', 'verify', '--file', join(c.dataDir, 'nope.log')])).code).toBe(1);
    expect((await cli(['kms', 'audit', 'verify', '--file', 'x', '--data-dir', 'y'])).code).toBe(2);
  });
});
