/** TLS of both listeners and of a split gateway's KMS client, and the KMS's network settings. */
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Names } from './values.js';
import { ConfigError, cidrs, str } from './values.js';

/** TLS of the listeners and of a split gateway's KMS client, and the KMS's network settings; only what is set appears. */
export function tlsAndNetwork(raw: Record<string, unknown>, { name, env: envName }: Names): Partial<Config> {
  const out: Partial<Config> = {};
  const paths = ['tlsCert', 'tlsKey', 'tlsClientCa', 'tlsCa', 'tlsClientCert', 'tlsClientKey'] as const;
  for (const k of paths) {
    const v = str(raw[k], name(k));
    if (v) out[k] = resolve(v);
  }
  for (const [a, b] of [
    ['tlsCert', 'tlsKey'],
    ['tlsClientCert', 'tlsClientKey'],
  ] as const) {
    if (out[a] && !out[b]) throw new ConfigError(envName(b), `is required with ${name(a)}`);
    if (out[b] && !out[a]) throw new ConfigError(envName(a), `is required with ${name(b)}`);
  }
  if (out.tlsClientCa && !out.tlsCert)
    throw new ConfigError(name('tlsClientCa'), `needs TLS on the listeners: set ${envName('tlsCert')} too`);
  const kmsHost = str(raw.kmsHost, name('kmsHost'));
  if (kmsHost) out.kmsHost = kmsHost;
  const insecure = raw.kmsInsecureHttp;
  if (insecure !== undefined && insecure !== null && insecure !== '') {
    if (insecure === true || insecure === 'true' || insecure === '1') out.kmsInsecureHttp = true;
    else if (!(insecure === false || insecure === 'false' || insecure === '0'))
      throw new ConfigError(name('kmsInsecureHttp'), 'must be true or false');
  }
  const privateNetworks = cidrs(raw.privateNetworks, name('privateNetworks'));
  if (privateNetworks) out.privateNetworks = privateNetworks;
  const trustedProxies = cidrs(raw.trustedProxies, name('trustedProxies'));
  if (trustedProxies) out.trustedProxies = trustedProxies;
  const sseC = raw.sseCRequireTls;
  if (sseC !== undefined && sseC !== null && sseC !== '') {
    const v = String(sseC).toLowerCase();
    if (v !== 'auto' && v !== 'true' && v !== 'false')
      throw new ConfigError(name('sseCRequireTls'), 'must be auto, true or false');
    out.sseCRequireTls = v;
  }
  return out;
}
