/**
 * What an account still holds outside IAM, before DELETE /iam/v1/accounts/{id}
 * may remove it: buckets, and keys that are not destroyed. Deleting an account
 * takes its credentials away, so whatever it still held would be out of
 * everyone's reach; the caller empties it first.
 *
 * Buckets are found through the KMS, which sees them in both modes: every
 * bucket is registered on its root key (the provider-managed default key
 * included) under its CRN, whose scope segment is `a/<account>`. The bucket
 * store itself is the gateways', which a split-mode KMS cannot read.
 */
import type { KmsService } from '../../kms/kmsService.js';

export interface AccountHoldings {
  buckets: string[];
  keys: number;
}

/** `crn:v1:<cloud>:<ctype>:<service>:<region>:a/<account>:<instance>:bucket:<name>` -> account and name. */
function bucketOf(crn: string): { account: string; name: string } | undefined {
  const s = crn.split(':');
  if (s.length < 10 || s[8] !== 'bucket' || !s[6]?.startsWith('a/')) return undefined;
  return { account: s[6].slice(2), name: s.slice(9).join(':') };
}

export async function accountHoldings(kms: KmsService, accountId: string): Promise<AccountHoldings> {
  const buckets = new Set<string>();
  let keys = 0;
  for (const inst of await kms.listInstances()) {
    for (let offset = 0; ;) {
      const page = await kms.listRegistrations(inst.id, undefined, { offset });
      for (const r of page.registrations) {
        const b = bucketOf(r.resourceCrn);
        if (b?.account === accountId) buckets.add(b.name);
      }
      offset += page.registrations.length;
      if (page.registrations.length === 0 || offset >= page.total) break;
    }
    // Pre-active, active, suspended and deactivated keys: all but destroyed (5).
    if (inst.account === accountId) keys += (await kms.listKeys(inst.id, { state: [0, 1, 2, 3], limit: 1 })).total;
  }
  return { buckets: [...buckets].sort(), keys };
}

/** One line for the 409: what to remove first. */
export function describeHoldings(h: AccountHoldings): string | undefined {
  const parts: string[] = [];
  if (h.buckets.length)
    parts.push(
      `${h.buckets.length} bucket(s) (${h.buckets.slice(0, 5).join(', ')}${h.buckets.length > 5 ? ', ...' : ''})`,
    );
  if (h.keys) parts.push(`${h.keys} key(s) not deleted`);
  return parts.length ? parts.join(' and ') : undefined;
}
