import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from './BlobStore.js';
import { assertBlobId } from './fsBlobStore.js';

/** Default chunk size of `get`: Node's file read-stream default, as FsBlobStore without options. */
const DEFAULT_READ_CHUNK = 64 * 1024;

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/**
 * BlobStore in memory, for fast unit tests of the services. Same contract as
 * FsBlobStore (test/contract/blobStore.contract.ts runs against both): ids are
 * checked the same way, blobs are immutable, a failed or aborted put leaves
 * nothing, ranges are inclusive. A blob is held whole in memory, which is the
 * point of this store and why it is not for production.
 *
 * Every buffer handed out is a copy: the GET path decrypts segments in place, and
 * it must not be able to change what is stored.
 */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();
  private readonly readChunk: number;
  private closed = false;

  /** `readChunkBytes` as in FsBlobStoreOptions: the chunking the reader of `get` sees. */
  constructor(opts: { readChunkBytes?: number } = {}) {
    this.readChunk = opts.readChunkBytes ?? DEFAULT_READ_CHUNK;
    if (!Number.isSafeInteger(this.readChunk) || this.readChunk < 1)
      throw new RangeError(`invalid readChunkBytes ${this.readChunk}`);
  }

  /** Number of blobs held (tests use it to check that nothing leaked). */
  get size(): number {
    return this.blobs.size;
  }

  private check(id: string): void {
    assertBlobId(id);
    if (this.closed) throw new Error('MemoryBlobStore is closed');
  }

  private existing(id: string): Buffer {
    const blob = this.blobs.get(id);
    if (blob === undefined) throw errnoError('ENOENT', `ENOENT: no such blob ${id}`);
    return blob;
  }

  async put(id: string, body: Readable, signal?: AbortSignal): Promise<{ size: number }> {
    this.check(id);
    signal?.throwIfAborted();
    const exists = () => errnoError('EEXIST', `blob ${id} already exists`);
    if (this.blobs.has(id)) throw exists();
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        // Copied: a producer may reuse its buffer after the write callback.
        chunks.push(Buffer.from(chunk));
        done();
      },
    });
    // pipeline destroys the body and rejects on a body error or an abort, as in FsBlobStore.
    await pipeline(body, sink, signal ? { signal } : {});
    signal?.throwIfAborted();
    // A concurrent put of the same id may have finished first; the first one wins.
    if (this.blobs.has(id)) throw exists();
    const blob = Buffer.concat(chunks);
    this.blobs.set(id, blob);
    return { size: blob.length };
  }

  get(id: string, range?: { start: number; end: number }): Readable {
    this.check(id);
    let start = 0;
    let end = Infinity;
    if (range !== undefined) {
      ({ start, end } = range);
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
        throw new RangeError(`invalid blob range [${start}, ${end}]`);
      }
    }
    const blobs = this.blobs;
    const chunk = this.readChunk;
    // A generator so a missing blob errors the stream (as a missing file does), not the call.
    return Readable.from(
      (function* () {
        const blob = blobs.get(id);
        if (blob === undefined) throw errnoError('ENOENT', `ENOENT: no such blob ${id}`);
        const stop = Math.min(end + 1, blob.length);
        for (let at = start; at < stop; at += chunk) {
          yield Buffer.from(blob.subarray(at, Math.min(at + chunk, stop)));
        }
      })(),
      { objectMode: false },
    );
  }

  async read(id: string, offset: number, length: number): Promise<Buffer> {
    this.check(id);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid read offset ${offset} length ${length}`);
    }
    return Buffer.from(this.existing(id).subarray(offset, offset + length));
  }

  async stat(id: string): Promise<{ size: number } | undefined> {
    this.check(id);
    const blob = this.blobs.get(id);
    return blob === undefined ? undefined : { size: blob.length };
  }

  async delete(id: string): Promise<void> {
    this.check(id);
    this.blobs.delete(id);
  }

  async *list(): AsyncIterable<string> {
    // A copy of the ids, so a delete during the iteration is harmless.
    for (const id of [...this.blobs.keys()]) yield id;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
