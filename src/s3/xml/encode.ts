/**
 * Typed result objects -> S3 XML. Every response document goes through here;
 * handlers never concatenate XML. fast-xml-parser's builder escapes text.
 */
import { XMLBuilder } from 'fast-xml-parser';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
  format: false,
  processEntities: true,
});

export type XmlValue = string | number | boolean | XmlNode | XmlValue[] | undefined;
export interface XmlNode {
  [name: string]: XmlValue;
}

/** A response document: root element name and its children. */
export interface XmlDoc {
  root: string;
  body: XmlNode;
  /** Put the S3 namespace on the root (AWS does for most documents, not errors). */
  ns?: boolean;
}

export function renderXml(doc: XmlDoc): string {
  const body: XmlNode = doc.ns === false ? doc.body : { '@_xmlns': S3_NS, ...doc.body };
  // A raw CR would reach the client as LF (XML end-of-line handling), changing a
  // key; markup never contains one, so every CR here is inside a value.
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    (builder.build({ [doc.root]: clean(body) }) as string).replace(/\r/g, '&#13;')
  );
}

/** Drop undefined members so optional fields simply do not appear. */
function clean(v: XmlValue): XmlValue {
  if (Array.isArray(v)) return v.map(clean);
  if (v && typeof v === 'object') {
    const o: XmlNode = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = clean(x);
    return o;
  }
  return v;
}

export const isoDate = (ms: number) => new Date(ms).toISOString();
export const httpDate = (ms: number) => new Date(ms).toUTCString();
export const quoteEtag = (e: string) => `"${e}"`;

/** encoding-type=url: S3 URL-encodes keys and prefixes like this (space as %20, '/' kept? no: AWS encodes all but unreserved and '/'). */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
