/**
 * `coffer tls init`: a local CA and the server and client certificates signed
 * by it (util/x509/localPki.ts), for HTTPS on both listeners and mutual TLS
 * between split-mode gateways and the KMS. Prints the settings that use them.
 * For local use and tests: a deployment with its own PKI points COFFER_TLS_CERT
 * and COFFER_TLS_KEY at its own files.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createLocalPki } from '../util/x509/localPki.js';
import { CliError, flag, int, parse, str, UsageError } from './args.js';
import type { Io } from './output.js';

export const TLS_USAGE = `coffer tls init [--dir DIR] [--hosts NAME,...] [--days N] [--force]
                                                 write a local CA, server and client certificates (default ./tls;
                                                 hosts localhost, 127.0.0.1, ::1 and this host's name)`;

const OPTIONS = {
  dir: { type: 'string' as const },
  hosts: { type: 'string' as const },
  days: { type: 'string' as const },
  force: { type: 'boolean' as const },
  help: { type: 'boolean' as const, short: 'h' },
};

export async function runTls(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(TLS_USAGE + '\n');
    return cmd === undefined ? 2 : 0;
  }
  if (cmd !== 'init') throw new UsageError(`unknown command "tls ${cmd}"\n\n${TLS_USAGE}`);
  const p = parse(rest, OPTIONS, { usage: TLS_USAGE });
  if (flag(p, 'help')) {
    io.out(TLS_USAGE + '\n');
    return 0;
  }
  const dir = resolve(str(p, 'dir') ?? 'tls');
  const given = str(p, 'hosts');
  const hosts = given
    ? given
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean)
    : [...new Set(['localhost', '127.0.0.1', '::1', hostname().toLowerCase()])].filter((h) =>
        /^[a-z0-9.-]+$|:/.test(h),
      );
  const days = int(p, 'days', 3650);
  let paths;
  try {
    paths = await createLocalPki(dir, { hosts, ...(days ? { days } : {}), force: flag(p, 'force') });
  } catch (e) {
    throw new CliError(`tls init: ${(e as Error).message}`);
  }
  io.out(
    [
      `Wrote a local CA and certificates to ${dir} (server certificate for ${hosts.join(', ')}).`,
      '',
      'HTTPS on both listeners:',
      `  COFFER_TLS_CERT=${paths.cert}`,
      `  COFFER_TLS_KEY=${paths.key}`,
      'Clients trust the CA:',
      `  aws --ca-bundle ${paths.ca}   s3cmd --ca-certs=${paths.ca}   rclone --ca-cert ${paths.ca}`,
      `  NODE_EXTRA_CA_CERTS=${paths.ca} (Node), COFFER_TLS_CA=${paths.ca} (coffer CLI, split gateways)`,
      'Mutual TLS between split-mode gateways (and the CLI) and the KMS:',
      `  on the KMS:      COFFER_TLS_CLIENT_CA=${paths.ca}`,
      `  on the gateway:  COFFER_TLS_CLIENT_CERT=${paths.clientCert} COFFER_TLS_CLIENT_KEY=${paths.clientKey}`,
      `Keep ${paths.caKey} offline or delete it: it can issue certificates every client trusts.`,
      '',
    ].join('\n'),
  );
  return 0;
}
