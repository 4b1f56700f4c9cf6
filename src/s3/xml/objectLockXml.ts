/** ObjectLockConfiguration, Retention and LegalHold documents (request and answer). */
import type { BucketObjectLock, ObjectRetention } from '../../services/types.js';
import { S3Error } from '../errors.js';
import { parseHold, parseLockDate, parseMode } from '../objectLockHeaders.js';
import { parseXml } from './decode.js';
import type { XmlDoc } from './encode.js';

type Node = Record<string, unknown>;

function obj(v: unknown): Node {
  if (v === '' || v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new S3Error('MalformedXML');
  return v as Node;
}

function text(n: Node, name: string): string | undefined {
  const v = n[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new S3Error('MalformedXML');
  return v.trim();
}

function only(n: Node, names: string[]): void {
  for (const k of Object.keys(n)) if (!names.includes(k)) throw new S3Error('MalformedXML', `Unknown element ${k}.`);
}

function root(textBody: string, name: string): Node {
  const doc = parseXml(textBody);
  if (!(name in doc)) throw new S3Error('MalformedXML', `The XML root element must be ${name}.`);
  return obj(doc[name]);
}

function count(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d{1,10}$/.test(raw)) throw new S3Error('MalformedXML', 'Days and Years must be integers.');
  return Number(raw);
}

/** PutObjectLockConfiguration: ObjectLockEnabled must be Enabled; the Rule is optional (the service checks it). */
export function decodeObjectLockConfiguration(body: string): BucketObjectLock['rule'] {
  const n = root(body, 'ObjectLockConfiguration');
  only(n, ['ObjectLockEnabled', 'Rule']);
  if (text(n, 'ObjectLockEnabled') !== 'Enabled')
    throw new S3Error('MalformedXML', 'ObjectLockEnabled must be Enabled.');
  if (n.Rule === undefined) return undefined;
  const rules = Array.isArray(n.Rule) ? n.Rule : [n.Rule];
  if (rules.length !== 1) throw new S3Error('MalformedXML');
  const r = obj(rules[0]);
  only(r, ['DefaultRetention']);
  const d = obj(r.DefaultRetention);
  only(d, ['Mode', 'Days', 'Years']);
  const mode = text(d, 'Mode');
  if (mode === undefined) throw new S3Error('MalformedXML', 'A DefaultRetention needs a Mode.');
  const days = count(text(d, 'Days'));
  const years = count(text(d, 'Years'));
  return {
    mode: parseMode(mode, 'Mode'),
    ...(days !== undefined ? { days } : {}),
    ...(years !== undefined ? { years } : {}),
  };
}

export function objectLockConfigurationDoc(lock: BucketObjectLock): XmlDoc {
  const r = lock.rule;
  return {
    root: 'ObjectLockConfiguration',
    body: {
      ObjectLockEnabled: 'Enabled',
      Rule: r ? { DefaultRetention: { Mode: r.mode, Days: r.days, Years: r.years } } : undefined,
    },
  };
}

/** PutObjectRetention: a Mode and a RetainUntilDate, or an empty Retention (removal). */
export function decodeRetention(body: string): ObjectRetention | undefined {
  const n = root(body, 'Retention');
  only(n, ['Mode', 'RetainUntilDate']);
  const mode = text(n, 'Mode');
  const until = text(n, 'RetainUntilDate');
  if (mode === undefined && until === undefined) return undefined;
  if (mode === undefined || until === undefined)
    throw new S3Error('MalformedXML', 'A Retention needs both Mode and RetainUntilDate.');
  return { mode: parseMode(mode, 'Mode'), retainUntil: parseLockDate(until, 'RetainUntilDate') };
}

export function retentionDoc(r: ObjectRetention): XmlDoc {
  return { root: 'Retention', body: { Mode: r.mode, RetainUntilDate: new Date(r.retainUntil).toISOString() } };
}

export function decodeLegalHold(body: string): boolean {
  const n = root(body, 'LegalHold');
  only(n, ['Status']);
  const s = text(n, 'Status');
  if (s === undefined) throw new S3Error('MalformedXML', 'A LegalHold needs a Status.');
  return parseHold(s, 'Status');
}

export function legalHoldDoc(on: boolean): XmlDoc {
  return { root: 'LegalHold', body: { Status: on ? 'ON' : 'OFF' } };
}
