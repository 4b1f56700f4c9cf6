/** src/kms/audit.ts (kept with the API tests: the audit log is written by the API and the embedded provider alike). */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditingKeyProvider,
  AuditLog,
  formatAuditLine,
  readAuditLog,
  type AuditInput,
} from '../../../../src/kms/audit.js';
import { KmsError } from '../../../../src/keys/errors.js';
import type { KeyProvider } from '../../../../src/keys/KeyProvider.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-audit-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('audit log', () => {
  it('appends one JSON line per entry to a 0600 file (tightening an existing one) and reads them back with filters', async () => {
    const path = join(dir, 'kms-audit.log');
    await writeFile(path, '', { mode: 0o644 });
    let t = Date.UTC(2026, 0, 1);
    const log = await AuditLog.open(path, { now: () => t });
    log.record({
      identity: 'iam:u1',
      instance: 'i',
      key: 'k1',
      version: 'v1',
      action: 'wrap',
      outcome: 'success',
      via: 'api',
      correlationId: 'c1',
    });
    t += 1000;
    log.record({
      identity: 'tenant:a',
      key: 'k2',
      action: 'unwrap',
      outcome: 'failure',
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
      via: 'embedded',
    });
    await log.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      identity: 'iam:u1',
      instance: 'i',
      key: 'k1',
      version: 'v1',
      action: 'wrap',
      outcome: 'success',
      correlationId: 'c1',
      via: 'api',
    });
    expect(await readAuditLog(path, { key: 'k2' })).toHaveLength(1);
    expect(await readAuditLog(path, { outcome: 'success' })).toHaveLength(1);
    expect(await readAuditLog(path, { since: '2026-01-01T00:00:00.500Z' })).toHaveLength(1);
    expect((await readAuditLog(path, { limit: 1 }))[0]!.action).toBe('unwrap');
    expect(await readAuditLog(join(dir, 'missing.log'))).toEqual([]);
  });

  it('keeps only known fields, short and without control characters (no forged lines, no smuggled secrets)', () => {
    const sneaky = {
      identity: 'x',
      action: 'wrap\n{"forged":true}',
      outcome: 'success',
      via: 'api',
      correlationId: 'c'.repeat(1000),
      plaintext: 'SECRET',
    } as unknown as AuditInput;
    const line = formatAuditLine({ time: 't', ...sneaky });
    expect(line.split('\n')).toHaveLength(2);
    expect(line).not.toContain('SECRET');
    const e = JSON.parse(line) as Record<string, string>;
    expect(e.action).toBe('wrap?{"forged":true}');
    expect(e.correlationId).toHaveLength(256);
  });

  it('AuditingKeyProvider records the tenant, key, version and outcome of each call and passes results through', async () => {
    const entries: AuditInput[] = [];
    const crn = 'crn:v1:coffer:local:kms:r:a/acct:inst-1:key:key-1';
    const inner = {
      defaultRootKeyCrn: async () => crn,
      generateDataKey: async () => ({ plaintext: Buffer.alloc(32), wrapped: 'w', keyVersion: 'v2' }),
      unwrap: async () => {
        throw new KmsError('KEY_DELETED_ERR', 'deleted');
      },
      rewrap: async () => ({ wrapped: 'w2', keyVersion: 'v3' }),
      getKeyState: async () => 1,
      register: async () => undefined,
      unregister: async () => undefined,
    } as unknown as KeyProvider;
    const p = new AuditingKeyProvider(inner, { record: (e) => entries.push(e) });
    expect((await p.generateDataKey({ tenant: 'acct', requestId: 'r1' }, crn, [])).keyVersion).toBe('v2');
    await expect(p.unwrap({ tenant: 'acct' }, crn, 'w', [])).rejects.toThrow(KmsError);
    await p.rewrap({ tenant: 'acct' }, 'not-a-crn', 'w', []);
    expect(entries[0]).toEqual({
      identity: 'tenant:acct',
      tenant: 'acct',
      action: 'wrap',
      outcome: 'success',
      via: 'embedded',
      correlationId: 'r1',
      instance: 'inst-1',
      key: 'key-1',
      version: 'v2',
    });
    expect(entries[1]).toMatchObject({
      action: 'unwrap',
      outcome: 'failure',
      status: 410,
      reason: 'KEY_DELETED_ERR',
      key: 'key-1',
    });
    expect(entries[2]).toMatchObject({ action: 'rewrap', outcome: 'success', version: 'v3' });
    expect(entries[2]!.key).toBeUndefined();
  });
});
