/**
 * Cloud Resource Names for keys and buckets (key-protect.md 4).
 *
 *   crn:v1:<cname>:<ctype>:<service>:<location>:a/<account>:<service-instance>:<resource-type>:<resource>
 *
 * A key CRN has exactly 10 segments, service `kms`, resource type `key`, and a
 * non-empty instance GUID and key id. IBM COS validates the resource type at bucket
 * creation and answers an instance CRN (`...:<guid>::`) with InvalidArgument
 * "resource type is missing or invalid ... Supported value: key" (ibm-cos-sdk-python
 * #36); parseKeyCrn gives the same message so the S3 layer can pass it through.
 */
import { KmsError } from './errors.js';

/** Coffer's own CRNs: cname `coffer`, ctype `local`. */
export const COFFER_CNAME = 'coffer';
export const COFFER_CTYPE = 'local';

const MAX_CRN_LENGTH = 512;
/** No whitespace, control characters or ':' inside a segment. */
const SEGMENT = /^[^\s:\x00-\x1f\x7f]+$/;

export interface KeyCrn {
  cname: string;
  ctype: string;
  region: string;
  account: string;
  instanceId: string;
  keyId: string;
}

/** A malformed CRN. A KmsError (400 INVALID_FIELD_ERR) so every KMS caller handles it alike. */
export class CrnError extends KmsError {
  constructor(message: string) {
    super('INVALID_FIELD_ERR', message, { type: 'field', name: 'crn' });
    this.name = 'CrnError';
  }
}

const RESOURCE_TYPE_MESSAGE = 'The resource type in the CRN is missing or invalid. Supported value: key';

export function parseKeyCrn(crn: string): KeyCrn {
  if (typeof crn !== 'string' || crn.length === 0) throw new CrnError('The key CRN is empty');
  if (crn.length > MAX_CRN_LENGTH) throw new CrnError(`The key CRN is longer than ${MAX_CRN_LENGTH} characters`);
  const seg = crn.split(':');
  if (seg[0] !== 'crn' || seg[1] !== 'v1') {
    throw new CrnError(`Invalid key CRN "${crn}": it must start with "crn:v1:"`);
  }
  // An instance CRN written without the trailing "::" still lacks the resource type.
  if (seg.length === 8) throw new CrnError(`Invalid key CRN "${crn}": ${RESOURCE_TYPE_MESSAGE}`);
  if (seg.length !== 10) {
    throw new CrnError(`Invalid key CRN "${crn}": expected 10 colon-separated segments, got ${seg.length}`);
  }
  const [, , cname, ctype, service, region, scope, instanceId, resourceType, keyId] = seg as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (resourceType !== 'key') throw new CrnError(`Invalid key CRN "${crn}": ${RESOURCE_TYPE_MESSAGE}`);
  if (!SEGMENT.test(cname) || !SEGMENT.test(ctype)) {
    throw new CrnError(`Invalid key CRN "${crn}": the cname and ctype segments must not be empty`);
  }
  if (service !== 'kms')
    throw new CrnError(`Invalid key CRN "${crn}": the service name must be "kms", got "${service}"`);
  if (!SEGMENT.test(region)) throw new CrnError(`Invalid key CRN "${crn}": the location (region) segment is empty`);
  if (!scope.startsWith('a/') || !SEGMENT.test(scope.slice(2))) {
    throw new CrnError(`Invalid key CRN "${crn}": the scope segment must be "a/<account id>"`);
  }
  if (!SEGMENT.test(instanceId))
    throw new CrnError(`Invalid key CRN "${crn}": the service instance (GUID) segment is empty`);
  if (!SEGMENT.test(keyId)) throw new CrnError(`Invalid key CRN "${crn}": the key id segment is empty`);
  return { cname, ctype, region, account: scope.slice(2), instanceId, keyId };
}

/** True when `crn` parses as a key CRN; never throws. */
export function isKeyCrn(crn: string): boolean {
  try {
    parseKeyCrn(crn);
    return true;
  } catch {
    return false;
  }
}

export interface KeyCrnParts {
  region: string;
  account: string;
  instanceId: string;
  keyId: string;
  cname?: string;
  ctype?: string;
}

export function formatKeyCrn(p: KeyCrnParts): string {
  const cname = p.cname ?? COFFER_CNAME;
  const ctype = p.ctype ?? COFFER_CTYPE;
  for (const [name, v] of [
    ['cname', cname],
    ['ctype', ctype],
    ['region', p.region],
    ['account', p.account],
    ['instanceId', p.instanceId],
    ['keyId', p.keyId],
  ] as const) {
    if (!SEGMENT.test(v))
      throw new CrnError(`Cannot format a key CRN: ${name} "${v}" is empty or contains ':' or whitespace`);
  }
  return `crn:v1:${cname}:${ctype}:kms:${p.region}:a/${p.account}:${p.instanceId}:key:${p.keyId}`;
}

/**
 * CRN of a bucket, the resource a registration protects. IBM COS uses
 * `crn:v1:bluemix:public:cloud-object-storage:global:a/<acct>:<cos-instance>:bucket:<name>`;
 * Coffer uses its own cname/ctype.
 */
export function formatBucketCrn(p: { account: string; instance: string; bucket: string }): string {
  for (const [name, v] of [
    ['account', p.account],
    ['instance', p.instance],
    ['bucket', p.bucket],
  ] as const) {
    if (!SEGMENT.test(v))
      throw new CrnError(`Cannot format a bucket CRN: ${name} "${v}" is empty or contains ':' or whitespace`);
  }
  return `crn:v1:${COFFER_CNAME}:${COFFER_CTYPE}:cloud-object-storage:global:a/${p.account}:${p.instance}:bucket:${p.bucket}`;
}

/**
 * A resource CRN as accepted for registrations: 10 segments starting `crn:v1:`
 * with a non-empty resource type and resource.
 */
export function assertResourceCrn(crn: string): void {
  const seg = typeof crn === 'string' ? crn.split(':') : [];
  if (crn.length > MAX_CRN_LENGTH || seg.length !== 10 || seg[0] !== 'crn' || seg[1] !== 'v1' || !seg[8] || !seg[9]) {
    throw new KmsError(
      'INVALID_FIELD_ERR',
      `The field 'resourceCrn' must be: a valid CRN with a resource type and resource, got "${crn}"`,
      {
        type: 'field',
        name: 'resourceCrn',
      },
    );
  }
}
