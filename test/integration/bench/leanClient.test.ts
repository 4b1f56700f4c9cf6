/**
 * The bench's lean client against a real Coffer server: a PUT, a GET (whole and
 * ranged, hashed), an error, and a paged LIST. Correctness only, not timed.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MiB, PatternContent, sha256Hex } from '../../../scripts/bench/content.js';
import { LeanS3Client, S3Error } from '../../../scripts/bench/leanClient.js';
import { endpointOf } from '../../helpers/rawS3.js';
import { useGateway } from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
useGateway((t) => ({ gw } = t));

describe('LeanS3Client', () => {
  it('PUTs, GETs (whole and ranged) and LISTs page by page', async () => {
    const client = new LeanS3Client(endpointOf(gw));
    try {
      await client.createBucket('lean');
      const content = new PatternContent(randomBytes(MiB), 3, 3 * MiB + 5);
      const etag = await client.putObject('lean', 'dir/big object', content.stream());
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

      const whole = await client.getObject('lean', 'dir/big object');
      expect(whole).toEqual({ status: 200, bytes: content.length, sha256: content.sha256() });
      const part = await client.getObject('lean', 'dir/big object', { start: MiB - 3, end: 2 * MiB + 2 });
      expect(part).toEqual({ status: 206, bytes: MiB + 6, sha256: sha256Hex(content.slice(MiB - 3, 2 * MiB + 2)) });

      const small = randomBytes(4096);
      const keys = Array.from({ length: 25 }, (_, i) => `list/k-${String(i).padStart(3, '0')}`);
      for (const k of keys) await client.putObject('lean', k, small);
      expect((await client.getObject('lean', keys[7])).sha256).toBe(sha256Hex(small));

      const listed = await client.listAll('lean', { prefix: 'list/', maxKeys: 10 });
      expect(listed).toEqual({ keys, pages: 3 });

      const missing = client.getObject('lean', 'no such key');
      await expect(missing).rejects.toBeInstanceOf(S3Error);
      await expect(missing).rejects.toMatchObject({ status: 404 });
    } finally {
      client.close();
    }
  });

  it('refuses any host but loopback', () => {
    const ep = { ...endpointOf(gw), host: '10.0.0.1' as '127.0.0.1' };
    expect(() => new LeanS3Client(ep)).toThrow(/refusing/);
  });
});
