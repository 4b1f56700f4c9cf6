/**
 * A real S3 backend for the S3 data-tier tests: s3rver, in process, on an
 * ephemeral loopback port, storing into a temp dir that tests may inspect (it
 * is the "backend's drive": everything Coffer sends it lands there as files).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3BlobStoreOptions } from '../../src/storage/s3BlobStore.js';

export interface TestS3Backend {
  endpoint: string;
  /** Where s3rver keeps the bytes. */
  directory: string;
  /** Options for an S3BlobStore on `bucket` (created at start). */
  options(bucket?: string): S3BlobStoreOptions;
  stop(): Promise<void>;
}

export const BACKEND_ACCESS_KEY = 'S3RVER';
export const BACKEND_SECRET_KEY = 'S3RVER';

export async function startS3Backend(buckets: string[] = ['coffer-data']): Promise<TestS3Backend> {
  const directory = await mkdtemp(join(tmpdir(), 'coffer-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped = false;
  return {
    endpoint,
    directory,
    options: (bucket = buckets[0]!) => ({
      endpoint,
      bucket,
      accessKeyId: BACKEND_ACCESS_KEY,
      secretAccessKey: BACKEND_SECRET_KEY,
      region: 'us-east-1',
    }),
    /** Idempotent: a test may stop the backend early (to see the gateway without it) and afterAll again. */
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
