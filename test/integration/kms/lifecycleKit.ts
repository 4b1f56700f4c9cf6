/**
 * Shared by the lifecycle suites (embedded and split mode): a real gateway
 * whose KMS runs on a manual clock (startGateway's kmsNow seam, so Key
 * Protect's 30 s / 4 h / 30 d rules can be crossed), S3 clients of both SDKs,
 * Key Protect calls over HTTP, and probes that report what S3 answers for a
 * bucket's data (GET, PUT, HEAD, List) and how long a change takes to show.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import IBM from 'ibm-cos-sdk';
import { loadConfig, type Config } from '../../../src/config.js';
import { startGateway, type Gateway } from '../../../src/server/gateway.js';
import { createLogger } from '../../../src/util/logger.js';
import { withHeaders } from '../../helpers/s3Test.js';
import { call, keyBody, tokenFor, type CallResult } from './kmsHttp.js';

export const ROOT_USER = 'LIFECYCLEROOTKEY';
export const ROOT_SECRET = 'lifecycle-root-secret-0123456789';
export const ROOT_APIKEY = 'lifecycle-root-apikey-0123456789';
export const GATEWAY_APIKEY = 'lifecycle-gateway-apikey-0123456789';

export function s3Client(
  endpoint: string,
  region = 'us-east-1',
  creds = { accessKeyId: ROOT_USER, secretAccessKey: ROOT_SECRET },
): S3Client {
  return new S3Client({ endpoint, region, forcePathStyle: true, credentials: creds, maxAttempts: 1 });
}

export function cosClient(endpoint: string, creds = { accessKeyId: ROOT_USER, secretAccessKey: ROOT_SECRET }): IBM.S3 {
  return new IBM.S3({
    endpoint,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    s3ForcePathStyle: true,
    maxRetries: 0,
  });
}

/** A Key Protect client over plain HTTP for one instance (root owner's token). */
export class Kp {
  private token?: string;
  constructor(
    readonly url: string,
    readonly apikey: string,
    readonly instanceId: string,
  ) {}

  async req<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<CallResult<T>> {
    this.token ??= await tokenFor(this.url, this.apikey);
    return call<T>(this.url, this.token, method, `/api/v2${path}`, {
      headers: { 'bluemix-instance': this.instanceId, ...headers },
      ...(body !== undefined ? { body } : {}),
    });
  }

  async createRootKey(name: string): Promise<{ id: string; crn: string }> {
    const r = await this.req<{ resources: Array<{ id: string; crn: string }> }>(
      'POST',
      '/keys',
      keyBody({ name, extractable: false }),
      { prefer: 'return=representation' },
    );
    if (r.status !== 201) throw new Error(`create key: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json.resources[0]!;
  }

  async registrations(keyId: string): Promise<Array<{ resourceCrn: string; keyVersion: { id: string } }>> {
    const r = await this.req<{ resources: Array<{ resourceCrn: string; keyVersion: { id: string } }> }>(
      'GET',
      `/keys/${keyId}/registrations`,
    );
    if (r.status !== 200) throw new Error(`registrations: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json.resources;
  }

  async keyVersion(keyId: string): Promise<string> {
    const r = await this.req<{ resources: Array<{ keyVersion: { id: string } }> }>('GET', `/keys/${keyId}/metadata`);
    return r.json.resources[0]!.keyVersion.id;
  }
}

export async function createKpBucket(s3: S3Client, bucket: string, crn: string): Promise<void> {
  await s3.send(
    withHeaders(new CreateBucketCommand({ Bucket: bucket }), {
      'ibm-sse-kp-encryption-algorithm': 'AES256',
      'ibm-sse-kp-customer-root-key-crn': crn,
    }),
  );
}

export interface Access {
  get: string;
  put: string;
  head: string;
  list: string;
}

/** "200" or "<status> <code>" of one call. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return '200';
  } catch (e) {
    if (e instanceof S3ServiceException) return `${e.$metadata.httpStatusCode} ${e.name}`;
    throw e;
  }
}

/** What S3 answers now for the bucket's data: GET (whole body read), PUT, HEAD and ListObjectsV2. */
export async function access(s3: S3Client, bucket: string, key = 'o'): Promise<Access> {
  const [get, put, head, list] = await Promise.all([
    outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then((o) => o.Body?.transformToByteArray())),
    outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}-probe`, Body: 'probe' }))),
    outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))),
    outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket }))),
  ]);
  // HEAD has no body: the SDK names the error after the status only.
  return { get, put, head: head.split(' ')[0]!, list };
}

/** Polls `probe` every `everyMs` until `done(result)`; returns the elapsed ms and the result. Throws after `timeoutMs`. */
export async function timeUntil<T>(
  probe: () => Promise<T>,
  done: (r: T) => boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<{ ms: number; result: T }> {
  const t0 = performance.now();
  for (;;) {
    const result = await probe();
    const ms = performance.now() - t0;
    if (done(result)) return { ms, result };
    if (ms > timeoutMs) throw new Error(`not reached within ${timeoutMs} ms; last: ${JSON.stringify(result)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ClockedGateway {
  gw: Gateway;
  s3: S3Client;
  cos: IBM.S3;
  kp: Kp;
  dataDir: string;
  advance(ms: number): void;
  close(): Promise<void>;
}

/** An embedded gateway (the production composition root) whose KMS reads a manual clock. */
export async function startClockedGateway(overrides: Partial<Config> = {}): Promise<ClockedGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'coffer-lifecycle-'));
  let t = Date.now();
  const config = loadConfig(
    {},
    {
      host: '127.0.0.1',
      s3Port: 0,
      kmsPort: 0,
      dataDir,
      rootUser: ROOT_USER,
      rootPassword: ROOT_SECRET,
      rootApiKey: ROOT_APIKEY,
      gatewayApiKey: GATEWAY_APIKEY,
      masterKey: Buffer.alloc(32, 5).toString('base64'),
      logLevel: (process.env.COFFER_TEST_LOG as Config['logLevel']) ?? 'silent',
      ...overrides,
    },
  );
  const gw = await startGateway(config, createLogger(config.logLevel), { kmsNow: () => t });
  const instanceId = await gw.kms.ensureTenant(gw.root.accountId);
  const s3 = s3Client(gw.s3Url, config.region);
  return {
    gw,
    s3,
    cos: cosClient(gw.s3Url),
    kp: new Kp(gw.kmsUrl, ROOT_APIKEY, instanceId),
    dataDir,
    advance: (ms) => void (t += ms),
    async close() {
      s3.destroy();
      await gw.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const SEC = 1000;
export const HOUR = 3600 * SEC;
export const DAY = 24 * HOUR;
