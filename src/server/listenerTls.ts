/**
 * TLS of the two listeners (S3 and KMS): COFFER_TLS_CERT / COFFER_TLS_KEY turn
 * both into HTTPS with the same certificate; COFFER_TLS_CLIENT_CA makes the KMS
 * listener require a client certificate issued by that CA (mutual TLS, for
 * split-mode gateways and the CLI), refused in the handshake without one. The
 * files are read once at start; a missing file or a key that does not match
 * the certificate fails the start with the setting named.
 *
 * A KMS listener beyond loopback without TLS is refused: it carries API keys
 * and bearer tokens. COFFER_KMS_INSECURE_HTTP=true allows it (behind a
 * TLS-terminating proxy, say).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Config } from '../config.js';

export interface ListenerTls {
  cert: string;
  key: string;
  /** PEM CAs of accepted client certificates (KMS listener only). */
  clientCa?: string;
}

function read(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(setting, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The listeners' TLS material, or undefined when TLS is off. `forKms` adds the client CA. */
export function listenerTls(config: Config, forKms: boolean): ListenerTls | undefined {
  if (!config.tlsCert || !config.tlsKey) return undefined;
  const tls: ListenerTls = {
    cert: read(config.tlsCert, 'COFFER_TLS_CERT'),
    key: read(config.tlsKey, 'COFFER_TLS_KEY'),
  };
  try {
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (e) {
    throw new ConfigError('COFFER_TLS_KEY', `does not go with COFFER_TLS_CERT: ${(e as Error).message}`);
  }
  if (forKms && config.tlsClientCa) {
    tls.clientCa = read(config.tlsClientCa, 'COFFER_TLS_CLIENT_CA');
    try {
      createSecureContext({ ca: tls.clientCa });
    } catch (e) {
      throw new ConfigError('COFFER_TLS_CLIENT_CA', `is not a PEM certificate: ${(e as Error).message}`);
    }
  }
  return tls;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** The KMS listener's bind address, refused beyond loopback without TLS. */
export function kmsBindHost(config: Config): string {
  const host = config.kmsHost ?? config.host;
  if (!LOOPBACK.test(host) && !config.tlsCert && !config.kmsInsecureHttp)
    throw new ConfigError(
      config.kmsHost !== undefined ? 'COFFER_KMS_HOST' : 'COFFER_HOST',
      `the KMS API would listen on ${host} without TLS, sending API keys and tokens in the clear: set COFFER_TLS_CERT and COFFER_TLS_KEY, set COFFER_KMS_HOST=127.0.0.1, or COFFER_KMS_INSECURE_HTTP=true`,
    );
  return host;
}

/** An HTTP or (with `tls`) HTTPS server with the same request options. */
export function createListener(opts: ServerOptions, handler: RequestListener, tls: ListenerTls | undefined): Server {
  if (!tls) return createHttpServer(opts, handler);
  return createHttpsServer(
    {
      ...opts,
      cert: tls.cert,
      key: tls.key,
      minVersion: 'TLSv1.2',
      ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    },
    handler,
  );
}

/** http(s)://address:port of a listening server. */
export function listenerUrl(server: Server, tls: boolean): string {
  const addr = server.address() as AddressInfo;
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return `${tls ? 'https' : 'http'}://${host}:${addr.port}`;
}
