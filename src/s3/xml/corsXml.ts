/**
 * The CORSConfiguration document of PutBucketCors / GetBucketCors, validated
 * as AWS validates it: 1 to 100 CORSRule, each with at least one AllowedMethod
 * (GET, PUT, POST, DELETE or HEAD, as written) and AllowedOrigin; at most one
 * `*` in an AllowedOrigin or AllowedHeader; none in an ExposeHeader; an
 * integer MaxAgeSeconds; an ID of at most 255 characters.
 */
import type { CorsRule } from '../../services/types.js';
import { S3Error } from '../errors.js';
import { parseXml } from './decode.js';
import type { XmlDoc } from './encode.js';

export const MAX_CORS_RULES = 100;
export const CORS_METHODS: readonly string[] = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

const RULE_ELEMENTS = new Set([
  'ID',
  'AllowedMethod',
  'AllowedOrigin',
  'AllowedHeader',
  'ExposeHeader',
  'MaxAgeSeconds',
]);

type Node = Record<string, unknown>;

/** An element that may repeat, as a list of its text values. */
function texts(n: Node, name: string): string[] {
  const v = n[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => {
    if (typeof x === 'string') return x.trim();
    if (x && typeof x === 'object' && Object.keys(x).length === 0) return '';
    throw new S3Error('MalformedXML');
  });
}

function single(n: Node, name: string): string | undefined {
  const all = texts(n, name);
  if (all.length > 1) throw new S3Error('MalformedXML', `A CORSRule may have one ${name}.`);
  return all[0];
}

const wildcards = (s: string) => s.split('*').length - 1;

function decodeRule(n: unknown): CorsRule {
  if (!n || typeof n !== 'object' || Array.isArray(n)) throw new S3Error('MalformedXML');
  const node = n as Node;
  for (const k of Object.keys(node))
    if (!RULE_ELEMENTS.has(k)) throw new S3Error('MalformedXML', `Unknown element ${k} in a CORSRule.`);
  const rule: CorsRule = {
    allowedMethods: texts(node, 'AllowedMethod'),
    allowedOrigins: texts(node, 'AllowedOrigin'),
    allowedHeaders: texts(node, 'AllowedHeader'),
    exposeHeaders: texts(node, 'ExposeHeader'),
  };
  if (rule.allowedMethods.length === 0 || rule.allowedOrigins.length === 0)
    throw new S3Error('MalformedXML', 'A CORSRule needs at least one AllowedMethod and one AllowedOrigin.');
  for (const m of rule.allowedMethods)
    if (!CORS_METHODS.includes(m))
      throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
  for (const o of rule.allowedOrigins)
    if (wildcards(o) > 1)
      throw new S3Error('InvalidRequest', `AllowedOrigin "${o}" can not have more than one wildcard.`);
  for (const h of rule.allowedHeaders)
    if (wildcards(h) > 1)
      throw new S3Error('InvalidRequest', `AllowedHeader "${h}" can not have more than one wildcard.`);
  for (const h of rule.exposeHeaders)
    if (wildcards(h) > 0)
      throw new S3Error(
        'InvalidRequest',
        `ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`,
      );
  const id = single(node, 'ID');
  if (id !== undefined) {
    if ([...id].length > 255)
      throw new S3Error('InvalidArgument', 'The ID of a CORSRule may have at most 255 characters.');
    rule.id = id;
  }
  const age = single(node, 'MaxAgeSeconds');
  if (age !== undefined) {
    if (!/^\d{1,10}$/.test(age) || Number(age) > 2 ** 31 - 1)
      throw new S3Error('MalformedXML', 'MaxAgeSeconds must be an integer.');
    rule.maxAgeSeconds = Number(age);
  }
  return rule;
}

/** Parse and validate a PutBucketCors body. */
export function decodeCorsConfiguration(text: string): CorsRule[] {
  const doc = parseXml(text);
  const r = doc.CORSConfiguration;
  if (!r || typeof r !== 'object' || Array.isArray(r))
    throw new S3Error('MalformedXML', 'The XML root element must be CORSConfiguration.');
  const node = r as Node;
  for (const k of Object.keys(node))
    if (k !== 'CORSRule') throw new S3Error('MalformedXML', `Unknown element ${k} in CORSConfiguration.`);
  const raw = node.CORSRule;
  const rules = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).map(decodeRule);
  if (rules.length === 0) throw new S3Error('MalformedXML', 'A CORSConfiguration needs at least one CORSRule.');
  if (rules.length > MAX_CORS_RULES)
    throw new S3Error(
      'InvalidRequest',
      `The number of CORS rules should not exceed allowed limit of ${MAX_CORS_RULES} rules.`,
    );
  return rules;
}

/** The GetBucketCors document, elements in the order of AWS's schema. */
export function corsConfigurationDoc(rules: CorsRule[]): XmlDoc {
  return {
    root: 'CORSConfiguration',
    body: {
      CORSRule: rules.map((r) => ({
        ID: r.id,
        AllowedHeader: r.allowedHeaders,
        AllowedMethod: r.allowedMethods,
        AllowedOrigin: r.allowedOrigins,
        ExposeHeader: r.exposeHeaders,
        MaxAgeSeconds: r.maxAgeSeconds,
      })),
    },
  };
}
