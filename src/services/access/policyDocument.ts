/**
 * Bucket policy documents: parsed and validated as PutBucketPolicy validates
 * them (MalformedPolicy with S3's messages), into the form the evaluator
 * (policyEval.ts) reads. The stored text is the owner's, as sent; it is
 * parsed again on each use (parsePolicy is pure and cheap next to a request).
 *
 * Principals are Coffer accounts: a bare account id (its canonical id is the
 * same), `arn:aws:iam::<account>:root`, {"CanonicalUser": id}, or `*`. Whether
 * an account exists is the caller's question (an AccountDirectory is async);
 * policyPrincipals() lists them.
 */
import { DomainError } from '../errors.js';
import { isConditionOperator, isKnownConditionKey, parseConditionOperator } from './conditions.js';
import { knownAction } from './s3Actions.js';
import { hasWildcard } from './wildcard.js';

/** PutBucketPolicy's limit: S3 refuses a policy over 20 KB. */
export const MAX_POLICY_BYTES = 20 * 1024;

export type PolicyPrincipal = '*' | { accounts: string[] };

export interface ConditionClause {
  /** As written: StringEquals, ForAnyValue:StringLike, NumericLessThanIfExists, ... */
  operator: string;
  key: string;
  values: string[];
}

export interface PolicyStatement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  principal?: PolicyPrincipal;
  notPrincipal?: PolicyPrincipal;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: ConditionClause[];
}

export interface BucketPolicy {
  version: string;
  statements: PolicyStatement[];
}

function malformed(message: string): DomainError {
  return new DomainError('MalformedPolicy', message);
}

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string or a non-empty list of strings (IAM accepts both for every list element). */
function stringList(v: unknown, what: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x) => typeof x === 'string')) throw malformed(`Invalid ${what} in policy`);
  return list as string[];
}

const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,128}$/;
const ROOT_ARN = /^arn:aws:iam::([A-Za-z0-9._-]{1,128}):root$/;

function principalOf(v: unknown): PolicyPrincipal {
  if (v === '*') return '*';
  if (!isObject(v)) throw malformed('Invalid principal in policy');
  const accounts: string[] = [];
  for (const [kind, ids] of Object.entries(v)) {
    if (kind !== 'AWS' && kind !== 'CanonicalUser') throw malformed('Invalid principal in policy');
    for (const id of stringList(ids, 'principal')) {
      if (id === '*' && kind === 'AWS') return '*';
      const arn = ROOT_ARN.exec(id);
      if (arn) accounts.push(arn[1]!);
      else if (ACCOUNT_ID.test(id) && !id.startsWith('arn')) accounts.push(id);
      else throw malformed('Invalid principal in policy');
    }
  }
  if (accounts.length === 0) throw malformed('Invalid principal in policy');
  return { accounts };
}

function actionsOf(v: unknown): string[] {
  const list = stringList(v, 'action');
  for (const a of list) {
    if (a === '*') continue;
    if (!/^s3:[A-Za-z*?]+$/i.test(a)) throw malformed('Policy has invalid action');
    if (!hasWildcard(a) && !knownAction(a)) throw malformed('Policy has invalid action');
  }
  return list;
}

/** The resources a statement may name: the bucket itself or keys in it, wildcards allowed (S3: "Policy has invalid resource"). */
function resourcesOf(v: unknown, bucket: string): string[] {
  const list = stringList(v, 'resource');
  for (const r of list) {
    if (r === '*') continue;
    const m = /^arn:aws:s3:::([^/]*)(\/.*)?$/.exec(r);
    if (!m) throw malformed('Policy has invalid resource');
    const name = m[1]!;
    // The bucket part may be a pattern (arn:aws:s3:::my-*), but it must name this bucket.
    if (!wildcardCovers(name, bucket)) throw malformed('Policy has invalid resource');
  }
  return list;
}

function wildcardCovers(pattern: string, bucket: string): boolean {
  if (!hasWildcard(pattern)) return pattern === bucket;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(bucket);
}

function conditionsOf(v: unknown): ConditionClause[] {
  if (!isObject(v)) throw malformed('Invalid Condition in policy');
  const out: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(v)) {
    if (!isConditionOperator(operator)) throw malformed(`Invalid Condition type : ${operator}`);
    if (!isObject(block)) throw malformed(`Invalid Condition in policy`);
    const op = parseConditionOperator(operator)!;
    for (const [key, raw] of Object.entries(block)) {
      if (!isKnownConditionKey(key)) throw malformed('Policy has an invalid condition key');
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0) throw malformed('Invalid Condition in policy');
      const values = list.map((x) => {
        if (typeof x === 'string') return x;
        if (typeof x === 'number' || typeof x === 'boolean') return String(x);
        throw malformed('Invalid Condition in policy');
      });
      if (op.base === 'Null' && !values.every((x) => x === 'true' || x === 'false'))
        throw malformed('Invalid Condition in policy');
      out.push({ operator, key, values });
    }
  }
  return out;
}

function statementOf(raw: unknown, bucket: string): PolicyStatement {
  if (!isObject(raw)) throw malformed('Invalid policy syntax.');
  for (const f of Object.keys(raw)) if (!STATEMENT_FIELDS.has(f)) throw malformed(`Unknown field ${f}`);
  if (raw.Effect === undefined) throw malformed('Missing required field Effect');
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') throw malformed(`Invalid effect: ${String(raw.Effect)}`);
  if (raw.Principal === undefined && raw.NotPrincipal === undefined)
    throw malformed('Missing required field Principal');
  if (raw.Principal !== undefined && raw.NotPrincipal !== undefined) throw malformed('Invalid principal in policy');
  if (raw.Action === undefined && raw.NotAction === undefined) throw malformed('Missing required field Action');
  if (raw.Action !== undefined && raw.NotAction !== undefined)
    throw malformed('Statement can only contain one of Action or NotAction');
  if (raw.Resource === undefined && raw.NotResource === undefined) throw malformed('Missing required field Resource');
  if (raw.Resource !== undefined && raw.NotResource !== undefined)
    throw malformed('Statement can only contain one of Resource or NotResource');
  if (raw.Sid !== undefined && (typeof raw.Sid !== 'string' || !/^[A-Za-z0-9 _.-]*$/.test(raw.Sid)))
    throw malformed('Statement IDs (SID) must be alpha-numeric');
  const st: PolicyStatement = {
    effect: raw.Effect,
    conditions: raw.Condition === undefined ? [] : conditionsOf(raw.Condition),
  };
  if (raw.Sid !== undefined) st.sid = raw.Sid as string;
  if (raw.Principal !== undefined) st.principal = principalOf(raw.Principal);
  if (raw.NotPrincipal !== undefined) st.notPrincipal = principalOf(raw.NotPrincipal);
  if (raw.Action !== undefined) st.action = actionsOf(raw.Action);
  if (raw.NotAction !== undefined) st.notAction = actionsOf(raw.NotAction);
  if (raw.Resource !== undefined) st.resource = resourcesOf(raw.Resource, bucket);
  if (raw.NotResource !== undefined) st.notResource = resourcesOf(raw.NotResource, bucket);
  if (st.action && st.resource && !actionsApply(st.action, st.resource))
    throw malformed('Action does not apply to any resource(s) in statement');
  return st;
}

/**
 * Does at least one action apply to one resource? Only decidable for actions
 * without wildcards: a bucket action needs the bucket ARN, an object action a
 * key ARN (`bucket/...`).
 */
function actionsApply(actions: string[], resources: string[]): boolean {
  const kinds = new Set<string>();
  for (const r of resources) {
    if (r === '*') return true;
    const key = r.indexOf('/') !== -1;
    kinds.add(key ? 'object' : 'bucket');
    // arn:aws:s3:::b* could name a key too when the pattern runs past the bucket name.
    if (!key && r.endsWith('*')) kinds.add('object');
  }
  return actions.some((a) => {
    if (hasWildcard(a)) return true;
    const known = knownAction(a);
    return known !== undefined && kinds.has(known.resource);
  });
}

/**
 * Parse and validate a bucket policy for `bucket`.
 * @throws DomainError MalformedPolicy, with S3's message for what is wrong
 */
export function parsePolicy(text: string, bucket: string): BucketPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES)
    throw malformed('Policies must be less than 20 KB (20480 bytes).');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  if (!isObject(doc)) throw malformed("Policies must be valid JSON and the first byte must be '{'");
  for (const f of Object.keys(doc)) if (!TOP_FIELDS.has(f)) throw malformed(`Unknown field ${f}`);
  const version = doc.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17')
    throw malformed('The policy must contain a valid version string');
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw malformed('Invalid policy syntax.');
  if (doc.Statement === undefined) throw malformed('Missing required field Statement');
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (raw.length === 0) throw malformed('Could not parse the policy: Statement is empty!');
  const statements = raw.map((s) => statementOf(s, bucket));
  const sids = statements.flatMap((s) => (s.sid !== undefined && s.sid !== '' ? [s.sid] : []));
  if (new Set(sids).size !== sids.length) throw malformed('Statement IDs (SID) in a single policy must be unique');
  return { version: version as string, statements };
}

/** Every account a policy names as a principal (PutBucketPolicy checks they exist). */
export function policyPrincipals(p: BucketPolicy): string[] {
  const ids = new Set<string>();
  for (const s of p.statements)
    for (const pr of [s.principal, s.notPrincipal]) if (pr && pr !== '*') for (const a of pr.accounts) ids.add(a);
  return [...ids];
}
