/**
 * Request bodies -> validated typed objects. The parser never expands entities
 * and any DOCTYPE or ENTITY declaration is refused outright (no XXE, no billion
 * laughs). Size is bounded before parsing by the caller (maxXmlBytes).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from '../errors.js';

const parser = new XMLParser({
  ignoreAttributes: true,
  processEntities: false,
  parseTagValue: false,
  trimValues: true,
  removeNSPrefix: true,
  isArray: (name) => ['Object', 'Part', 'Tag', 'Rule', 'Grant'].includes(name),
});

type Node = Record<string, unknown>;

export function parseXml(text: string): Node {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new S3Error('MalformedXML', 'XML with a DOCTYPE or entity declarations is not accepted.');
  if (text.trim() === '') throw new S3Error('MalformedXML');
  const ok = XMLValidator.validate(text);
  if (ok !== true) throw new S3Error('MalformedXML');
  const doc = parser.parse(text) as Node;
  // Decode the five predefined entities and numeric references ourselves (processEntities is off).
  return decodeEntities(doc) as Node;
}

function decodeEntities(v: unknown): unknown {
  if (typeof v === 'string') {
    return v.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
      switch (e) {
        case 'lt': return '<';
        case 'gt': return '>';
        case 'amp': return '&';
        case 'quot': return '"';
        case 'apos': return "'";
        default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
      }
    });
  }
  if (Array.isArray(v)) return v.map(decodeEntities);
  if (v && typeof v === 'object') {
    const o: Node = {};
    for (const [k, x] of Object.entries(v as Node)) o[k] = decodeEntities(x);
    return o;
  }
  return v;
}

function child(n: unknown, name: string): unknown {
  return n && typeof n === 'object' ? (n as Node)[name] : undefined;
}
function text(n: unknown): string | undefined {
  if (n === undefined || n === null) return undefined;
  if (typeof n === 'string') return n;
  if (typeof n === 'number' || typeof n === 'boolean') return String(n);
  if (typeof n === 'object' && Object.keys(n as Node).length === 0) return '';
  throw new S3Error('MalformedXML');
}
function root(doc: Node, name: string): unknown {
  const r = doc[name];
  if (r === undefined) throw new S3Error('MalformedXML', `The XML root element must be ${name}.`);
  return r;
}

export function decodeCreateBucketConfiguration(textBody: string): { locationConstraint?: string } {
  if (textBody.trim() === '') return {};
  const r = root(parseXml(textBody), 'CreateBucketConfiguration');
  return { locationConstraint: text(child(r, 'LocationConstraint')) || undefined };
}

export function decodeDelete(textBody: string): { quiet: boolean; objects: Array<{ key: string; versionId?: string }> } {
  const r = root(parseXml(textBody), 'Delete');
  const objs = (child(r, 'Object') as unknown[] | undefined) ?? [];
  if (objs.length === 0) throw new S3Error('MalformedXML');
  if (objs.length > 1000) throw new S3Error('MalformedXML', 'The request must contain no more than 1000 keys.');
  return {
    quiet: text(child(r, 'Quiet'))?.toLowerCase() === 'true',
    objects: objs.map((o) => {
      const key = text(child(o, 'Key'));
      if (key === undefined) throw new S3Error('MalformedXML');
      return { key, versionId: text(child(o, 'VersionId')) };
    }),
  };
}

export function decodeCompleteMultipartUpload(textBody: string): Array<{ partNumber: number; etag: string }> {
  const r = root(parseXml(textBody), 'CompleteMultipartUpload');
  const parts = (child(r, 'Part') as unknown[] | undefined) ?? [];
  return parts.map((p) => {
    const n = Number(text(child(p, 'PartNumber')));
    const etag = text(child(p, 'ETag'));
    if (!Number.isInteger(n) || etag === undefined) throw new S3Error('MalformedXML');
    return { partNumber: n, etag };
  });
}

export function decodeTagging(textBody: string): Record<string, string> {
  const r = root(parseXml(textBody), 'Tagging');
  const tags = (child(child(r, 'TagSet'), 'Tag') as unknown[] | undefined) ?? [];
  const out: Record<string, string> = {};
  for (const t of tags) {
    const k = text(child(t, 'Key'));
    const v = text(child(t, 'Value')) ?? '';
    if (k === undefined || k.length === 0 || k.length > 128 || v.length > 256 || k in out) throw new S3Error('InvalidTag');
    out[k] = v;
  }
  if (Object.keys(out).length > 10) throw new S3Error('InvalidTag', 'Object tags cannot be greater than 10');
  return out;
}

export function decodeServerSideEncryptionConfiguration(textBody: string): { algorithm: string; kmsKeyId?: string } {
  const r = root(parseXml(textBody), 'ServerSideEncryptionConfiguration');
  const rule = (child(r, 'Rule') as unknown[] | undefined)?.[0];
  const def = child(rule, 'ApplyServerSideEncryptionByDefault');
  const algorithm = text(child(def, 'SSEAlgorithm'));
  if (!algorithm) throw new S3Error('MalformedXML');
  return { algorithm, kmsKeyId: text(child(def, 'KMSMasterKeyID')) || undefined };
}
