/**
 * The backup format: what BackupWriter writes BackupReader reads back in any
 * chunking, and anything cut off, altered or unexpected is refused.
 */
import { describe, expect, it } from 'vitest';
import { BackupFormatError, BackupReader, BackupWriter } from '../../../src/server/backup/backupFormat.js';

function sample(): Buffer {
  const w = new BackupWriter();
  const parts = [
    w.header({
      createdAt: '2026-01-01T00:00:00.000Z',
      instanceId: 'i-1',
      stores: ['iam', 'meta'],
      files: ['root-credentials.json'],
    }),
  ];
  for (let i = 0; i < 50; i++) parts.push(w.entry('meta', Buffer.from(`k${i}`), Buffer.from(`value ${i}\n\u0000`)));
  parts.push(w.entry('iam', Buffer.from('!meta!kcv'), Buffer.from('"abc"')));
  parts.push(w.file('root-credentials.json', Buffer.from('{"sealed":"x"}')));
  parts.push(w.end());
  return Buffer.concat(parts);
}

function readAll(b: Buffer, chunk: number) {
  const r = new BackupReader();
  const recs = [];
  for (let i = 0; i < b.length; i += chunk) recs.push(...r.push(b.subarray(i, i + chunk)));
  return { header: r.finish(), recs };
}

describe('backup format', () => {
  it('round trips in any chunking, raw bytes intact', () => {
    const b = sample();
    for (const chunk of [1, 7, 4096, b.length]) {
      const { header, recs } = readAll(b, chunk);
      expect(header.stores).toEqual(['iam', 'meta']);
      expect(recs).toHaveLength(52);
      const first = recs[0]!;
      expect(first.kind === 'entry' && first.value.toString()).toBe('value 0\n\u0000');
      expect(recs[51]).toMatchObject({ kind: 'file', name: 'root-credentials.json' });
    }
  });

  it('refuses a backup cut off anywhere', () => {
    const b = sample();
    for (const cut of [10, Math.floor(b.length / 2), b.length - 1]) {
      expect(() => readAll(b.subarray(0, cut), 100), String(cut)).toThrow(BackupFormatError);
    }
  });

  it('refuses an altered entry (checksum) and data after the end', () => {
    const b = Buffer.from(sample());
    // Flip one character inside an entry's base64 value: still valid JSON, different bytes.
    const i = b.indexOf(Buffer.from(Buffer.from('value 3').toString('base64').slice(0, 8)));
    expect(i).toBeGreaterThan(0);
    b[i] = b[i] === 0x41 ? 0x42 : 0x41;
    expect(() => readAll(b, 64)).toThrow(/checksum mismatch/);
    expect(() => readAll(Buffer.concat([sample(), Buffer.from('{"s":"meta","k":"","v":""}\n')]), 64)).toThrow(
      /after the end/,
    );
  });

  it('refuses entries of undeclared stores and files outside the list (no path in a restore is ours to choose)', () => {
    const w = new BackupWriter();
    const h = w.header({ createdAt: 'x', instanceId: 'i', stores: ['meta'], files: [] });
    const bad = Buffer.concat([h, w.entry('kms', Buffer.from('a'), Buffer.from('b')), w.end()]);
    expect(() => readAll(bad, 64)).toThrow(/undeclared store/);
    const r = new BackupReader();
    expect(() =>
      r.push(
        Buffer.from(
          '{"type":"coffer-backup","format":1,"createdAt":"x","instanceId":"i","stores":[],"files":["../../etc/passwd"]}\n',
        ),
      ),
    ).toThrow(/unknown files/);
  });
});
