/**
 * A local CA with server and client certificates for TLS tests, written by the
 * same code as `coffer tls init` into a temporary directory.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalPki, type PkiPaths } from '../../src/util/x509/localPki.js';

export interface TlsFiles {
  dir: string;
  paths: PkiPaths;
  ca: string;
  clientCert: string;
  clientKey: string;
  /** An https.Agent trusting the CA (and presenting the client certificate with `client`). */
  agent(opts?: { client?: boolean; trustCa?: boolean }): Agent;
  remove(): Promise<void>;
}

export async function makeTlsFiles(hosts = ['localhost', '127.0.0.1', '::1']): Promise<TlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-tls-'));
  const paths = await createLocalPki(dir, { hosts, days: 2 });
  const ca = readFileSync(paths.ca, 'utf8');
  const clientCert = readFileSync(paths.clientCert, 'utf8');
  const clientKey = readFileSync(paths.clientKey, 'utf8');
  const agents: Agent[] = [];
  return {
    dir,
    paths,
    ca,
    clientCert,
    clientKey,
    agent(opts = {}) {
      const a = new Agent({
        keepAlive: false,
        ...(opts.trustCa === false ? {} : { ca }),
        ...(opts.client ? { cert: clientCert, key: clientKey } : {}),
      });
      agents.push(a);
      return a;
    },
    async remove() {
      for (const a of agents) a.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
