/** src/kms/auditLog.ts: chained lines, fsync before a call is acknowledged (group commit), failures, rotation, reopening. */
import { appendFile, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS, parseAuditLine } from '../../../src/kms/auditChain.js';
import { formatAuditLine, type AuditInput } from '../../../src/kms/auditEntry.js';
import { AuditLog } from '../../../src/kms/auditLog.js';
import { readAuditLog } from '../../../src/kms/auditReader.js';
import { verifyAuditLog } from '../../../src/kms/auditVerify.js';
import { entry, spyFs, tempDir } from './auditTestKit.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await tempDir();
  path = join(dir, 'kms-audit.log');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const lines = async (p = path) => (await readFile(p, 'utf8')).split('\n').filter((l) => l !== '');
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('AuditLog', () => {
  it('appends one chained JSON line per entry to a 0600 file (tightening an existing one)', async () => {
    await writeFile(path, '', { mode: 0o644 });
    let t = Date.UTC(2026, 0, 1);
    const log = await AuditLog.open(path, { now: () => t });
    await log.record({ ...entry(1), instance: 'i', version: 'v1', correlationId: 'c1', sourceIp: '127.0.0.1' });
    t += 1000;
    await log.record({ ...entry(2), outcome: 'failure', status: 409, reason: 'REQ_TOO_EARLY_ERR', via: 'embedded' });
    await log.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const [l1, l2] = await lines();
    const e1 = JSON.parse(l1!);
    expect(e1).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      seq: 1,
      identity: 'iam:u1',
      instance: 'i',
      key: 'k1',
      version: 'v1',
      action: 'disable',
      outcome: 'success',
      correlationId: 'c1',
      sourceIp: '127.0.0.1',
      via: 'api',
      prev: GENESIS,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(Object.keys(e1).at(-1)).toBe('hash');
    expect(JSON.parse(l2!)).toMatchObject({ seq: 2, prev: e1.hash, status: 409 });
    expect(parseAuditLine(l2!)).toMatchObject({ kind: 'chained', hashOk: true });
    expect((await verifyAuditLog(path)).ok).toBe(true);
  });

  it('keeps only known fields, short and without control characters (no forged lines, no smuggled secrets)', () => {
    const sneaky = {
      identity: 'x',
      action: 'wrap\n{"forged":true}',
      outcome: 'success',
      via: 'api',
      correlationId: 'c'.repeat(1000),
      plaintext: 'SECRET',
      apikey: 'SECRET',
    } as unknown as AuditInput;
    const line = formatAuditLine({ time: 't', ...sneaky });
    expect(line.split('\n')).toHaveLength(2);
    expect(line).not.toContain('SECRET');
    const e = JSON.parse(line) as Record<string, string>;
    expect(e.action).toBe('wrap?{"forged":true}');
    expect(e.correlationId).toHaveLength(256);
  });

  it('a call resolves only after the fdatasync that covers its line; concurrent calls share one write and sync', async () => {
    const spy = spyFs();
    const log = await AuditLog.open(path, { fs: spy.fs });
    spy.hold = true;
    const done: number[] = [];
    const first = log.record(entry(1)).then(() => done.push(1));
    await tick();
    // The first batch is written and waits in its sync; three more calls arrive meanwhile.
    const rest = [2, 3, 4].map((i) => log.record(entry(i)).then(() => done.push(i)));
    await tick();
    expect(spy.events).toEqual(['write:1']);
    expect(done).toEqual([]);
    expect(await lines()).toHaveLength(1);
    spy.release();
    await first;
    expect(done).toEqual([1]);
    expect(spy.events).toEqual(['write:1', 'sync', 'write:3']);
    await tick();
    expect(done).toEqual([1]);
    spy.release();
    await Promise.all(rest);
    expect(done).toEqual([1, 2, 3, 4]);
    expect(spy.events).toEqual(['write:1', 'sync', 'write:3', 'sync']);
    await log.close();
    expect((await verifyAuditLog(path)).entries).toBe(4);
  });

  it('a failed write or sync rejects its calls, cuts what it left, and the chain goes on intact', async () => {
    const spy = spyFs();
    const errors: string[] = [];
    const log = await AuditLog.open(path, { fs: spy.fs, onError: (e) => errors.push(e.message) });
    await log.record(entry(1));
    spy.failNext = 'append';
    await expect(log.record(entry(2))).rejects.toThrow(/EIO/);
    spy.failNext = 'datasync';
    await expect(log.record(entry(3))).rejects.toThrow(/EIO/);
    await log.record(entry(4));
    await log.close();
    expect(errors).toHaveLength(2);
    const kept = (await lines()).map((l) => JSON.parse(l) as { key: string; seq: number });
    expect(kept.map((e) => [e.key, e.seq])).toEqual([
      ['k1', 1],
      ['k4', 2],
    ]);
    expect((await verifyAuditLog(path)).ok).toBe(true);
  });

  it('rotates by size into numbered files, oldest first, and the chain carries over', async () => {
    const log = await AuditLog.open(path, { maxBytes: 1000 });
    for (let i = 1; i <= 12; i++) await log.record(entry(i));
    await log.close();
    const names = (await readdir(dir)).sort();
    expect(names.filter((n) => /\.log\.\d+$/.test(n)).length).toBeGreaterThanOrEqual(2);
    expect(names).toContain('kms-audit.log');
    for (const n of names.filter((x) => x.startsWith('kms-audit.log')))
      expect((await stat(join(dir, n))).size).toBeLessThanOrEqual(1000);
    const f1 = await lines(join(dir, 'kms-audit.log.1'));
    const f2 = await lines(join(dir, 'kms-audit.log.2'));
    expect(JSON.parse(f2[0]!).prev).toBe(JSON.parse(f1.at(-1)!).hash);
    const v = await verifyAuditLog(path);
    expect(v).toMatchObject({ ok: true, entries: 12, last: { seq: 12 } });
    expect(v.files.at(-1)).toBe('kms-audit.log');
    expect((await readAuditLog(path)).map((e) => e.key)).toEqual(Array.from({ length: 12 }, (_, i) => `k${i + 1}`));
    expect((await readAuditLog(path, { limit: 5 })).map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
  });

  it('reopening continues the chain: after a clean close, after a crash mid-write, and after a crash mid-rotation', async () => {
    let log = await AuditLog.open(path);
    await log.record(entry(1));
    await log.close();
    log = await AuditLog.open(path);
    await log.record(entry(2));
    await log.close();
    // A crash mid-write: half a line, never acknowledged.
    await appendFile(path, '{"time":"2026-01-01T00:00:00.000Z","seq":3,"iden');
    const warnings: string[] = [];
    log = await AuditLog.open(path, { onWarn: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/cut off \d+ bytes/);
    await log.record(entry(3));
    await log.close();
    // A crash between the rename of a rotation and the new live file.
    await rename(path, join(dir, 'kms-audit.log.1'));
    log = await AuditLog.open(path);
    expect(log.chainHead.seq).toBe(3);
    await log.record(entry(4));
    await log.close();
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: true,
      entries: 4,
      files: ['kms-audit.log.1', 'kms-audit.log'],
    });
  });

  it('lines from before the chain stay, and the chain starts after them', async () => {
    await writeFile(path, formatAuditLine({ time: '2025-01-01T00:00:00.000Z', ...entry(0) }), { mode: 0o600 });
    const log = await AuditLog.open(path);
    await log.record(entry(1));
    await log.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, unchained: 1, entries: 1 });
    expect(await readAuditLog(path)).toHaveLength(2);
  });

  it('warns on open when the log ends before its head file (entries cut off while stopped)', async () => {
    const log = await AuditLog.open(path);
    for (let i = 1; i <= 3; i++) await log.record(entry(i));
    await log.close();
    const kept = (await lines()).slice(0, 2);
    await writeFile(path, kept.join('\n') + '\n');
    const warnings: string[] = [];
    await (await AuditLog.open(path, { onWarn: (m) => warnings.push(m) })).close();
    expect(warnings.join()).toMatch(/head file records seq 3, the log ends at seq 2/);
  });

  it('a live file removed by hand does not stop the log at the next rotation', async () => {
    const log = await AuditLog.open(path, { maxBytes: 600 });
    await log.record(entry(1));
    await rm(path);
    for (let i = 2; i <= 6; i++) await log.record(entry(i));
    await log.close();
    expect((await readAuditLog(path)).length).toBeGreaterThan(0);
  });

  it('refuses entries after close', async () => {
    const log = await AuditLog.open(path);
    await log.close();
    await expect(log.record(entry(1))).rejects.toThrow(/closed/);
  });
});
