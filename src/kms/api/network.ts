/**
 * The network side of a KMS API request: its client address (the TCP peer, or
 * X-Forwarded-For through a configured trusted proxy only: util/clientAddress)
 * and whether that address is on a private network. The instance policies
 * allowedIP and allowedNetwork judge it (InstancePolicies.allowsNetwork), and
 * /metrics is served to private networks only.
 */
import type { Context } from 'koa';
import { CidrSet, PRIVATE_RANGES } from '../../util/cidr.js';
import { clientAddress } from '../../util/clientAddress.js';
import type { NetworkClient } from '../instancePolicies.js';

export interface NetworkSettings {
  /** What "private" means (COFFER_PRIVATE_NETWORKS); default loopback, RFC 1918, unique local. */
  privateNetworks?: readonly string[];
  /** Proxies whose X-Forwarded-For is believed (COFFER_TRUSTED_PROXIES); default none. */
  trustedProxies?: readonly string[];
}

export interface Network {
  clientOf(ctx: Pick<Context, 'req'>): NetworkClient;
}

export function network(settings: NetworkSettings = {}): Network {
  const privateNets = new CidrSet(settings.privateNetworks ?? PRIVATE_RANGES);
  const proxies = new CidrSet(settings.trustedProxies ?? []);
  return {
    clientOf(ctx) {
      const address = clientAddress(ctx.req.socket.remoteAddress, ctx.req.headers, proxies);
      return { address, isPrivate: privateNets.has(address) };
    },
  };
}
