/**
 * The LifecycleConfiguration document of Put/GetBucketLifecycleConfiguration,
 * validated as AWS validates it: 1 to 1000 Rule, each with a unique ID of at
 * most 255 characters (one is made up when absent, as AWS does), Status
 * Enabled or Disabled, exactly one of Filter or the legacy top-level Prefix,
 * a Filter with at most one of Prefix, Tag, ObjectSizeGreaterThan,
 * ObjectSizeLessThan or And, and at least one action. Transitions to other
 * storage classes are NotImplemented: Coffer has one.
 */
import { randomBytes } from 'node:crypto';
import type { LifecycleRule, LifecycleTag } from '../../services/types.js';
import { S3Error } from '../errors.js';
import { parseXml } from './decode.js';
import type { XmlDoc, XmlNode } from './encode.js';

export const MAX_LIFECYCLE_RULES = 1000;
const MAX_ID = 255;
const MAX_PREFIX_BYTES = 1024;
const MAX_NEWER_NONCURRENT = 100;

type Node = Record<string, unknown>;

const RULE_ELEMENTS = new Set([
  'ID',
  'Status',
  'Prefix',
  'Filter',
  'Expiration',
  'NoncurrentVersionExpiration',
  'AbortIncompleteMultipartUpload',
  'Transition',
  'Transitions',
  'NoncurrentVersionTransition',
  'NoncurrentVersionTransitions',
]);
const FILTER_ELEMENTS = ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And'];
const AND_ELEMENTS = new Set(['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);

const malformed = (why?: string) => new S3Error('MalformedXML', why);
const invalid = (why: string) => new S3Error('InvalidArgument', why);

/** An element with children (or none: `<Filter/>` and whitespace-only text read as empty). */
function element(v: unknown, name: string): Node {
  if (typeof v === 'string' && v.trim() === '') return {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw malformed(`${name} must be an element, given once.`);
  return v as Node;
}

/** A text element given at most once, as sent (no trimming: a prefix may end in a space). */
function textOf(n: Node, name: string): string | undefined {
  const v = n[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return '';
  throw malformed(`${name} must be a text element, given once.`);
}

function onlyKnown(n: Node, allowed: ReadonlySet<string>, where: string): void {
  for (const k of Object.keys(n)) if (!allowed.has(k)) throw malformed(`Unknown element ${k} in ${where}.`);
}

/** A non-negative integer element (a long); `positive` refuses 0 as AWS does for day counts. */
function integer(n: Node, name: string, what: string, positive: boolean): number | undefined {
  const raw = textOf(n, name);
  if (raw === undefined) return undefined;
  const t = raw.trim();
  if (!/^-?\d{1,19}$/.test(t)) throw malformed(`${name} must be an integer.`);
  const v = Number(t);
  if (positive ? v <= 0 : v < 0)
    throw invalid(`'${name}' for ${what} must be a ${positive ? 'positive' : 'non-negative'} integer`);
  if (!Number.isSafeInteger(v)) throw invalid(`'${name}' for ${what} is too large`);
  return v;
}

function tagOf(v: unknown): LifecycleTag {
  const n = element(v, 'Tag');
  onlyKnown(n, new Set(['Key', 'Value']), 'Tag');
  const key = textOf(n, 'Key');
  const value = textOf(n, 'Value');
  if (key === undefined || value === undefined) throw malformed('A Tag needs a Key and a Value.');
  if (key.length === 0 || [...key].length > 128)
    throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
  if ([...value].length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
  return { key, value };
}

function prefixOf(n: Node): string | undefined {
  const p = textOf(n, 'Prefix');
  if (p !== undefined && Buffer.byteLength(p, 'utf8') > MAX_PREFIX_BYTES)
    throw invalid(`The prefix may have at most ${MAX_PREFIX_BYTES} bytes.`);
  return p;
}

type FilterPart = Pick<LifecycleRule, 'filterForm' | 'prefix' | 'tags' | 'sizeGreaterThan' | 'sizeLessThan'>;

/** The conditions shared by Filter (one of them) and And (any of them). */
function conditions(n: Node): Omit<FilterPart, 'filterForm'> {
  const out: Omit<FilterPart, 'filterForm'> = {};
  const prefix = prefixOf(n);
  if (prefix !== undefined) out.prefix = prefix;
  const rawTags = n.Tag === undefined ? [] : Array.isArray(n.Tag) ? n.Tag : [n.Tag];
  if (rawTags.length > 0) {
    const tags = rawTags.map(tagOf);
    if (new Set(tags.map((t) => t.key)).size !== tags.length) throw invalid('Duplicate Tag Keys are not allowed.');
    out.tags = tags;
  }
  const gt = integer(n, 'ObjectSizeGreaterThan', 'Filter', false);
  const lt = integer(n, 'ObjectSizeLessThan', 'Filter', true);
  if (gt !== undefined) out.sizeGreaterThan = gt;
  if (lt !== undefined) out.sizeLessThan = lt;
  if (gt !== undefined && lt !== undefined && gt >= lt)
    throw invalid('ObjectSizeGreaterThan must be less than ObjectSizeLessThan.');
  return out;
}

function filterOf(v: unknown): FilterPart {
  const n = element(v, 'Filter');
  onlyKnown(n, new Set(FILTER_ELEMENTS), 'Filter');
  const present = FILTER_ELEMENTS.filter((k) => n[k] !== undefined);
  const tagCount = Array.isArray(n.Tag) ? n.Tag.length : n.Tag !== undefined ? 1 : 0;
  if (present.length > 1 || tagCount > 1) throw malformed('A Filter may hold one condition; use And to combine them.');
  if (n.And === undefined) return { filterForm: 'filter', ...conditions(n) };
  const and = element(n.And, 'And');
  onlyKnown(and, AND_ELEMENTS, 'And');
  const c = conditions(and);
  if (Object.keys(c).length === 0) throw malformed('And needs at least one condition.');
  return { filterForm: 'and', ...c };
}

function expirationOf(v: unknown): NonNullable<LifecycleRule['expiration']> {
  const n = element(v, 'Expiration');
  onlyKnown(n, new Set(['Days', 'Date', 'ExpiredObjectDeleteMarker']), 'Expiration');
  const days = integer(n, 'Days', 'Expiration action', true);
  const dateText = textOf(n, 'Date');
  const markerText = textOf(n, 'ExpiredObjectDeleteMarker');
  if (days !== undefined && dateText !== undefined) throw malformed('Expiration takes Days or Date, not both.');
  let marker: boolean | undefined;
  if (markerText !== undefined) {
    const t = markerText.trim().toLowerCase();
    if (t !== 'true' && t !== 'false') throw malformed('ExpiredObjectDeleteMarker must be true or false.');
    marker = t === 'true';
    if (days !== undefined || dateText !== undefined)
      throw invalid(
        'ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.',
      );
  }
  if (dateText !== undefined) {
    const t = dateText.trim();
    const ms = /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t) ? Date.parse(t) : NaN;
    if (Number.isNaN(ms)) throw invalid("'Date' must be a valid ISO 8601 date.");
    if (ms % 86_400_000 !== 0) throw invalid("'Date' must be at midnight GMT");
    return { date: ms };
  }
  if (days !== undefined) return { days };
  if (marker === undefined) throw malformed('Expiration needs Days, Date or ExpiredObjectDeleteMarker.');
  return { expiredObjectDeleteMarker: marker };
}

function noncurrentOf(v: unknown): NonNullable<LifecycleRule['noncurrentExpiration']> {
  const what = 'NoncurrentVersionExpiration action';
  const n = element(v, 'NoncurrentVersionExpiration');
  onlyKnown(n, new Set(['NoncurrentDays', 'NewerNoncurrentVersions']), 'NoncurrentVersionExpiration');
  const noncurrentDays = integer(n, 'NoncurrentDays', what, true);
  if (noncurrentDays === undefined) throw malformed('NoncurrentVersionExpiration needs NoncurrentDays.');
  const newer = integer(n, 'NewerNoncurrentVersions', what, true);
  if (newer !== undefined && newer > MAX_NEWER_NONCURRENT)
    throw invalid(`'NewerNoncurrentVersions' for ${what} must be at most ${MAX_NEWER_NONCURRENT}`);
  return newer === undefined ? { noncurrentDays } : { noncurrentDays, newerNoncurrentVersions: newer };
}

function abortOf(v: unknown): number {
  const n = element(v, 'AbortIncompleteMultipartUpload');
  onlyKnown(n, new Set(['DaysAfterInitiation']), 'AbortIncompleteMultipartUpload');
  const days = integer(n, 'DaysAfterInitiation', 'AbortIncompleteMultipartUpload action', true);
  if (days === undefined) throw malformed('AbortIncompleteMultipartUpload needs DaysAfterInitiation.');
  return days;
}

function ruleOf(v: unknown): LifecycleRule {
  const n = element(v, 'Rule');
  onlyKnown(n, RULE_ELEMENTS, 'Rule');
  for (const t of ['Transition', 'Transitions', 'NoncurrentVersionTransition', 'NoncurrentVersionTransitions'])
    if (n[t] !== undefined)
      throw new S3Error('NotImplemented', `${t} is not implemented: this server has one storage class.`);
  const status = textOf(n, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw malformed('Status must be Enabled or Disabled.');
  const id = textOf(n, 'ID');
  if (id !== undefined && [...id].length > MAX_ID)
    throw invalid(`ID length should not exceed allowed limit of ${MAX_ID}`);
  if (n.Filter !== undefined && n.Prefix !== undefined) throw malformed('A Rule takes Filter or Prefix, not both.');
  if (n.Filter === undefined && n.Prefix === undefined) throw malformed('A Rule needs a Filter (or a Prefix).');
  const filter: FilterPart =
    n.Filter !== undefined
      ? filterOf(n.Filter)
      : { filterForm: 'prefix', ...(prefixOf(n) !== undefined ? { prefix: prefixOf(n) } : {}) };
  const rule: LifecycleRule = {
    // AWS names a rule sent without an ID itself.
    id: id === undefined || id === '' ? randomBytes(24).toString('base64url') : id,
    status,
    ...filter,
  };
  if (n.Expiration !== undefined) rule.expiration = expirationOf(n.Expiration);
  if (n.NoncurrentVersionExpiration !== undefined)
    rule.noncurrentExpiration = noncurrentOf(n.NoncurrentVersionExpiration);
  if (n.AbortIncompleteMultipartUpload !== undefined)
    rule.abortIncompleteUploadDays = abortOf(n.AbortIncompleteMultipartUpload);
  if (!rule.expiration && !rule.noncurrentExpiration && rule.abortIncompleteUploadDays === undefined)
    throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  const tagged = (rule.tags?.length ?? 0) > 0;
  if (tagged && rule.expiration?.expiredObjectDeleteMarker !== undefined)
    throw new S3Error('InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with a tag-based filter.');
  if (tagged && rule.abortIncompleteUploadDays !== undefined)
    throw new S3Error('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
  return rule;
}

/** Parse and validate a PutBucketLifecycleConfiguration body. */
export function decodeLifecycleConfiguration(text: string): LifecycleRule[] {
  const doc = parseXml(text);
  if (doc.LifecycleConfiguration === undefined) throw malformed('The XML root element must be LifecycleConfiguration.');
  const root = element(doc.LifecycleConfiguration, 'LifecycleConfiguration');
  onlyKnown(root, new Set(['Rule']), 'LifecycleConfiguration');
  const raw = root.Rule === undefined ? [] : Array.isArray(root.Rule) ? root.Rule : [root.Rule];
  if (raw.length === 0) throw malformed('A LifecycleConfiguration needs at least one Rule.');
  if (raw.length > MAX_LIFECYCLE_RULES)
    throw malformed(`A LifecycleConfiguration may have at most ${MAX_LIFECYCLE_RULES} rules.`);
  const rules = raw.map(ruleOf);
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) throw invalid('Rule ID must be unique. Found same ID for more than one rule');
    ids.add(r.id);
  }
  return rules;
}

function conditionNodes(r: LifecycleRule): XmlNode {
  return {
    Prefix: r.prefix,
    Tag: r.tags?.map((t) => ({ Key: t.key, Value: t.value })),
    ObjectSizeGreaterThan: r.sizeGreaterThan,
    ObjectSizeLessThan: r.sizeLessThan,
  };
}

function ruleNode(r: LifecycleRule): XmlNode {
  const e = r.expiration;
  return {
    Expiration: e && {
      Date: e.date !== undefined ? new Date(e.date).toISOString() : undefined,
      Days: e.days,
      ExpiredObjectDeleteMarker: e.expiredObjectDeleteMarker,
    },
    ID: r.id,
    Prefix: r.filterForm === 'prefix' ? (r.prefix ?? '') : undefined,
    Filter:
      r.filterForm === 'and' ? { And: conditionNodes(r) } : r.filterForm === 'filter' ? conditionNodes(r) : undefined,
    Status: r.status,
    NoncurrentVersionExpiration: r.noncurrentExpiration && {
      NoncurrentDays: r.noncurrentExpiration.noncurrentDays,
      NewerNoncurrentVersions: r.noncurrentExpiration.newerNoncurrentVersions,
    },
    AbortIncompleteMultipartUpload:
      r.abortIncompleteUploadDays !== undefined ? { DaysAfterInitiation: r.abortIncompleteUploadDays } : undefined,
  };
}

/** The GetBucketLifecycleConfiguration document, elements in the order of AWS's schema. */
export function lifecycleConfigurationDoc(rules: LifecycleRule[]): XmlDoc {
  return { root: 'LifecycleConfiguration', body: { Rule: rules.map(ruleNode) } };
}
