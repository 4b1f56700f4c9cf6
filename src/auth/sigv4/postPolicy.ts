/**
 * SigV4 POST policies (browser uploads, "POST Object"): the form carries a
 * base64 JSON policy, `{"expiration": ..., "conditions": [...]}`, and its
 * signature, the hex HMAC-SHA256 of the base64 text under the SigV4 signing
 * key of the credential scope in x-amz-credential. Verification checks the
 * signature; evaluation checks the form against the conditions: `eq`,
 * `starts-with` and exact-match objects on fields, `content-length-range` on
 * the file (returned, and enforced by the caller as the file streams), and the
 * rule that every field except x-amz-signature, file, policy and x-ignore-*
 * is named by some condition (AWS: "Extra input fields").
 */
import type { CredentialStore, Principal } from '../credentials.js';
import { ALGORITHM, SCOPE_TERMINATOR } from './constants.js';
import { parseAmzDate } from './dates.js';
import { SigV4Error } from './errors.js';
import { SigningKeyCache, signHex, signaturesEqual } from './signingKey.js';

/** The form's fields by lower-cased name (S3 compares form field names case-insensitively). */
export type PostFields = ReadonlyMap<string, string>;

export type PolicyCondition =
  | { op: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { op: 'content-length-range'; min: number; max: number; text: string };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

export interface PostVerifyOptions {
  region: string;
  service: string;
}

const signingKeys = new SigningKeyCache(64);

/** Fields no condition has to name. */
function exempt(name: string): boolean {
  return name === 'x-amz-signature' || name === 'file' || name === 'policy' || name.startsWith('x-ignore-');
}

/** AWS's answer to a required field that is missing (it may also have come after the file). */
export function missingField(name: string): SigV4Error {
  return new SigV4Error(
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { ArgumentName: name, ArgumentValue: '' },
  );
}

function invalidPolicy(message: string): SigV4Error {
  return new SigV4Error('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

function denied(message: string): SigV4Error {
  return new SigV4Error('AccessDenied', `Invalid according to Policy: ${message}`);
}

/**
 * Check the form's SigV4 signature over its policy.
 * @param fields the form fields before the file
 * @param creds where the access key's secret is
 * @param opts the region and service this endpoint signs for
 * @returns who signed it
 * @throws SigV4Error: InvalidArgument for a missing or malformed field, InvalidAccessKeyId, SignatureDoesNotMatch
 */
export async function verifyPostSignature(
  fields: PostFields,
  creds: CredentialStore,
  opts: PostVerifyOptions,
): Promise<{ principal: Principal; accessKeyId: string }> {
  if (fields.has('awsaccesskeyid') || (fields.has('signature') && !fields.has('x-amz-signature')))
    throw new SigV4Error(
      'InvalidArgument',
      'Signature Version 2 POST forms are not supported: sign the policy with AWS4-HMAC-SHA256.',
      { ArgumentName: 'x-amz-algorithm', ArgumentValue: '' },
    );
  const get = (name: string): string => {
    const v = fields.get(name);
    if (v === undefined || v === '') throw missingField(name);
    return v;
  };
  const policy = get('policy');
  const algorithm = get('x-amz-algorithm');
  if (algorithm !== ALGORITHM)
    throw new SigV4Error('InvalidArgument', `Unsupported algorithm ${algorithm}: expected ${ALGORITHM}.`, {
      ArgumentName: 'x-amz-algorithm',
      ArgumentValue: algorithm,
    });
  const credential = get('x-amz-credential');
  const amzDate = get('x-amz-date');
  const signature = get('x-amz-signature');
  const parts = credential.split('/');
  const badCredential = (why: string) =>
    new SigV4Error('InvalidArgument', `Invalid x-amz-credential: ${why}`, {
      ArgumentName: 'x-amz-credential',
      ArgumentValue: credential,
    });
  if (parts.length !== 5 || parts.some((p) => p === '') || parts[4] !== SCOPE_TERMINATOR)
    throw badCredential(`expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/${SCOPE_TERMINATOR}".`);
  const [accessKeyId, scopeDate, region, service] = parts as [string, string, string, string];
  if (!parseAmzDate(amzDate))
    throw new SigV4Error('InvalidArgument', "x-amz-date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"", {
      ArgumentName: 'x-amz-date',
      ArgumentValue: amzDate,
    });
  if (amzDate.slice(0, 8) !== scopeDate) throw badCredential(`the date ${scopeDate} is not that of x-amz-date.`);
  if (region !== opts.region) throw badCredential(`the region '${region}' is wrong; expecting '${opts.region}'.`);
  if (service !== opts.service) throw badCredential(`the service '${service}' is wrong; expecting '${opts.service}'.`);
  const found = await creds.lookup(accessKeyId);
  if (!found)
    throw new SigV4Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: accessKeyId,
    });
  const key = signingKeys.get(found.secretAccessKey, scopeDate, region, service);
  if (!signaturesEqual(signHex(key, policy), signature.toLowerCase()))
    throw new SigV4Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: accessKeyId, StringToSign: policy },
    );
  return { principal: found.principal, accessKeyId };
}

/** AWS quotes a failed condition as JSON with a space after each comma. */
function quote(parts: unknown[]): string {
  return `[${parts.map((p) => JSON.stringify(p)).join(', ')}]`;
}

/** `$name` -> `name`, lower-cased; undefined when the text is not a field reference. */
function fieldRef(v: unknown): string | undefined {
  return typeof v === 'string' && v.startsWith('$') && v.length > 1 ? v.slice(1).toLowerCase() : undefined;
}

function decodeCondition(c: unknown): PolicyCondition[] {
  if (Array.isArray(c)) {
    const op = typeof c[0] === 'string' ? c[0].toLowerCase() : undefined;
    if (op === 'content-length-range') {
      const [, min, max] = c as unknown[];
      const n = (x: unknown) => (typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : x);
      const lo = n(min);
      const hi = n(max);
      if (c.length !== 3 || !Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || (lo as number) < 0)
        throw invalidPolicy('Invalid content-length-range condition.');
      return [{ op, min: lo as number, max: hi as number, text: quote(c) }];
    }
    if (op === 'eq' || op === 'starts-with') {
      const field = fieldRef(c[1]);
      if (c.length !== 3 || field === undefined || typeof c[2] !== 'string')
        throw invalidPolicy(`Invalid ${op} condition: ${quote(c)}.`);
      return [{ op, field, value: c[2], text: quote(c) }];
    }
    throw invalidPolicy(`Invalid condition operator: ${quote(c.slice(0, 1))}.`);
  }
  if (c && typeof c === 'object') {
    // {"bucket": "b", "acl": "private"}: each pair is an exact match.
    return Object.entries(c as Record<string, unknown>).map(([k, v]) => {
      if (typeof v !== 'string') throw invalidPolicy(`Invalid value for ${k}.`);
      return { op: 'eq' as const, field: k.toLowerCase(), value: v, text: JSON.stringify({ [k]: v }) };
    });
  }
  throw invalidPolicy('Each condition must be an array or an object.');
}

/**
 * Decode the policy field.
 * @param base64 the policy as sent
 * @throws SigV4Error InvalidPolicyDocument
 */
export function decodePolicy(base64: string): PostPolicy {
  let doc: unknown;
  try {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(base64)) throw new Error('not base64');
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string') throw invalidPolicy('Policy missing expiration.');
  const exp = new Date(expiration);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(expiration) || Number.isNaN(exp.getTime()))
    throw invalidPolicy(`Invalid 'expiration' value: '${expiration}'.`);
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  return { expiration: exp, conditions: conditions.flatMap(decodeCondition) };
}

/** What the policy allows of the file, for the caller to enforce while it streams. */
export interface PolicyLimits {
  /** Inclusive bounds on the file's size, when the policy has a content-length-range. */
  lengthRange?: { min: number; max: number };
}

/**
 * Check the form against the policy: not expired, every condition holds, no field unnamed.
 * @param policy the decoded policy
 * @param fields the form fields as sent (with `key` after ${filename} is replaced)
 * @param bucket the bucket of the URL: what a `bucket` condition is checked against
 * @param now the clock
 * @throws SigV4Error AccessDenied "Invalid according to Policy: ..."
 */
export function checkPolicy(policy: PostPolicy, fields: PostFields, bucket: string, now: Date): PolicyLimits {
  if (now.getTime() > policy.expiration.getTime()) throw denied('Policy expired.');
  const named = new Set<string>();
  const limits: PolicyLimits = {};
  for (const c of policy.conditions) {
    if (c.op === 'content-length-range') {
      // Several ranges: the file must satisfy each, so the tightest bounds hold.
      const r = limits.lengthRange;
      limits.lengthRange = r
        ? { min: Math.max(r.min, c.min), max: Math.min(r.max, c.max) }
        : { min: c.min, max: c.max };
      continue;
    }
    named.add(c.field);
    const value = c.field === 'bucket' ? bucket : (fields.get(c.field) ?? '');
    const ok =
      c.op === 'eq'
        ? value === c.value
        : // A Content-Type starts-with applies to each of a comma-separated list.
          (c.field === 'content-type' ? value.split(',').map((v) => v.trim()) : [value]).every((v) =>
            v.startsWith(c.value),
          );
    if (!ok) throw denied(`Policy Condition failed: ${c.text}`);
  }
  const extra = [...fields.keys()].filter((f) => !exempt(f) && !named.has(f));
  if (extra.length > 0) throw denied(`Extra input fields: ${extra.join(', ')}`);
  return limits;
}
