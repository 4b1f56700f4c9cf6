/** The settings of the `coffer` client commands (never the server's). */
import { resolve } from 'node:path';
import { ConfigError } from './values.js';

/** What the `coffer` client commands need: where the KMS API is, and whose API key to use. */
export interface ClientConfig {
  /** COFFER_KMS_URL or --url; default http://127.0.0.1:9001. */
  url: string;
  /** --apikey, else COFFER_API_KEY (or the deprecated COFFER_ROOT_APIKEY); "" when none is set. */
  apiKey: string;
  /** COFFER_KMS_INSTANCE or --instance; "" = the caller's own instance. */
  instance: string;
  /** An https KMS URL: COFFER_TLS_CA (a PEM CA to trust) and COFFER_TLS_CLIENT_CERT/KEY (mutual TLS); paths, resolved. */
  tlsCa?: string;
  tlsClientCert?: string;
  tlsClientKey?: string;
}

export function loadClientConfig(
  env: NodeJS.ProcessEnv = process.env,
  flags: { url?: string; apiKey?: string; instance?: string } = {},
): ClientConfig {
  const url = (flags.url ?? env.COFFER_KMS_URL ?? '') || 'http://127.0.0.1:9001';
  const setting = flags.url !== undefined ? '--url' : 'COFFER_KMS_URL';
  if (!/^https?:\/\/[^/]+/.test(url))
    throw new ConfigError(setting, `must be an http(s) URL, got ${JSON.stringify(url)}`);
  const apiKey = flags.apiKey ?? (env.COFFER_API_KEY || env.COFFER_ROOT_APIKEY || '');
  const instance = flags.instance ?? env.COFFER_KMS_INSTANCE ?? '';
  if (instance && !/^[A-Za-z0-9._-]{1,128}$/.test(instance))
    throw new ConfigError(
      flags.instance !== undefined ? '--instance' : 'COFFER_KMS_INSTANCE',
      'must be a KMS instance id',
    );
  const out: ClientConfig = { url: url.replace(/\/+$/, ''), apiKey, instance };
  if (env.COFFER_TLS_CA) out.tlsCa = resolve(env.COFFER_TLS_CA);
  if (env.COFFER_TLS_CLIENT_CERT) out.tlsClientCert = resolve(env.COFFER_TLS_CLIENT_CERT);
  if (env.COFFER_TLS_CLIENT_KEY) out.tlsClientKey = resolve(env.COFFER_TLS_CLIENT_KEY);
  if (!out.tlsClientCert !== !out.tlsClientKey)
    throw new ConfigError('COFFER_TLS_CLIENT_CERT', 'COFFER_TLS_CLIENT_CERT and COFFER_TLS_CLIENT_KEY go together');
  return out;
}
