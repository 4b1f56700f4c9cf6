/**
 * `coffer k8s-kms-plugin --socket PATH --key CRN`: the Kubernetes KMS v2
 * plugin (src/k8s) over a Coffer root key, until SIGINT/SIGTERM. It talks to
 * the KMS API like the client commands (--kms-url or COFFER_KMS_URL, API key
 * from COFFER_API_KEY; the instance is the key CRN's). The API key must be a
 * service identity's, since only services may register resources on a key.
 */
import { ConfigError, loadClientConfig } from '../config.js';
import { createLogger, type LogLevel } from '../util/logger.js';
import { flag, int, parse, str, UsageError } from './args.js';
import type { Io } from './output.js';
import { onSignals } from './serverCommand.js';

export const K8S_USAGE = `coffer k8s-kms-plugin --socket PATH --key ROOT_KEY_CRN [--kms-url URL]
                     [--cluster-name NAME | --cluster-crn CRN] [--status-cache-seconds N]

  The Kubernetes KMS v2 plugin: Encrypt/Decrypt are wrap/unwrap under the root
  key, on a gRPC Unix socket (0600) for the kube-apiserver. Registers the
  cluster (default crn ...:kubernetes:<region>:a/<account>::cluster:<name>,
  name "kubernetes") on the key. API key: COFFER_API_KEY (a service identity's).`;

const OPTIONS = {
  socket: { type: 'string' as const },
  key: { type: 'string' as const },
  'kms-url': { type: 'string' as const },
  'cluster-name': { type: 'string' as const },
  'cluster-crn': { type: 'string' as const },
  'status-cache-seconds': { type: 'string' as const },
  help: { type: 'boolean' as const, short: 'h' },
};

export async function runK8sKmsPlugin(argv: string[], io: Io): Promise<number> {
  const p = parse(argv, OPTIONS, { usage: K8S_USAGE });
  if (flag(p, 'help')) {
    io.out(K8S_USAGE + '\n');
    return 0;
  }
  const socket = str(p, 'socket');
  const keyCrn = str(p, 'key');
  if (!socket || !keyCrn) throw new UsageError(`--socket and --key are required\nusage: ${K8S_USAGE}`);
  if (str(p, 'cluster-name') !== undefined && str(p, 'cluster-crn') !== undefined)
    throw new UsageError('give --cluster-name or --cluster-crn, not both');
  let cfg;
  try {
    const url = str(p, 'kms-url');
    cfg = loadClientConfig(io.env, url !== undefined ? { url } : {});
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message.replace('--url', '--kms-url'));
    throw e;
  }
  if (!cfg.apiKey) throw new UsageError('an API key is needed: set COFFER_API_KEY');
  const cacheS = int(p, 'status-cache-seconds', 3600);
  const level = (io.env.COFFER_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const log = createLogger(['debug', 'info', 'warn', 'error', 'silent'].includes(level) ? level : 'info', {
    component: 'k8s-kms-plugin',
  });
  // Imported here so other commands do not load gRPC.
  const { startPlugin } = await import('../k8s/startPlugin.js');
  const clusterName = str(p, 'cluster-name');
  const clusterCrn = str(p, 'cluster-crn');
  let running;
  try {
    running = await startPlugin({
      socket,
      keyCrn,
      kmsUrl: cfg.url,
      apiKey: cfg.apiKey,
      log,
      ...(clusterName !== undefined ? { clusterName } : {}),
      ...(clusterCrn !== undefined ? { clusterCrn } : {}),
      ...(cacheS !== undefined ? { statusCacheMs: cacheS * 1000 } : {}),
    });
  } catch (e) {
    const { CrnFormatError } = await import('../k8s/pluginCrn.js');
    if (e instanceof CrnFormatError) throw new UsageError(e.message);
    io.err(`coffer: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  io.out(`k8s-kms-plugin listening on ${running.server.address} (key ${keyCrn}, cluster ${running.clusterCrn})\n`);
  onSignals(log, () => running.close());
  return 0;
}
