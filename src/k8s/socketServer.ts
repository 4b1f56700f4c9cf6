/**
 * The plugin's gRPC server on a Unix socket, as the kube-apiserver expects
 * (`endpoint: unix:///path`).
 *
 * - A socket file left by a plugin that died is removed first; a socket that
 *   still answers (another plugin running) or a path that is not a socket
 *   is refused, never deleted.
 * - The socket is created 0600 (umask while binding, then chmod): only its
 *   owner, the API server's user, may connect, since whoever connects can
 *   decrypt with the cluster's key.
 * - close() stops accepting, lets calls in flight finish for up to graceMs,
 *   then removes the socket file.
 */
import { connect } from 'node:net';
import { chmod, lstat, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { kmsServiceDefinition, type KeyManagementServiceHandlers } from './kmsApi.js';

export class SocketPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SocketPathError';
  }
}

export interface SocketServer {
  path: string;
  /** `unix://<path>`, for a gRPC client. */
  address: string;
  close(graceMs?: number): Promise<void>;
}

/** Does something accept connections on the socket? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function clearStale(path: string): Promise<void> {
  const dir = await stat(dirname(path)).catch(() => undefined);
  if (!dir?.isDirectory()) throw new SocketPathError(`the socket's directory ${dirname(path)} does not exist`);
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) throw new SocketPathError(`${path} exists and is not a socket: not removing it`);
  if (await answers(path)) throw new SocketPathError(`${path} is in use by a running server`);
  await rm(path, { force: true });
}

export async function serveOnSocket(path: string, handlers: KeyManagementServiceHandlers): Promise<SocketServer> {
  await clearStale(path);
  const server = new grpc.Server();
  server.addService(kmsServiceDefinition(), handlers);
  const address = `unix://${path}`;
  // umask is per process and refused in worker threads; the chmod below still applies there.
  let old: number | undefined;
  try {
    old = process.umask(0o177);
  } catch {
    old = undefined;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
  } finally {
    if (old !== undefined) process.umask(old);
  }
  await chmod(path, 0o600);
  let closed: Promise<void> | undefined;
  return {
    path,
    address,
    close(graceMs = 5_000) {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, graceMs);
          force.unref();
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await rm(path, { force: true });
      })();
      return closed;
    },
  };
}
