/**
 * The files of `coffer tls init`: a local CA (ca.crt, ca.key) that signs a
 * server certificate for both listeners (server.crt, server.key: the given
 * host names and addresses) and a client certificate for mutual TLS between
 * split-mode gateways and the KMS (client.crt, client.key). Keys are written
 * 0600 and synced before this returns; existing files are never overwritten
 * unless `force`, so a second run cannot silently replace a CA that clients
 * already trust.
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir } from '../privateDir.js';
import { issueCertificate, newKeyPair, privateKeyPem } from './certificate.js';

export interface LocalPkiOptions {
  /** Host names and IP addresses of the server certificate (subjectAltName). */
  hosts: string[];
  /** Lifetime of the server and client certificates (the CA lives ten times as long). Default 397 days. */
  days?: number;
  force?: boolean;
}

export const PKI_FILES = {
  ca: 'ca.crt',
  caKey: 'ca.key',
  cert: 'server.crt',
  key: 'server.key',
  clientCert: 'client.crt',
  clientKey: 'client.key',
} as const;

export type PkiPaths = { [K in keyof typeof PKI_FILES]: string };

/** Browsers and Apple platforms refuse server certificates valid longer than 398 days. */
const DEFAULT_DAYS = 397;

async function writeSynced(path: string, text: string, mode: number, force: boolean): Promise<void> {
  if (force) await unlink(path).catch(() => undefined);
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function createLocalPki(dir: string, opts: LocalPkiOptions): Promise<PkiPaths> {
  if (opts.hosts.length === 0) throw new Error('the server certificate needs at least one host name or address');
  const days = opts.days ?? DEFAULT_DAYS;
  const ca = newKeyPair();
  const caName = `Coffer local CA ${new Date().toISOString().slice(0, 10)}`;
  const caCert = issueCertificate({
    commonName: caName,
    publicKey: ca.publicKey,
    selfKey: ca.privateKey,
    days: days * 10,
    ca: true,
  });
  const issuer = { commonName: caName, key: ca.privateKey, keyId: caCert.keyId };
  const server = newKeyPair();
  const serverCert = issueCertificate({
    commonName: opts.hosts[0] as string,
    publicKey: server.publicKey,
    issuer,
    days,
    serverAuth: true,
    altNames: opts.hosts,
  });
  const client = newKeyPair();
  const clientCert = issueCertificate({
    commonName: 'coffer-gateway',
    publicKey: client.publicKey,
    issuer,
    days,
    clientAuth: true,
  });
  const paths = Object.fromEntries(Object.entries(PKI_FILES).map(([k, f]) => [k, join(dir, f)])) as PkiPaths;
  await ensurePrivateDir(dir);
  const force = opts.force === true;
  // Certificates are public; the chain file a server sends is its own certificate (clients hold the CA).
  const files: Array<[string, string, number]> = [
    [paths.ca, caCert.pem, 0o644],
    [paths.caKey, privateKeyPem(ca.privateKey), 0o600],
    [paths.cert, serverCert.pem, 0o644],
    [paths.key, privateKeyPem(server.privateKey), 0o600],
    [paths.clientCert, clientCert.pem, 0o644],
    [paths.clientKey, privateKeyPem(client.privateKey), 0o600],
  ];
  if (!force) {
    for (const [p] of files) {
      const exists = await open(p, 'r').then(
        (fh) => fh.close().then(() => true),
        () => false,
      );
      if (exists) throw new Error(`${p} exists: pass --force to replace the whole set`);
    }
  }
  for (const [p, text, mode] of files) await writeSynced(p, text, mode, force);
  return paths;
}
