/**
 * A split-mode gateway cut off from the KMS's push channel, with real
 * processes (`coffer kms`, `coffer server --kms-url`):
 *
 * - partitioned (a TCP relay between gateway and KMS drops every connection)
 *   while the KMS keeps running: a key disabled and another rotated meanwhile
 *   reach the gateway once the relay is mended, by replay from the last
 *   sequence it saw (Last-Event-ID). Its DEK cache TTL is 60 s, so a refusal
 *   soon after can only be the replayed event; the rotation shows as the
 *   gateway's eager rewrap (its registration at the KMS moves to the new
 *   version) with no S3 request to that bucket at all.
 * - the KMS stopped: a gateway with a 2 s TTL serves from its cache at most
 *   that long, then fails closed with 503 ServiceUnavailable (never data, never
 *   "no such key"); the KMS started again on the same port and data dir, the
 *   gateway reconnects and serves again.
 * - the KMS replaced by one whose feed is behind what the gateway saw: the
 *   stream answers `reset` and the gateway drops every cached DEK.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName } from '../../helpers/s3Test.js';
import { createKpBucket, Kp, ROOT_APIKEY, s3Client, timeUntil } from './lifecycleKit.js';
import {
  assertBuilt,
  banner,
  getOutcome,
  Relay,
  startGatewayProc,
  startKmsProc,
  stopProc,
  type Proc,
} from './processKit.js';

const LONG_TTL_S = 60;
const SHORT_TTL_S = 2;

describe('a gateway cut off from the key event stream', () => {
  let dir: string;
  let kms: Proc | undefined;
  let kmsUrl: string;
  let relay: Relay;
  let partitioned: Proc | undefined;
  let shortTtl: Proc | undefined;
  let s3Partitioned: S3Client;
  let s3Short: S3Client;
  let kp: Kp;

  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'coffer-events-outage-'));
    const k = await startKmsProc(join(dir, 'kms'));
    kms = k.proc;
    kmsUrl = k.url;
    kp = new Kp(kmsUrl, ROOT_APIKEY, await banner(kms, /Root KMS instance:\s+(\S+)/, 'coffer kms'));
    relay = new Relay(new URL(kmsUrl));
    const [p, s] = await Promise.all([
      startGatewayProc(join(dir, 'gateway-partitioned'), await relay.start(), LONG_TTL_S),
      startGatewayProc(join(dir, 'gateway-short-ttl'), kmsUrl, SHORT_TTL_S),
    ]);
    partitioned = p.proc;
    shortTtl = s.proc;
    s3Partitioned = s3Client(p.s3Url);
    s3Short = s3Client(s.s3Url);
  }, 120_000);

  afterAll(async () => {
    s3Partitioned?.destroy();
    s3Short?.destroy();
    expect(await stopProc(partitioned)).toBe(0);
    expect(await stopProc(shortTtl)).toBe(0);
    await stopProc(kms);
    await relay?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function bucketUnder(s3: S3Client, keyName: string): Promise<{ id: string; crn: string; bucket: string }> {
    const key = await kp.createRootKey(keyName);
    const bucket = bucketName(keyName);
    await createKpBucket(s3, bucket, key.crn);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: `${keyName} data` }));
    return { ...key, bucket };
  }

  it('partitioned while a key is disabled and another rotated: after reconnecting, the replayed events refuse the GET and rewrap the bucket', async () => {
    const createdAt = performance.now();
    const disabled = await bucketUnder(s3Partitioned, 'outage-disable');
    const rotated = await bucketUnder(s3Partitioned, 'outage-rotate');
    expect(await getOutcome(s3Partitioned, disabled.bucket)).toBe('200');
    expect(await getOutcome(s3Partitioned, rotated.bucket)).toBe('200');
    const v1 = await kp.keyVersion(rotated.id);
    expect((await kp.registrations(rotated.id)).map((r) => r.keyVersion.id)).toEqual([v1]);

    relay.cut();
    expect((await kp.req('POST', `/keys/${disabled.id}/actions/disable`)).status).toBe(204);
    expect((await kp.req('POST', `/keys/${rotated.id}/actions/rotate`)).status).toBe(204);
    const v2 = await kp.keyVersion(rotated.id);
    expect(v2).not.toBe(v1);
    // The gateway heard nothing: its cached DEK still serves (it is within its TTL and the stream is not yet stale).
    expect(await getOutcome(s3Partitioned, disabled.bucket)).toBe('200');

    relay.mend();
    const mendedAt = performance.now();
    const refused = await timeUntil(
      () => getOutcome(s3Partitioned, disabled.bucket),
      (o) => o !== '200',
      LONG_TTL_S * 1000,
      50,
    );
    console.info(
      `[measure] partition mended -> replayed disable refuses GET after ${refused.ms.toFixed(0)} ms (DEK cache TTL ${LONG_TTL_S} s)`,
    );
    expect(refused.result).toBe('403 KMS.DisabledException');
    expect(performance.now() - createdAt).toBeLessThan(LONG_TTL_S * 1000);
    // The replayed rotation: the gateway rewraps its bucket's DEK and updates its registration on its own.
    const rewrapped = await timeUntil(
      async () => (await kp.registrations(rotated.id)).map((r) => r.keyVersion.id),
      (vs) => vs[0] === v2,
      30_000,
      100,
    );
    console.info(
      `[measure] partition mended -> replayed rotate rewrapped the bucket after ${(performance.now() - mendedAt).toFixed(0)} ms`,
    );
    expect(rewrapped.result).toEqual([v2]);
    expect(await getOutcome(s3Partitioned, rotated.bucket)).toBe('200');
  });

  it(`the KMS stopped: cached DEKs serve at most the TTL (${SHORT_TTL_S} s), then 503 ServiceUnavailable; the KMS back on its port -> served again`, async () => {
    const { bucket } = await bucketUnder(s3Short, 'outage-stop');
    expect(await getOutcome(s3Short, bucket)).toBe('200');
    const port = new URL(kmsUrl).port;
    expect(await stopProc(kms)).toBe(0);
    const seen = new Set<string>();
    const down = await timeUntil(
      async () => {
        const o = await getOutcome(s3Short, bucket);
        seen.add(o);
        return o;
      },
      (o) => o !== '200',
      SHORT_TTL_S * 1000 + 5000,
      50,
    );
    console.info(
      `[measure] KMS stopped -> gateway fails closed after ${down.ms.toFixed(0)} ms (DEK cache TTL ${SHORT_TTL_S} s)`,
    );
    expect(down.result).toBe('503 ServiceUnavailable');
    expect([...seen].filter((o) => o !== '200' && o !== '503 ServiceUnavailable')).toEqual([]);
    // Still closed a while later: nothing but the KMS coming back opens it.
    await new Promise((r) => setTimeout(r, 500));
    expect(await getOutcome(s3Short, bucket)).toBe('503 ServiceUnavailable');

    const back = await startKmsProc(join(dir, 'kms'), Number(port));
    kms = back.proc;
    expect(back.url).toBe(kmsUrl);
    const served = await timeUntil(
      () => getOutcome(s3Short, bucket),
      (o) => o === '200',
      20_000,
      100,
    );
    console.info(`[measure] KMS restarted -> gateway serves again after ${served.ms.toFixed(0)} ms`);
  });

  it('the KMS replaced by one whose feed is behind the gateway (another store, e.g. an older backup): reset, every cached DEK dropped', async () => {
    const createdAt = performance.now();
    const { bucket } = await bucketUnder(s3Partitioned, 'outage-reset');
    expect(await getOutcome(s3Partitioned, bucket)).toBe('200');
    const port = new URL(kmsUrl).port;
    expect(await stopProc(kms)).toBe(0);
    const other = await startKmsProc(join(dir, 'kms-other'), Number(port));
    kms = other.proc;
    // The other store has never heard of the key: only a dropped cache makes the KMS answer for it.
    const refused = await timeUntil(
      () => getOutcome(s3Partitioned, bucket),
      (o) => o !== '200' && o !== '503 ServiceUnavailable',
      (LONG_TTL_S - 15) * 1000,
      100,
    );
    console.info(`[measure] KMS replaced -> reset drops the cached DEK after ${refused.ms.toFixed(0)} ms`);
    expect(refused.result).toMatch(/^403 /);
    expect(performance.now() - createdAt).toBeLessThan(LONG_TTL_S * 1000);
  });
});
