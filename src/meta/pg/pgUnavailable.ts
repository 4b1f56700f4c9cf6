/**
 * Turns the failures of a PostgreSQL MetaStore that mean "the database is not
 * there right now" into MetaStoreUnavailableError, for every method, without
 * touching each call site: connection failures and resets, server shutdown or
 * start-up, too many connections, and contention that outlasted the retries.
 * Anything else (a bug, a constraint) passes through as it is and is a 500.
 */
import type { MetaBatch, MetaStore } from '../MetaStore.js';
import { MetaStoreUnavailableError } from '../metaStoreErrors.js';
import { hasGarbageQueue, type WithGarbageQueue } from '../garbageQueue.js';

const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, and the retried 40001/40P01. */
const SQL_STATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);
/** node-postgres reports a dropped connection and a pool wait timeout as plain Errors. */
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect)/;

export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (NET_CODES.has(code) || SQL_STATES.has(code) || code.startsWith('08')) return true;
  return typeof e?.message === 'string' && PG_MESSAGES.test(e.message);
}

function convert(op: string, err: unknown): unknown {
  if (!isUnavailable(err)) return err;
  const e = err as { code?: string; message?: string };
  return new MetaStoreUnavailableError(
    `metadata database unavailable during ${op}: ${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}`,
    { cause: err },
  );
}

async function* iterate<T>(op: string, source: () => AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* source();
  } catch (err) {
    throw convert(op, err);
  }
}

function wrapBatch(b: MetaBatch): MetaBatch {
  const commit = b.commit.bind(b);
  b.commit = () => commit().catch((err: unknown) => Promise.reject(convert('commit', err)));
  return b;
}

/** `store` with its database failures reported as MetaStoreUnavailableError. */
export function reportingUnavailable<S extends MetaStore>(store: S): MetaStore & Partial<WithGarbageQueue> {
  const call =
    <A extends unknown[], R>(op: string, f: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      f.apply(store, a).catch((err: unknown) => Promise.reject(convert(op, err)));
  return {
    getBucket: call('getBucket', store.getBucket),
    listBuckets: call('listBuckets', store.listBuckets),
    bucketHasContent: call('bucketHasContent', store.bucketHasContent),
    getObject: call('getObject', store.getObject),
    listObjects: (q) => iterate('listObjects', () => store.listObjects(q)),
    getVersion: call('getVersion', store.getVersion),
    listVersions: (q) => iterate('listVersions', () => store.listVersions(q)),
    getUpload: call('getUpload', store.getUpload),
    listUploads: (q) => iterate('listUploads', () => store.listUploads(q)),
    listParts: call('listParts', store.listParts),
    getPart: call('getPart', store.getPart),
    referencedDataIds: () => iterate('referencedDataIds', () => store.referencedDataIds()),
    batch: () => wrapBatch(store.batch()),
    close: () => store.close(),
    // The shared tier's queue: its callers (sharedGarbage.ts) log and retry whatever it throws.
    ...(hasGarbageQueue(store) ? { garbage: store.garbage } : {}),
  };
}
