/**
 * The address a request came from, as the KMS's network policies judge it:
 * the TCP peer, unless the peer is one of the configured trusted proxies, in
 * which case X-Forwarded-For is read from the right (the hop nearest us) past
 * every trusted proxy to the first address that is not one. Only then: a
 * client that connects directly cannot choose its address by sending the
 * header. An entry that is not an IP address ends the walk with no address
 * (undefined), which no allowedIP range and no private network matches.
 */
import { CidrSet, addressBytes } from './cidr.js';
import { headerValue, type HeaderMap } from './httpHeaders.js';

/** IPv4-mapped IPv6 (::ffff:10.0.0.1, as a dual-stack socket reports IPv4 peers) as plain IPv4. */
export function normalizeAddress(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? (m[1] as string) : ip;
}

export function clientAddress(
  peer: string | undefined,
  headers: HeaderMap,
  trustedProxies: CidrSet,
): string | undefined {
  if (peer === undefined || addressBytes(peer) === undefined) return undefined;
  let current = normalizeAddress(peer);
  if (!trustedProxies.has(current)) return current;
  const forwarded = headerValue(headers, 'x-forwarded-for');
  if (forwarded === undefined) return current;
  const hops = forwarded
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (addressBytes(hop) === undefined) return undefined;
    current = normalizeAddress(hop.replace(/^\[|\]$/g, ''));
    if (!trustedProxies.has(current)) return current;
  }
  return current;
}
