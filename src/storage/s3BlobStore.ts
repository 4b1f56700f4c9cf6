/**
 * BlobStore on any S3-compatible cluster (COFFER_DATA_S3_*): the data tier of
 * stateless gateways. What it stores is exactly what FsBlobStore writes to a
 * drive, the encrypted streams; no object name, key or plaintext ever reaches
 * the backend, and blob ids are random, so the backend learns sizes only.
 *
 * - Blobs are immutable: a put refuses an id that exists (HEAD first), and ids
 *   are never reused, so no read can ever see two versions of one blob.
 * - Writes go through @aws-sdk/lib-storage (PutObject for small bodies,
 *   multipart above one part), with at most MAX_PUTS writes and their part
 *   buffers (queueSize x partSize) in flight per process: memory stays bounded
 *   under load, and further writers wait (back-pressure to their clients).
 * - Ranged reads are ranged backend GETs; a range starting past the end yields
 *   no bytes, as on a drive.
 * - Connections are kept alive (one pool, MAX_SOCKETS); the SDK retries
 *   throttling and 5xx answers with exponential backoff and jitter; what still
 *   fails becomes a BlobBackendError (SlowDown / ServiceUnavailable, S3 503) or,
 *   for a missing blob, an error with code ENOENT like the filesystem store.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BlobStore } from './BlobStore.js';
import { BlobBackendError } from './blobBackendError.js';
import { assertBlobId } from './fsBlobStore.js';

export interface S3BlobStoreOptions {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Writes in flight at once (default MAX_PUTS). */
  maxConcurrentPuts?: number;
  /** SDK attempts per request, the first included (default 4). */
  maxAttempts?: number;
  /** Bytes per chunk of a blob read stream (default: Node's, 64 KiB); the caller sizes it to the stream format. */
  readChunkBytes?: number;
}

const KEY_PREFIX = 'blobs/';
const BLOB_KEY_RE = /^blobs\/([0-9a-f]{32})$/;
const MAX_PUTS = 16;
const MAX_SOCKETS = 64;
/** 8 MiB parts: 10,000 parts then cover 80 GiB, well above S3's 5 GiB single PUT. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

const THROTTLING = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequests',
  'TooManyRequestsException',
]);
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

function enoent(id: string): Error {
  return Object.assign(new Error(`blob ${id} not found`), { code: 'ENOENT' });
}

function isMissing(err: unknown): boolean {
  const e = err as SdkError;
  return (
    e?.name === 'NoSuchKey' ||
    e?.name === 'NotFound' ||
    (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket')
  );
}

function isInvalidRange(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'InvalidRange' || e?.$metadata?.httpStatusCode === 416;
}

/** An SDK failure as the error the services and the S3 layer understand. */
export function classify(op: string, id: string, err: unknown): Error {
  if (isMissing(err)) return enoent(id);
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const what = `blob backend ${op} ${id}: ${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
  if (THROTTLING.has(e.name ?? '') || status === 429 || e.$retryable?.throttling === true)
    return new BlobBackendError('SlowDown', what, { cause: err });
  if ((status !== undefined && status >= 500) || UNAVAILABLE.has(e.code ?? '') || e.name === 'TimeoutError') {
    return new BlobBackendError('ServiceUnavailable', what, { cause: err });
  }
  return err instanceof Error ? err : new Error(what);
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error && r.name === 'AbortError'
    ? r
    : new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Where the bytes of a ranged answer start relative to what was asked, from its
 * Content-Range ("bytes 10-99/100"); a 200 without one is the whole blob.
 */
function rangeStart(contentRange: string | undefined): number {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(contentRange ?? '');
  return m ? Number(m[1]) : 0;
}

/**
 * Passes `take` bytes after skipping `skip`, then ends. Some backends serve more
 * than the asked range (a whole blob for bytes=0-0, or no range support at all);
 * the answer is then cut to what was asked instead of handed on as is.
 */
function slice(skip: number, take: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (take === 0) return done();
      if (skip >= chunk.length) {
        skip -= chunk.length;
        return done();
      }
      const part = chunk.subarray(skip, skip + take);
      skip = 0;
      take -= part.length;
      if (part.length) this.push(part);
      if (take === 0) this.push(null);
      done();
    },
  });
}

/** A counting semaphore: at most `n` holders at once, the rest wait in order. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export class S3BlobStore implements BlobStore {
  private readonly slots: Slots;

  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    maxPuts: number,
    private readonly readChunkBytes: number | undefined,
  ) {
    this.slots = new Slots(maxPuts);
  }

  /** Connect and check that the bucket is there (a wrong endpoint, bucket or key fails here, not on the first PUT). */
  static async open(o: S3BlobStoreOptions): Promise<S3BlobStore> {
    const client = new S3Client({
      endpoint: o.endpoint,
      region: o.region,
      forcePathStyle: true,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
      maxAttempts: o.maxAttempts ?? 4,
      retryMode: 'standard',
      // The AEAD tags already protect every byte; extra CRC trailers only narrow the backends that work.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
        connectionTimeout: 10_000,
        requestTimeout: 120_000,
      },
    });
    try {
      await client.send(new HeadBucketCommand({ Bucket: o.bucket }));
    } catch (e) {
      client.destroy();
      const status = (e as SdkError).$metadata?.httpStatusCode;
      throw new Error(
        `data bucket ${JSON.stringify(o.bucket)} at ${o.endpoint} is not usable: ${status ? `HTTP ${status}` : (e as Error).message}`,
      );
    }
    return new S3BlobStore(client, o.bucket, o.maxConcurrentPuts ?? MAX_PUTS, o.readChunkBytes);
  }

  private key(id: string): string {
    assertBlobId(id);
    return KEY_PREFIX + id;
  }

  async put(id: string, body: Readable, signal?: AbortSignal): Promise<{ size: number }> {
    const Key = this.key(id);
    signal?.throwIfAborted();
    if ((await this.stat(id)) !== undefined) {
      throw Object.assign(new Error(`blob ${id} already exists`), { code: 'EEXIST' });
    }
    const release = await this.slots.acquire();
    let size = 0;
    let bodyError: unknown;
    body.once('error', (e: unknown) => (bodyError ??= e));
    // Counted in the transform, not with a 'data' listener: that would set the stream flowing
    // and drop whatever passed before the upload started reading.
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    // pipeline destroys `counted` with the body's error (which fails the upload), and the body when the upload stops reading.
    const piped = pipeline(body, counted).catch(() => undefined);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: counted },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    const onAbort = () => {
      counted.destroy(abortError(signal!));
      void upload.abort().catch(() => undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
      await piped;
      if (bodyError !== undefined) throw bodyError;
      signal?.throwIfAborted();
      return { size };
    } catch (err) {
      counted.destroy();
      body.destroy();
      // A PutObject may have completed just before the failure was noticed: the caller is told it failed and will never name this id.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })).catch(() => undefined);
      if (signal?.aborted) throw abortError(signal);
      if (bodyError !== undefined) throw bodyError;
      throw classify('put', id, err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      release();
    }
  }

  get(id: string, range?: { start: number; end: number }): Readable {
    const Key = this.key(id);
    if (range !== undefined) {
      const { start, end } = range;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
        throw new RangeError(`invalid blob range [${start}, ${end}]`);
      }
    }
    const out = new PassThrough(this.readChunkBytes !== undefined ? { highWaterMark: this.readChunkBytes } : {});
    const ac = new AbortController();
    // A reader that stops early must not leave the backend request (and its socket) running.
    out.once('close', () => ac.abort());
    const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
    this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range }), { abortSignal: ac.signal }).then(
      (res) => {
        const bodyStream = res.Body as Readable;
        if (!range) return void pipeline(bodyStream, out).catch(() => undefined);
        const cut = slice(range.start - rangeStart(res.ContentRange), range.end - range.start + 1);
        // The cut ends the output early; the rest of an oversized answer is then dropped with its request.
        void pipeline(bodyStream, cut, out).catch(() => undefined);
      },
      (err: unknown) => {
        if (ac.signal.aborted) return;
        if (isInvalidRange(err)) out.end();
        else out.destroy(classify('get', id, err));
      },
    );
    return out;
  }

  async read(id: string, offset: number, length: number): Promise<Buffer> {
    const Key = this.key(id);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid read offset ${offset} length ${length}`);
    }
    if (length === 0) {
      if ((await this.stat(id)) === undefined) throw enoent(id);
      return Buffer.alloc(0);
    }
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${offset}-${offset + length - 1}` }),
      );
      const chunks: Buffer[] = [];
      const cut = slice(offset - rangeStart(res.ContentRange), length);
      void pipeline(res.Body as Readable, cut).catch(() => undefined);
      for await (const c of cut) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    } catch (err) {
      if (isInvalidRange(err)) return Buffer.alloc(0);
      throw classify('read', id, err);
    }
  }

  async stat(id: string): Promise<{ size: number } | undefined> {
    const Key = this.key(id);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw classify('stat', id, err);
    }
  }

  async delete(id: string): Promise<void> {
    const Key = this.key(id);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (!isMissing(err)) throw classify('delete', id, err);
    }
  }

  /** Every blob id under the store's prefix, page by page; other keys in the bucket are ignored. */
  async *list(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const res = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: KEY_PREFIX, ContinuationToken: token }))
        .catch((err: unknown) => {
          throw classify('list', '*', err);
        });
      for (const o of res.Contents ?? []) {
        const m = BLOB_KEY_RE.exec(o.Key ?? '');
        if (m) yield m[1]!;
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
