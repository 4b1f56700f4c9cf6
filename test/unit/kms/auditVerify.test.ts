/** src/kms/auditVerify.ts: an intact log verifies; each kind of tampering is named at its first broken line. */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatAuditLine } from '../../../src/kms/auditEntry.js';
import { AuditLog } from '../../../src/kms/auditLog.js';
import { verifyAuditLog } from '../../../src/kms/auditVerify.js';
import { entry, tempDir } from './auditTestKit.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await tempDir();
  path = join(dir, 'kms-audit.log');
  const log = await AuditLog.open(path);
  for (let i = 1; i <= 5; i++) await log.record(entry(i));
  await log.close();
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const read = async (p = path) => (await readFile(p, 'utf8')).split('\n').slice(0, -1);
const write = (ls: string[], p = path) => writeFile(p, ls.map((l) => l + '\n').join(''));

describe('verifyAuditLog', () => {
  it('an intact log is OK', async () => {
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: true,
      entries: 5,
      unchained: 0,
      files: ['kms-audit.log'],
      warnings: [],
      last: { seq: 5 },
    });
  });

  it('an edited entry breaks its own hash', async () => {
    const ls = await read();
    ls[2] = ls[2]!.replace('"outcome":"success"', '"outcome":"failure"');
    await write(ls);
    expect((await verifyAuditLog(path)).broken).toEqual({
      file: 'kms-audit.log',
      line: 3,
      problem: expect.stringMatching(/hash does not match/),
    });
  });

  it('a deleted entry breaks the link of the one after it', async () => {
    const ls = await read();
    ls.splice(1, 1);
    await write(ls);
    expect((await verifyAuditLog(path)).broken).toMatchObject({ line: 2, problem: expect.stringMatching(/prev/) });
  });

  it('reordered entries break the link', async () => {
    const ls = await read();
    [ls[3], ls[4]] = [ls[4]!, ls[3]!];
    await write(ls);
    expect((await verifyAuditLog(path)).broken).toMatchObject({ line: 4, problem: expect.stringMatching(/prev/) });
  });

  it('a deleted first entry is a chain that does not start at seq 1', async () => {
    await write((await read()).slice(1));
    expect((await verifyAuditLog(path)).broken).toMatchObject({
      line: 1,
      problem: expect.stringMatching(/starts at seq 2/),
    });
  });

  it('truncation: mid-line, and whole lines off the end (caught by the head file)', async () => {
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.length - 30));
    expect((await verifyAuditLog(path)).broken).toMatchObject({ line: 5, problem: expect.stringMatching(/cut short/) });
    await write((await read()).slice(0, 3));
    const r = await verifyAuditLog(path);
    expect(r.ok).toBe(false);
    expect(r.broken?.problem).toMatch(/ends at seq 3 but the head records seq 5/);
  });

  it('without a head file, whole-line truncation is only a warning', async () => {
    await rm(`${path}.head`);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: true,
      warnings: [expect.stringMatching(/no readable head/)],
    });
  });

  it('a rewritten tail (new hashes computed) differs from the head', async () => {
    const ls = await read();
    await write(ls.slice(0, 4));
    const head = await readFile(`${path}.head`);
    const log = await AuditLog.open(path);
    await log.record(entry(99));
    await log.close();
    // The forger's log has seq 5 again, but the head file (restored) remembers the real seq 5.
    await writeFile(`${path}.head`, head);
    expect((await verifyAuditLog(path)).broken).toMatchObject({
      line: 5,
      problem: expect.stringMatching(/not the entry the head file recorded/),
    });
  });

  it('a missing rotated file breaks the chain where the next file starts; a garbage line is named', async () => {
    const log = await AuditLog.open(path, { maxBytes: 1200 });
    for (let i = 6; i <= 16; i++) await log.record(entry(i));
    await log.close();
    expect((await verifyAuditLog(path)).ok).toBe(true);
    await rename(join(dir, 'kms-audit.log.2'), join(dir, 'elsewhere'));
    const r = await verifyAuditLog(path);
    expect(r.broken).toMatchObject({ file: 'kms-audit.log.3', line: 1, problem: expect.stringMatching(/prev/) });
    await rename(join(dir, 'elsewhere'), join(dir, 'kms-audit.log.2'));
    const ls = await read(join(dir, 'kms-audit.log.1'));
    ls.splice(1, 0, 'not json');
    await write(ls, join(dir, 'kms-audit.log.1'));
    expect((await verifyAuditLog(path)).broken).toMatchObject({ file: 'kms-audit.log.1', line: 2 });
  });

  it('an unchained line inside the chain is a break', async () => {
    const ls = await read();
    ls.splice(2, 0, formatAuditLine({ time: '2026-01-01T00:00:00.000Z', ...entry(7) }).trimEnd());
    await write(ls);
    expect((await verifyAuditLog(path)).broken).toMatchObject({
      line: 3,
      problem: expect.stringMatching(/without a hash/),
    });
  });
});
