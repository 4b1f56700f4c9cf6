import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadClientConfig, loadConfig } from '../../src/config.js';

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError');
}

describe('loadConfig: TLS and network settings', () => {
  it('are absent when not set', () => {
    const c = loadConfig({});
    for (const k of ['tlsCert', 'tlsKey', 'tlsClientCa', 'tlsCa', 'kmsHost', 'privateNetworks', 'trustedProxies'])
      expect(c, k).not.toHaveProperty(k);
  });

  it('read paths (resolved), hosts and CIDR lists from the environment', () => {
    const c = loadConfig({
      COFFER_TLS_CERT: 'tls/server.crt',
      COFFER_TLS_KEY: 'tls/server.key',
      COFFER_TLS_CLIENT_CA: 'tls/ca.crt',
      COFFER_TLS_CA: 'tls/ca.crt',
      COFFER_TLS_CLIENT_CERT: 'tls/client.crt',
      COFFER_TLS_CLIENT_KEY: 'tls/client.key',
      COFFER_KMS_HOST: '127.0.0.1',
      COFFER_KMS_INSECURE_HTTP: 'true',
      COFFER_PRIVATE_NETWORKS: '10.0.0.0/8, fd00::/8',
      COFFER_TRUSTED_PROXIES: '127.0.0.1',
    });
    expect(c.tlsCert).toBe(resolve('tls/server.crt'));
    expect(c.tlsClientCa).toBe(resolve('tls/ca.crt'));
    expect(c.tlsClientKey).toBe(resolve('tls/client.key'));
    expect(c.kmsHost).toBe('127.0.0.1');
    expect(c.kmsInsecureHttp).toBe(true);
    expect(c.privateNetworks).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(c.trustedProxies).toEqual(['127.0.0.1']);
  });

  it('a certificate needs its key and the other way round', () => {
    expect(configError(() => loadConfig({ COFFER_TLS_CERT: 'a.crt' })).setting).toBe('COFFER_TLS_KEY');
    expect(configError(() => loadConfig({ COFFER_TLS_KEY: 'a.key' })).setting).toBe('COFFER_TLS_CERT');
    expect(configError(() => loadConfig({ COFFER_TLS_CLIENT_CERT: 'c.crt' })).setting).toBe('COFFER_TLS_CLIENT_KEY');
  });

  it('client certificates need TLS on the listeners', () => {
    expect(configError(() => loadConfig({ COFFER_TLS_CLIENT_CA: 'ca.crt' })).setting).toBe('COFFER_TLS_CLIENT_CA');
  });

  it('refuses a bad CIDR and a bad boolean, naming the setting', () => {
    const e = configError(() => loadConfig({ COFFER_TRUSTED_PROXIES: '10.0.0.0/40' }));
    expect(e.setting).toBe('COFFER_TRUSTED_PROXIES');
    expect(e.message).toMatch(/\/40/);
    expect(configError(() => loadConfig({ COFFER_PRIVATE_NETWORKS: 'lan' })).setting).toBe('COFFER_PRIVATE_NETWORKS');
    expect(configError(() => loadConfig({ COFFER_KMS_INSECURE_HTTP: 'yes' })).setting).toBe('COFFER_KMS_INSECURE_HTTP');
  });

  it('the client commands read the CA and client certificate', () => {
    const c = loadClientConfig({
      COFFER_TLS_CA: 'ca.crt',
      COFFER_TLS_CLIENT_CERT: 'c.crt',
      COFFER_TLS_CLIENT_KEY: 'c.key',
    });
    expect(c.tlsCa).toBe(resolve('ca.crt'));
    expect(c.tlsClientCert).toBe(resolve('c.crt'));
    expect(configError(() => loadClientConfig({ COFFER_TLS_CLIENT_KEY: 'c.key' })).setting).toBe(
      'COFFER_TLS_CLIENT_CERT',
    );
  });
});
