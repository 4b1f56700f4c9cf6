import { describe, expect, it } from 'vitest';
import { json, stateName, table } from '../../../src/cli/output.js';

describe('cli output', () => {
  it('table pads every column to its widest cell, two spaces apart, no trailing spaces', () => {
    const rows = [
      { id: 'a', name: 'short', n: 1 },
      { id: 'bbbbbb', name: 'x', n: 22 },
    ];
    const out = table(rows, [
      { header: 'ID', value: (r) => r.id },
      { header: 'NAME', value: (r) => r.name },
      { header: 'N', value: (r) => r.n },
    ]);
    expect(out).toBe('ID      NAME   N\na       short  1\nbbbbbb  x      22\n');
  });

  it('table: an empty list prints its placeholder; missing values print "-"; control characters cannot break a row', () => {
    expect(table([], [{ header: 'ID', value: () => 'x' }], '(no keys)')).toBe('(no keys)\n');
    const out = table(
      [{ a: undefined, b: 'line\nbreak\x1b[31m' }],
      [
        { header: 'A', value: (r: { a?: string }) => r.a },
        { header: 'B', value: (r: { b: string }) => r.b },
      ],
    );
    expect(out).toBe('A  B\n-  line break [31m\n');
  });

  it('json is indented and ends with a newline; state names follow Key Protect', () => {
    expect(json({ a: 1 })).toBe('{\n  "a": 1\n}\n');
    expect([1, 2, 3, 5, 0, 4].map(stateName)).toEqual([
      'Active',
      'Suspended',
      'Deactivated',
      'Destroyed',
      'Pre-activation',
      '4',
    ]);
  });
});
