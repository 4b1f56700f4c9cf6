import { describe, expect, it } from 'vitest';
import { checkVersionId, newVersionId, nullHistoryId } from '../../../src/services/versionIds.js';

describe('version ids', () => {
  it('are URL-safe, unique, and sort newest first even within one millisecond', () => {
    const made = Array.from({ length: 1000 }, () => newVersionId(1_700_000_000_000));
    expect(new Set(made).size).toBe(made.length);
    for (const id of made) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect([...made].sort()).toEqual([...made].reverse());
    const later = newVersionId(Date.now());
    expect(later < made[made.length - 1]).toBe(true);
  });

  it('a null version in the history sorts at its time among the others', () => {
    const now = newVersionId();
    expect(now < nullHistoryId(Date.now() - 10_000)).toBe(true);
    expect(nullHistoryId(Date.now() + 10_000) < now).toBe(true);
  });

  it('a request must name "null" or one of ours', () => {
    expect(checkVersionId('null')).toBe('null');
    expect(checkVersionId('a'.repeat(32))).toBe('a'.repeat(32));
    for (const bad of ['', 'NULL', 'a'.repeat(31), '../x', 'g'.repeat(32)])
      expect(() => checkVersionId(bad)).toThrow(/version id/i);
  });
});
