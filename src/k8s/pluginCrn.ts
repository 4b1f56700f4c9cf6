/**
 * The two CRNs the plugin deals in: the root key's (`--key`, which names the
 * KMS instance for `bluemix-instance`) and the cluster's, registered on the
 * key as the resource it protects (key-protect.md 1.6, 4):
 *
 *   crn:v1:<cname>:<ctype>:kms:<region>:a/<account>:<instance>:key:<key-id>
 *   crn:v1:<cname>:<ctype>:kubernetes:<region>:a/<account>::cluster:<name>  (default)
 *
 * Parsed here rather than with the KMS's own CRN code: the plugin is a client
 * of the public API and only needs the segments.
 */

export interface KeyCrn {
  crn: string;
  cname: string;
  ctype: string;
  region: string;
  account: string;
  instanceId: string;
  keyId: string;
}

export class CrnFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrnFormatError';
  }
}

const SEGMENT = /^[^\s:\x00-\x1f\x7f]+$/;
const CLUSTER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/;

export function parseKeyCrn(crn: string): KeyCrn {
  const seg = crn.split(':');
  const [c, v, cname, ctype, service, region, scope, instanceId, type, keyId] = seg;
  const ok =
    seg.length === 10 &&
    c === 'crn' &&
    v === 'v1' &&
    service === 'kms' &&
    type === 'key' &&
    [cname, ctype, instanceId, keyId].every((s) => s !== undefined && SEGMENT.test(s)) &&
    scope !== undefined &&
    /^a\/[^\s:]+$/.test(scope) &&
    crn.length <= 512;
  if (!ok)
    throw new CrnFormatError(
      `not a root key CRN: "${crn}" (expected crn:v1:<cname>:<ctype>:kms:<region>:a/<account>:<instance>:key:<key-id>)`,
    );
  return {
    crn,
    cname: cname!,
    ctype: ctype!,
    region: region ?? '',
    account: scope!.slice(2),
    instanceId: instanceId!,
    keyId: keyId!,
  };
}

/** The cluster's CRN in the key's account and region, from the cluster's name. */
export function defaultClusterCrn(key: KeyCrn, clusterName: string): string {
  if (!CLUSTER_NAME.test(clusterName))
    throw new CrnFormatError(`--cluster-name must be 1-128 letters, digits, '.', '_' or '-', got "${clusterName}"`);
  return `crn:v1:${key.cname}:${key.ctype}:kubernetes:${key.region}:a/${key.account}::cluster:${clusterName}`;
}

/** A resource CRN as the registration API takes it: 10 segments, the resource type and resource present. */
export function checkResourceCrn(crn: string): string {
  const seg = crn.split(':');
  if (
    crn.length > 512 ||
    seg.length !== 10 ||
    seg[0] !== 'crn' ||
    seg[1] !== 'v1' ||
    !seg[8] ||
    !seg[9] ||
    /\s/.test(crn)
  ) {
    throw new CrnFormatError(
      `--cluster-crn must be a CRN with a resource type and resource (crn:v1:...:<type>:<name>), got "${crn}"`,
    );
  }
  return crn;
}

/** True when `crn` is a key CRN of the same instance as `key`: the only other keys Decrypt will use. */
export function sameInstance(key: KeyCrn, crn: string): KeyCrn | undefined {
  try {
    const other = parseKeyCrn(crn);
    return other.instanceId === key.instanceId && other.account === key.account ? other : undefined;
  } catch {
    return undefined;
  }
}
