import { describe, expect, it } from 'vitest';
import { KeyState } from '../../../src/keys/KeyProvider.js';
import { comparator, filterKeys, matchesSearch, parseSearch } from '../../../src/kms/keyQuery.js';
import type { KeyRecord } from '../../../src/kms/records.js';

function key(id: string, name: string, aliases: string[] = [], extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    instanceId: 'i',
    name,
    aliases,
    keyRingID: 'default',
    extractable: false,
    imported: false,
    state: KeyState.Active,
    createdBy: 'u',
    creationDate: 1,
    lastUpdateDate: 1,
    versions: [{ id, creationDate: 1 }],
    materialBits: 256,
    policies: {},
    ...extra,
  };
}

describe('key list queries', () => {
  it('parses search prefixes', () => {
    expect(parseSearch('not:exact:alias:foo')).toEqual({ not: true, exact: true, field: 'alias', term: 'foo' });
    expect(parseSearch('escape:not:foo')).toEqual({ not: false, exact: false, field: 'both', term: 'not:foo' });
    expect(parseSearch('name:x')).toMatchObject({ field: 'name', term: 'x' });
  });

  it('matches names and aliases, exact and negated', () => {
    const k = key('id-1', 'Payroll Root', ['payroll-a']);
    expect(matchesSearch(k, parseSearch('payroll'))).toBe(true);
    expect(matchesSearch(k, parseSearch('exact:payroll'))).toBe(false);
    expect(matchesSearch(k, parseSearch('exact:Payroll Root'))).toBe(true);
    expect(matchesSearch(k, parseSearch('name:payroll-a'))).toBe(false);
    expect(matchesSearch(k, parseSearch('alias:payroll-a'))).toBe(true);
    expect(matchesSearch(k, parseSearch('not:payroll'))).toBe(false);
    expect(matchesSearch(k, parseSearch('id-1'))).toBe(true);
  });

  it('sorts by fields with "-" for descending and id as the tie-break', () => {
    const a = key('a', 'n', [], { creationDate: 2 });
    const b = key('b', 'n', [], { creationDate: 1 });
    const c = key('c', 'n', [], { creationDate: 2 });
    expect([a, b, c].sort(comparator(undefined, 0)).map((k) => k.id)).toEqual(['b', 'a', 'c']);
    expect([a, b, c].sort(comparator('-creationDate,-id', 0)).map((k) => k.id)).toEqual(['c', 'a', 'b']);
  });

  it('filters by effective state (expired keys are Deactivated) and key ring', () => {
    const expired = key('e', 'n', [], { expirationDate: 10 });
    const ring = key('r', 'n', [], { keyRingID: 'ring-2' });
    expect(filterKeys([expired, ring], { state: [3] }, 20).map((k) => k.id)).toEqual(['e']);
    expect(filterKeys([expired, ring], { keyRingID: 'ring-2' }, 20).map((k) => k.id)).toEqual(['r']);
  });
});
