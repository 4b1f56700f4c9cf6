import { describe, expect, it } from 'vitest';
import type { MetaBatch, MetaStore } from '../../../../src/meta/MetaStore.js';
import { MetaStoreUnavailableError } from '../../../../src/meta/metaStoreErrors.js';
import { isUnavailable, reportingUnavailable } from '../../../../src/meta/pg/pgUnavailable.js';
import { toS3Error } from '../../../../src/s3/errors.js';

const err = (code: string | undefined, message = 'boom') => Object.assign(new Error(message), code ? { code } : {});

/** A store every method of which fails with `e`. */
function failing(e: Error): MetaStore {
  const reject = async () => Promise.reject(e);
  const iter = (): AsyncIterable<never> => ({ [Symbol.asyncIterator]: () => ({ next: reject }) });
  const batch = { commit: reject } as unknown as MetaBatch;
  return {
    getBucket: reject,
    listBuckets: reject,
    bucketHasContent: reject,
    getObject: reject,
    listObjects: iter,
    getVersion: reject,
    listVersions: iter,
    getUpload: reject,
    listUploads: iter,
    listParts: reject,
    getPart: reject,
    referencedDataIds: iter,
    batch: () => batch,
    close: async () => undefined,
  };
}

async function drain(it: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of it) void _;
}

describe('PgMetaStore failures that mean "database unavailable"', () => {
  it.each([
    ['connection refused', err('ECONNREFUSED')],
    ['connection class 08', err('08006')],
    ['server shutting down', err('57P01')],
    ['too many connections', err('53300')],
    ['contention past the retries', err('40001')],
    ['dropped connection', err(undefined, 'Connection terminated unexpectedly')],
    ['pool wait timeout', err(undefined, 'timeout exceeded when trying to connect')],
  ])('%s is reported as MetaStoreUnavailableError from every method, and S3 answers 503', async (_what, e) => {
    expect(isUnavailable(e)).toBe(true);
    const s = reportingUnavailable(failing(e));
    const uid = '0'.repeat(32);
    const calls: Array<Promise<unknown>> = [
      s.getBucket('b'),
      s.listBuckets(),
      s.bucketHasContent(uid),
      s.getObject(uid, 'k'),
      drain(s.listObjects({ bucketUid: uid, limit: 1 })),
      s.getUpload(uid, 'k', 'u'),
      drain(s.listUploads({ bucketUid: uid, limit: 1 })),
      s.listParts('u'),
      s.getPart('u', 1),
      drain(s.referencedDataIds()),
      s.batch().commit(),
    ];
    for (const c of calls) {
      const got = await c.then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(got).toBeInstanceOf(MetaStoreUnavailableError);
      expect((got as Error).cause).toBe(e);
      expect([toS3Error(got).code, toS3Error(got).status]).toEqual(['ServiceUnavailable', 503]);
    }
  });

  it('other errors pass through unchanged (a bug or a constraint stays a 500)', async () => {
    for (const e of [err('23505'), err('42P01'), new TypeError('bucketUid must be 32 lowercase hex digits')]) {
      expect(isUnavailable(e)).toBe(false);
      await expect(reportingUnavailable(failing(e)).getObject('x', 'k')).rejects.toBe(e);
      expect(toS3Error(e).code).toBe('InternalError');
    }
  });
});
