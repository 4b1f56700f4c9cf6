/**
 * Lifecycle across a restart: the rules live in the bucket record, and the
 * worker starts with the server. The first server runs no worker, so what
 * expires was expired by the restarted one. Polled with a bounded wait.
 */
import {
  GetBucketLifecycleConfigurationCommand,
  HeadObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createBucket } from '../../helpers/s3Test.js';
import { startTestGateway } from '../../helpers/startGateway.js';

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('across a restart', () => {
  it('the rules are kept in the bucket record, and the restarted server runs the worker on them', async () => {
    const first = await startTestGateway({ config: { lifecycleDaySeconds: 1, lifecycleScanSeconds: 0 } });
    const dataDir = first.dataDir;
    let second: Awaited<ReturnType<typeof startTestGateway>> | undefined;
    try {
      const c1 = first.client();
      const b = await createBucket(c1, 'lcrestart');
      await c1.send(new PutObjectCommand({ Bucket: b, Key: 'old', Body: 'x' }));
      await c1.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: b,
          LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }] },
        }),
      );
      // The rule names it, but nobody applies rules on this server.
      const head = await c1.send(new HeadObjectCommand({ Bucket: b, Key: 'old' }));
      expect(head.Expiration).toMatch(/rule-id="r"/);
      await first.close({ keepData: true });
      second = await startTestGateway({ dataDir, config: { lifecycleDaySeconds: 1, lifecycleScanSeconds: 1 } });
      const c2 = second.client();
      const got = await c2.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
      expect(got.Rules?.map((r) => r.ID)).toEqual(['r']);
      await eventually('old expired by the restarted server', async () =>
        c2.send(new HeadObjectCommand({ Bucket: b, Key: 'old' })).then(
          () => false,
          (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 404,
        ),
      );
    } finally {
      await second?.close();
      await first.close().catch(() => undefined);
    }
  });
});
