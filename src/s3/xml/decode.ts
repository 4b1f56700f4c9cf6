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
  // Whitespace is part of values (an object key may start or end with spaces).
  trimValues: false,
  // CDATA is kept apart so that it is not entity-decoded below.
  cdataPropName: '#cdata',
  removeNSPrefix: true,
  isArray: (name) => ['Object', 'Part', 'Tag', 'Rule', 'Grant'].includes(name),
});

/**
 * The same parser keeping attributes (as `@_name`, namespace prefix removed):
 * for the one document whose meaning is in an attribute, AccessControlPolicy's
 * `<Grantee xsi:type="...">`.
 */
const attributeParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  removeNSPrefix: true,
  isArray: (name) => ['Grant'].includes(name),
});

type Node = Record<string, unknown>;

export function parseXml(text: string): Node {
  return parseWith(parser, text);
}

/** parseXml, keeping attributes (`@_type` for xsi:type); same refusals and limits. */
export function parseXmlWithAttributes(text: string): Node {
  return parseWith(attributeParser, text);
}

function parseWith(p: XMLParser, text: string): Node {
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new S3Error('MalformedXML', 'XML with a DOCTYPE or entity declarations is not accepted.');
  if (text.trim() === '') throw new S3Error('MalformedXML');
  const ok = XMLValidator.validate(text);
  if (ok !== true) throw new S3Error('MalformedXML');
  let doc: Node;
  try {
    doc = p.parse(text) as Node;
  } catch {
    // The parser refuses what its validator let through (nesting deeper than it
    // allows, for one): still the client's XML, so 400 and not 500.
    throw new S3Error('MalformedXML');
  }
  // Decode the five predefined entities and numeric references ourselves (processEntities is off).
  return decodeEntities(doc) as Node;
}

/** XML 1.0 Char production: what a character reference may name. */
function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

function decodeText(v: string): string {
  return v.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    switch (e) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        if (!isXmlChar(cp))
          throw new S3Error(
            'MalformedXML',
            'The XML contains a character reference to a character XML does not allow.',
          );
        return String.fromCodePoint(cp);
      }
    }
  });
}

function decodeEntities(v: unknown): unknown {
  if (typeof v === 'string') return decodeText(v);
  if (Array.isArray(v)) return v.map(decodeEntities);
  if (v && typeof v === 'object') {
    const o = v as Node;
    const keys = Object.keys(o);
    // A text node with CDATA sections: entity-decode the text, keep CDATA verbatim.
    if (keys.length > 0 && keys.every((k) => k === '#text' || k === '#cdata')) {
      const t = o['#text'];
      const c = o['#cdata'];
      return (
        (typeof t === 'string' ? decodeText(t) : '') + (Array.isArray(c) ? c.join('') : typeof c === 'string' ? c : '')
      );
    }
    const out: Node = {};
    for (const [k, x] of Object.entries(o)) if (k !== '#text') out[k] = decodeEntities(x);
    return out;
  }
  return v;
}

export function child(n: unknown, name: string): unknown {
  return n && typeof n === 'object' ? (n as Node)[name] : undefined;
}
export function text(n: unknown): string | undefined {
  if (n === undefined || n === null) return undefined;
  if (typeof n === 'string') return n;
  if (typeof n === 'number' || typeof n === 'boolean') return String(n);
  if (typeof n === 'object' && Object.keys(n as Node).length === 0) return '';
  throw new S3Error('MalformedXML');
}
export function root(doc: Node, name: string): unknown {
  const r = doc[name];
  if (r === undefined) throw new S3Error('MalformedXML', `The XML root element must be ${name}.`);
  return r;
}

export function decodeCreateBucketConfiguration(textBody: string): { locationConstraint?: string } {
  if (textBody.trim() === '') return {};
  const r = root(parseXml(textBody), 'CreateBucketConfiguration');
  return { locationConstraint: text(child(r, 'LocationConstraint')) || undefined };
}

export function decodeDelete(textBody: string): {
  quiet: boolean;
  objects: Array<{ key: string; versionId?: string }>;
} {
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

const PART_CHECKSUMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;

export function decodeCompleteMultipartUpload(
  textBody: string,
): Array<{ partNumber: number; etag: string; checksums: Partial<Record<(typeof PART_CHECKSUMS)[number], string>> }> {
  const r = root(parseXml(textBody), 'CompleteMultipartUpload');
  const parts = (child(r, 'Part') as unknown[] | undefined) ?? [];
  return parts.map((p) => {
    const n = Number(text(child(p, 'PartNumber')));
    const etag = text(child(p, 'ETag'));
    if (!Number.isInteger(n) || etag === undefined) throw new S3Error('MalformedXML');
    // Checksum<alg> of the part, when the client sends them (verified by the service).
    const checksums: Partial<Record<(typeof PART_CHECKSUMS)[number], string>> = {};
    for (const a of PART_CHECKSUMS) {
      const v = text(child(p, `Checksum${a}`));
      if (v !== undefined) checksums[a] = v.trim();
    }
    return { partNumber: n, etag, checksums };
  });
}

/** AWS's tag limits: 10 on an object, 50 on a bucket. */
export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;

export function decodeTagging(textBody: string, maxTags = MAX_OBJECT_TAGS): Record<string, string> {
  const r = root(parseXml(textBody), 'Tagging');
  const tags = (child(child(r, 'TagSet'), 'Tag') as unknown[] | undefined) ?? [];
  const out: Record<string, string> = {};
  for (const t of tags) {
    const k = text(child(t, 'Key'));
    const v = text(child(t, 'Value')) ?? '';
    // Limits are in Unicode characters, as AWS counts them.
    if (k === undefined || k.length === 0 || [...k].length > 128 || [...v].length > 256 || Object.hasOwn(out, k))
      throw new S3Error('InvalidTag');
    // defineProperty: a key named __proto__ is a tag like any other, not a prototype.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  if (Object.keys(out).length > maxTags)
    throw new S3Error(
      'InvalidTag',
      maxTags === MAX_OBJECT_TAGS
        ? 'Object tags cannot be greater than 10'
        : `Bucket tag count cannot be greater than ${maxTags}`,
    );
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

/**
 * PutBucketVersioning's body. Status Enabled or Suspended (absent: unchanged);
 * MfaDelete may only be Disabled here, there being no MFA devices to check.
 */
export function decodeVersioningConfiguration(textBody: string): { status?: 'Enabled' | 'Suspended' } {
  const r = root(parseXml(textBody), 'VersioningConfiguration');
  const status = text(child(r, 'Status'));
  const mfa = text(child(r, 'MfaDelete')) ?? text(child(r, 'MFADelete'));
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended')
    throw new S3Error('MalformedXML', 'Status must be Enabled or Suspended.');
  if (mfa !== undefined && mfa !== 'Enabled' && mfa !== 'Disabled')
    throw new S3Error('MalformedXML', 'MfaDelete must be Enabled or Disabled.');
  if (mfa === 'Enabled') throw new S3Error('NotImplemented', 'MFA Delete is not supported by this server.');
  return status === undefined ? {} : { status };
}
