/**
 * GET /keys filtering (key-protect.md 2.5): state, extractable, search, sort,
 * paging. Pure functions over records so they are easy to test.
 */
import { invalidField } from './encoding.js';
import { KeyState } from '../keys/KeyProvider.js';
import { effectiveState } from './kmsContext.js';
import type { KeyRecord } from './records.js';

export interface ListKeysQuery {
  /** Default 200, max 5000. */
  limit?: number;
  offset?: number;
  /** States to list; default [1, 2, 3] (Destroyed keys only when asked for, e.g. [5]). */
  state?: number[];
  /** true: standard keys only; false: root keys only. */
  extractable?: boolean;
  /**
   * Matches names and aliases, case-insensitive substring by default. Prefixes:
   * `not:` negates, `exact:` whole-value (case-sensitive) match, `alias:` / `name:`
   * restrict the field, `escape:` ends prefix parsing (to search for "not:" itself).
   * A key whose id equals the term always matches (unless negated).
   */
  search?: string;
  /** Comma-separated fields, '-' for descending, e.g. "-creationDate,id". */
  sort?: string;
  keyRingID?: string;
}

export const DEFAULT_LIST_STATES: readonly KeyState[] = [KeyState.Active, KeyState.Suspended, KeyState.Deactivated];

const SORTABLE = [
  'id',
  'state',
  'extractable',
  'imported',
  'creationDate',
  'lastUpdateDate',
  'lastRotateDate',
  'deletionDate',
  'expirationDate',
] as const;
type SortField = (typeof SORTABLE)[number];

export function parseStates(states: number[] | undefined): ReadonlySet<number> {
  if (states === undefined) return new Set(DEFAULT_LIST_STATES);
  if (!Array.isArray(states) || states.length === 0)
    throw invalidField('state', 'a comma-separated list of integers 0 to 5', 'query_param');
  for (const s of states) {
    if (!Number.isInteger(s) || s < 0 || s > 5)
      throw invalidField('state', 'a comma-separated list of integers 0 to 5', 'query_param');
  }
  return new Set(states);
}

interface Search {
  not: boolean;
  exact: boolean;
  field: 'both' | 'name' | 'alias';
  term: string;
}

export function parseSearch(search: string): Search {
  const out: Search = { not: false, exact: false, field: 'both', term: search };
  let rest = search;
  for (;;) {
    if (rest.startsWith('escape:')) {
      rest = rest.slice('escape:'.length);
      break;
    }
    if (rest.startsWith('not:')) out.not = true;
    else if (rest.startsWith('exact:')) out.exact = true;
    else if (rest.startsWith('alias:')) out.field = 'alias';
    else if (rest.startsWith('name:')) out.field = 'name';
    else break;
    rest = rest.slice(rest.indexOf(':') + 1);
  }
  out.term = rest;
  return out;
}

export function matchesSearch(key: KeyRecord, s: Search): boolean {
  const values: string[] = [];
  if (s.field !== 'alias') values.push(key.name);
  if (s.field !== 'name') values.push(...key.aliases);
  const term = s.exact ? s.term : s.term.toLowerCase();
  const hit = key.id === s.term || values.some((v) => (s.exact ? v === term : v.toLowerCase().includes(term)));
  return s.not ? !hit : hit;
}

function sortValue(k: KeyRecord, f: SortField, now: number): number | string {
  switch (f) {
    case 'id':
      return k.id;
    case 'state':
      return effectiveState(k, now);
    case 'extractable':
      return k.extractable ? 1 : 0;
    case 'imported':
      return k.imported ? 1 : 0;
    case 'creationDate':
      return k.creationDate;
    case 'lastUpdateDate':
      return k.lastUpdateDate;
    case 'lastRotateDate':
      return k.lastRotateDate ?? -1;
    case 'deletionDate':
      return k.deletion?.deletionDate ?? -1;
    case 'expirationDate':
      return k.expirationDate ?? Number.MAX_SAFE_INTEGER;
  }
}

export function comparator(sort: string | undefined, now: number): (a: KeyRecord, b: KeyRecord) => number {
  const fields: Array<{ f: SortField; dir: 1 | -1 }> = [];
  for (const raw of (sort ?? 'creationDate').split(',')) {
    const desc = raw.startsWith('-');
    const name = desc ? raw.slice(1) : raw;
    if (!(SORTABLE as readonly string[]).includes(name))
      throw invalidField('sort', `comma-separated fields from ${SORTABLE.join(', ')}`, 'query_param');
    fields.push({ f: name as SortField, dir: desc ? -1 : 1 });
  }
  fields.push({ f: 'id', dir: 1 });
  return (a, b) => {
    for (const { f, dir } of fields) {
      const x = sortValue(a, f, now);
      const y = sortValue(b, f, now);
      if (x < y) return -dir;
      if (x > y) return dir;
    }
    return 0;
  };
}

export function filterKeys(keys: KeyRecord[], q: ListKeysQuery, now: number): KeyRecord[] {
  const states = parseStates(q.state);
  const search = q.search !== undefined && q.search !== '' ? parseSearch(q.search) : undefined;
  const cmp = comparator(q.sort, now);
  return keys
    .filter((k) => states.has(effectiveState(k, now)))
    .filter((k) => q.extractable === undefined || k.extractable === q.extractable)
    .filter((k) => q.keyRingID === undefined || k.keyRingID === q.keyRingID)
    .filter((k) => search === undefined || matchesSearch(k, search))
    .sort(cmp);
}
