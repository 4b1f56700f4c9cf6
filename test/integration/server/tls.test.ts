/**
 * TLS on both listeners (COFFER_TLS_CERT / COFFER_TLS_KEY) with a certificate
 * from `coffer tls init`'s code: the AWS SDK over HTTPS to S3 trusting the
 * local CA through its request handler's agent, the Key Protect API over HTTPS
 * (token, keys) through Coffer's own client and through IBM's Key Protect SDK
 * (its agent trusting the CA), refusals for a client that does not trust the CA and for plain
 * HTTP; then split mode with mutual TLS (COFFER_TLS_CLIENT_CA on the KMS): a
 * gateway presenting the client certificate works end to end, one without it
 * is refused in the handshake. Everything on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { ServiceClient } from '../../../src/keys/serviceClient.js';
import { startKmsServer, type KmsServer } from '../../../src/server/kmsServer.js';
import { startRemoteGateway, type RemoteGateway } from '../../../src/server/remoteGateway.js';
import { createLogger } from '../../../src/util/logger.js';
import { tlsFetch } from '../../../src/util/tlsFetch.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { makeTlsFiles, type TlsFiles } from '../../helpers/tlsFiles.js';
import { keyProtectClient } from '../kms/kpSdk.js';

const ROOT_USER = 'TLSROOTACCESSKEY';
const ROOT_SECRET = 'tls-root-secret-key-0123456789';
const ROOT_APIKEY = 'tls-root-apikey-0123456789abcdef';
const GATEWAY_APIKEY = 'tls-gateway-apikey-0123456789abcdef';

let tls: TlsFiles;
beforeAll(async () => {
  tls = await makeTlsFiles();
});
afterAll(async () => {
  await tls?.remove();
});

function sdk(
  endpoint: string,
  agent: ReturnType<TlsFiles['agent']>,
  creds = { accessKeyId: ROOT_USER, secretAccessKey: ROOT_SECRET },
) {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: creds,
    maxAttempts: 1,
    requestHandler: { httpsAgent: agent },
  });
}

async function roundTrip(s3: S3Client, bucket: string): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'over TLS' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
  return got.Body!.transformToString();
}

describe('TLS on both listeners (embedded mode)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ config: { tlsCert: tls.paths.cert, tlsKey: tls.paths.key } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('both listeners announce https URLs', () => {
    expect(gw.s3Url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.kmsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('the AWS SDK trusting the local CA creates a bucket, writes and reads an object', async () => {
    const s3 = sdk(gw.s3Url, tls.agent(), creds(gw));
    try {
      expect(await roundTrip(s3, 'tls-bucket')).toBe('over TLS');
      // The same host name the certificate names works too.
      const byName = sdk(gw.s3Url.replace('127.0.0.1', 'localhost'), tls.agent(), creds(gw));
      expect((await byName.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toContain('tls-bucket');
      byName.destroy();
    } finally {
      s3.destroy();
    }
  });

  it('a client that does not trust the CA is refused in the handshake', async () => {
    const s3 = sdk(gw.s3Url, tls.agent({ trustCa: false }), creds(gw));
    try {
      await expect(s3.send(new ListBucketsCommand({}))).rejects.toThrow(
        /unable to verify the first certificate|unable to get local issuer certificate|self[- ]signed certificate/,
      );
    } finally {
      s3.destroy();
    }
  });

  it('plain HTTP to either TLS port gets no HTTP answer', async () => {
    for (const url of [gw.s3Url, gw.kmsUrl]) {
      const plain = url.replace('https:', 'http:');
      const outcome = await new Promise<string>((resolve) => {
        const req = httpRequest(`${plain}/health`, (res) => resolve(`status ${res.statusCode}`));
        req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
        req.end();
      });
      // The TLS server takes the request line for a broken handshake and closes the connection.
      expect(outcome, url).toMatch(/^error (ECONNRESET|socket hang up)/);
    }
  });

  it('the Key Protect API over TLS: token exchange, then listing keys, with the CA trusted', async () => {
    const client = new ServiceClient({
      url: gw.kmsUrl,
      apiKey: gw.rootApiKey,
      fetch: tlsFetch({ ca: tls.ca }),
      retries: 0,
    });
    const instance = await gw.gateway.kms.ensureTenant(gw.accountId);
    const res = await client.request('GET', '/api/v2/keys', { headers: { 'bluemix-instance': instance } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).metadata.collectionType).toBe('application/vnd.ibm.kms.key+json');
    // The IBM Key Protect SDK, its HTTP client and authenticator given an agent that trusts the CA.
    const kp = keyProtectClient(gw.kmsUrl, gw.rootApiKey, { httpsAgent: tls.agent() });
    const created = await kp.createKey!({
      bluemixInstance: instance,
      body: {
        metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
        resources: [{ type: 'application/vnd.ibm.kms.key+json', name: 'sdk-over-tls', extractable: false }],
      },
    });
    expect(created.status).toBe(201);
    const plainSdk = keyProtectClient(gw.kmsUrl, gw.rootApiKey);
    await expect(plainSdk.getKeys!({ bluemixInstance: instance })).rejects.toThrow(/certificate/);
    const untrusting = new ServiceClient({ url: gw.kmsUrl, apiKey: gw.rootApiKey, retries: 0 });
    await expect(untrusting.token()).rejects.toThrow(/unavailable/);
  });
});

const creds = (gw: TestGateway) => ({ accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey });

describe('mutual TLS between a split-mode gateway and the KMS', () => {
  let dir: string;
  let kms: KmsServer;
  let gw: RemoteGateway | undefined;
  const base = {
    host: '127.0.0.1',
    s3Port: 0,
    kmsPort: 0,
    logLevel: 'silent' as const,
    gatewayApiKey: GATEWAY_APIKEY,
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-mtls-'));
    kms = await startKmsServer(
      loadConfig(
        {},
        {
          ...base,
          dataDir: join(dir, 'kms'),
          rootUser: ROOT_USER,
          rootPassword: ROOT_SECRET,
          rootApiKey: ROOT_APIKEY,
          masterKey: Buffer.alloc(32, 9).toString('base64'),
          tlsCert: tls.paths.cert,
          tlsKey: tls.paths.key,
          tlsClientCa: tls.paths.ca,
        },
      ),
      createLogger('silent'),
    );
  });
  afterAll(async () => {
    await gw?.close();
    await kms?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a gateway presenting the client certificate serves S3 with keys wrapped over mutual TLS', async () => {
    expect(kms.url).toMatch(/^https:/);
    gw = await startRemoteGateway(
      loadConfig(
        {},
        {
          ...base,
          dataDir: join(dir, 'gw'),
          kmsUrl: kms.url,
          tlsCa: tls.paths.ca,
          tlsClientCert: tls.paths.clientCert,
          tlsClientKey: tls.paths.clientKey,
        },
      ),
      createLogger('silent'),
    );
    const s3 = new S3Client({
      endpoint: gw.s3Url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ROOT_USER, secretAccessKey: ROOT_SECRET },
      maxAttempts: 1,
    });
    try {
      expect(await roundTrip(s3, 'mtls-bucket')).toBe('over TLS');
    } finally {
      s3.destroy();
    }
  });

  it('a gateway without the client certificate is refused (the handshake fails) and does not start', async () => {
    await expect(
      startRemoteGateway(
        loadConfig({}, { ...base, dataDir: join(dir, 'gw-nocert'), kmsUrl: kms.url, tlsCa: tls.paths.ca }),
        createLogger('silent'),
        { startupWaitMs: 300 },
      ),
    ).rejects.toThrow(/cannot reach the KMS/);
    // The same request with the certificate is answered: the refusal was the missing certificate.
    const withCert = tlsFetch({ ca: tls.ca, cert: tls.clientCert, key: tls.clientKey });
    const withoutCert = tlsFetch({ ca: tls.ca });
    expect((await withCert(`${kms.url}/api/v2/keys`)).status).toBe(401);
    await expect(withoutCert(`${kms.url}/api/v2/keys`)).rejects.toThrow(/fetch failed/);
  });

  it('a KMS listening beyond loopback without TLS is refused before anything opens', async () => {
    const cfg = loadConfig({}, { ...base, host: '0.0.0.0', dataDir: join(dir, 'plain') });
    const e = await startKmsServer(cfg, createLogger('silent')).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).setting).toBe('COFFER_HOST');
    expect((e as Error).message).toMatch(/without TLS/);
  });
});
