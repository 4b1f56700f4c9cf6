/**
 * Composition of the KMS v2 plugin: the root key's CRN, a Key Protect client
 * with the API key, the cluster's registration on the key, and the gRPC
 * server on the Unix socket. Used by `coffer k8s-kms-plugin` and by tests.
 *
 * The registration comes before the socket: credentials the KMS refuses
 * fail the start, with a message, rather than a plugin that serves errors.
 */
import type { Logger } from '../util/logger.js';
import { KeyProtectClient } from './keyProtectClient.js';
import { KmsPlugin } from './kmsPlugin.js';
import { checkResourceCrn, defaultClusterCrn, parseKeyCrn } from './pluginCrn.js';
import { serveOnSocket, type SocketServer } from './socketServer.js';

export const DEFAULT_CLUSTER_NAME = 'kubernetes';

export interface PluginOptions {
  socket: string;
  keyCrn: string;
  kmsUrl: string;
  apiKey: string;
  clusterCrn?: string;
  clusterName?: string;
  log: Logger;
  statusCacheMs?: number;
  timeoutMs?: number;
}

export interface RunningPlugin {
  plugin: KmsPlugin;
  server: SocketServer;
  clusterCrn: string;
  close(): Promise<void>;
}

export async function startPlugin(o: PluginOptions): Promise<RunningPlugin> {
  const key = parseKeyCrn(o.keyCrn);
  const clusterCrn =
    o.clusterCrn !== undefined
      ? checkResourceCrn(o.clusterCrn)
      : defaultClusterCrn(key, o.clusterName ?? DEFAULT_CLUSTER_NAME);
  const client = new KeyProtectClient({
    url: o.kmsUrl,
    apiKey: o.apiKey,
    instanceId: key.instanceId,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  });
  const plugin = new KmsPlugin({
    client,
    key,
    clusterCrn,
    log: o.log,
    ...(o.statusCacheMs !== undefined ? { statusCacheMs: o.statusCacheMs } : {}),
  });
  await plugin.register();
  const server = await serveOnSocket(o.socket, plugin.handlers());
  o.log.info('KMS v2 plugin listening', { socket: server.address, key: key.crn, cluster: clusterCrn });
  return { plugin, server, clusterCrn, close: () => server.close() };
}
