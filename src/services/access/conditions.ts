/**
 * IAM condition operators over a request's condition keys (IAM User Guide,
 * "Condition operators"), as bucket policies use them.
 *
 * A clause is {operator: {key: [values]}}: true when the request's value
 * matches any of the values (for a negated operator: none of them). All the
 * clauses of a statement must hold. A key the request does not carry makes a
 * clause false, a negated one true, an ...IfExists one true; Null tests
 * presence itself. ForAnyValue: some request value matches (absent: false);
 * ForAllValues: every request value matches (absent or empty: true).
 */
import { ipInCidr, isCidr } from './ipMatch.js';
import { wildcardMatch } from './wildcard.js';

type Base =
  | 'StringEquals'
  | 'StringNotEquals'
  | 'StringEqualsIgnoreCase'
  | 'StringNotEqualsIgnoreCase'
  | 'StringLike'
  | 'StringNotLike'
  | 'NumericEquals'
  | 'NumericNotEquals'
  | 'NumericLessThan'
  | 'NumericLessThanEquals'
  | 'NumericGreaterThan'
  | 'NumericGreaterThanEquals'
  | 'DateEquals'
  | 'DateNotEquals'
  | 'DateLessThan'
  | 'DateLessThanEquals'
  | 'DateGreaterThan'
  | 'DateGreaterThanEquals'
  | 'Bool'
  | 'BinaryEquals'
  | 'IpAddress'
  | 'NotIpAddress'
  | 'ArnEquals'
  | 'ArnLike'
  | 'ArnNotEquals'
  | 'ArnNotLike'
  | 'Null';

const NEGATED: ReadonlySet<Base> = new Set<Base>([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'NumericNotEquals',
  'DateNotEquals',
  'NotIpAddress',
  'ArnNotEquals',
  'ArnNotLike',
]);

const BASES: readonly Base[] = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
];

export interface ConditionOperator {
  base: Base;
  set?: 'ForAnyValue' | 'ForAllValues';
  ifExists: boolean;
}

export function parseConditionOperator(name: string): ConditionOperator | undefined {
  let rest = name;
  let set: ConditionOperator['set'];
  const m = /^(ForAnyValue|ForAllValues):(.*)$/.exec(rest);
  if (m) {
    set = m[1] as ConditionOperator['set'];
    rest = m[2]!;
  }
  let ifExists = false;
  if (rest.endsWith('IfExists') && rest !== 'Null') {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (!(BASES as readonly string[]).includes(rest)) return undefined;
  if (rest === 'Null' && (ifExists || set)) return undefined;
  return { base: rest as Base, ifExists, ...(set ? { set } : {}) };
}

export function isConditionOperator(name: string): boolean {
  return parseConditionOperator(name) !== undefined;
}

/** The S3 condition keys Coffer supplies; any aws: global key is accepted (absent ones are just absent). */
const S3_KEYS = new Set(
  [
    's3:prefix',
    's3:max-keys',
    's3:delimiter',
    's3:x-amz-acl',
    's3:x-amz-server-side-encryption',
    's3:x-amz-server-side-encryption-aws-kms-key-id',
    's3:x-amz-content-sha256',
    's3:x-amz-copy-source',
    's3:x-amz-metadata-directive',
    's3:x-amz-storage-class',
    's3:x-amz-grant-read',
    's3:x-amz-grant-write',
    's3:x-amz-grant-read-acp',
    's3:x-amz-grant-write-acp',
    's3:x-amz-grant-full-control',
    's3:versionid',
    's3:requestobjecttagkeys',
    's3:authtype',
    's3:signatureversion',
    's3:signatureage',
    's3:resourceaccount',
    's3:tlsversion',
    's3:object-lock-mode',
    's3:object-lock-retain-until-date',
    's3:object-lock-legal-hold',
    's3:object-lock-remaining-retention-days',
  ].map((k) => k.toLowerCase()),
);

/** Condition key names compare case-insensitively; tag keys after the slash keep their case. */
export function isKnownConditionKey(key: string): boolean {
  const lower = key.toLowerCase();
  if (/^aws:[a-z0-9]+(\/.+)?$/i.test(key)) return true;
  if (/^s3:(existingobjecttag|requestobjecttag)\/.+$/.test(lower)) return true;
  return S3_KEYS.has(lower);
}

/** A condition key as compared: its name case-insensitively, a tag key after the slash exactly. */
export function normalizeConditionKey(key: string): string {
  const slash = key.indexOf('/');
  return slash === -1 ? key.toLowerCase() : key.slice(0, slash).toLowerCase() + key.slice(slash);
}

/** The request's values of `key`. */
export function requestValues(conditions: Record<string, string[]>, key: string): string[] | undefined {
  const want = normalizeConditionKey(key);
  for (const [k, v] of Object.entries(conditions)) if (normalizeConditionKey(k) === want) return v;
  return undefined;
}

function num(s: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(s.trim())) return undefined;
  return Number(s);
}

function date(s: string): number | undefined {
  // IAM takes ISO 8601 dates and epoch seconds.
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

function compare(a: number | undefined, b: number | undefined, test: (a: number, b: number) => boolean): boolean {
  return a !== undefined && b !== undefined && test(a, b);
}

/** Does one request value match one policy value, for the operator's positive form? */
function matchOne(base: Base, requestValue: string, policyValue: string): boolean {
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
    case 'ArnEquals':
    case 'ArnNotEquals':
    case 'BinaryEquals':
      return requestValue === policyValue;
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return requestValue.toLowerCase() === policyValue.toLowerCase();
    case 'StringLike':
    case 'StringNotLike':
    case 'ArnLike':
    case 'ArnNotLike':
      return wildcardMatch(policyValue, requestValue);
    case 'NumericEquals':
    case 'NumericNotEquals':
      return compare(num(requestValue), num(policyValue), (a, b) => a === b);
    case 'NumericLessThan':
      return compare(num(requestValue), num(policyValue), (a, b) => a < b);
    case 'NumericLessThanEquals':
      return compare(num(requestValue), num(policyValue), (a, b) => a <= b);
    case 'NumericGreaterThan':
      return compare(num(requestValue), num(policyValue), (a, b) => a > b);
    case 'NumericGreaterThanEquals':
      return compare(num(requestValue), num(policyValue), (a, b) => a >= b);
    case 'DateEquals':
    case 'DateNotEquals':
      return compare(date(requestValue), date(policyValue), (a, b) => a === b);
    case 'DateLessThan':
      return compare(date(requestValue), date(policyValue), (a, b) => a < b);
    case 'DateLessThanEquals':
      return compare(date(requestValue), date(policyValue), (a, b) => a <= b);
    case 'DateGreaterThan':
      return compare(date(requestValue), date(policyValue), (a, b) => a > b);
    case 'DateGreaterThanEquals':
      return compare(date(requestValue), date(policyValue), (a, b) => a >= b);
    case 'Bool':
      return requestValue.toLowerCase() === policyValue.toLowerCase();
    case 'IpAddress':
    case 'NotIpAddress':
      return isCidr(policyValue) && ipInCidr(requestValue, policyValue);
    case 'Null':
      return false;
  }
}

/** Does the request satisfy one clause? */
export function clauseHolds(
  operator: string,
  key: string,
  policyValues: string[],
  conditions: Record<string, string[]>,
): boolean {
  const op = parseConditionOperator(operator);
  if (!op) return false;
  const values = requestValues(conditions, key);
  const present = values !== undefined && values.length > 0;
  if (op.base === 'Null') return policyValues.some((v) => (v === 'true' ? !present : present));
  const negated = NEGATED.has(op.base);
  const matchesAny = (rv: string) => policyValues.some((pv) => matchOne(op.base, rv, pv));
  // A negated operator holds for a request value that matches none of the policy values.
  const holdsFor = (rv: string) => (negated ? !matchesAny(rv) : matchesAny(rv));
  if (op.set === 'ForAllValues') return !present || values.every(holdsFor);
  if (op.set === 'ForAnyValue') return present && values.some(holdsFor);
  if (!present) return op.ifExists || negated;
  return negated ? values.every(holdsFor) : values.some(holdsFor);
}
