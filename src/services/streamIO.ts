/**
 * Encrypted stream I/O between plaintext and the BlobStore.
 *
 * write: body -> UploadHasher -> encryptor -> blob (temp, fsync, rename). The
 * blob id (dataId) is random and chosen before the first byte because it is bound
 * into the key derivation and the segment AAD.
 *
 * read: the blob's stored size checked against the size the record implies
 * (encryptedSize: catches bytes appended after the final segment, which a read
 * of the segments never reaches, and truncation before any byte is sent), the
 * header (64 B) against the record's digest and the key commitment, then only
 * the segments the range needs are read and decrypted.
 */
import { randomBytes } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createDecryptor,
  createEncryptor,
  CryptoIntegrityError,
  encryptedSize,
  HEADER_SIZE,
  segmentSpan,
  type StreamBinding,
} from '../crypto/index.js';
import type { BlobStore } from '../storage/BlobStore.js';
import { BlobBackendError } from '../storage/blobBackendError.js';
import { DiskFaultError } from '../util/diskFault.js';
import type { PartRef, StreamRef } from '../meta/records.js';
import { DomainError } from './errors.js';
import type { UploadHasher } from './uploadHasher.js';

/** Blobs up to this size (ciphertext) are read whole by a GET: memory per request stays a few segments. */
const SMALL_BLOB = 256 * 1024;

export function newId(): string {
  return randomBytes(16).toString('hex');
}

export interface WriteParams {
  blobs: BlobStore;
  dek: Buffer;
  bucketUid: string;
  uploadId?: string;
  partNumber?: number;
  segmentLog2: number;
  body: Readable;
  /** Computes MD5/checksums/size and checks them before the stream may end. */
  hasher: UploadHasher;
  signal?: AbortSignal;
}

/** Encrypt and store one stream. Resolves once the blob is durable. */
export async function writeEncryptedStream(p: WriteParams): Promise<StreamRef> {
  const dataId = newId();
  const binding: StreamBinding = { bucketUid: p.bucketUid, dataId, uploadId: p.uploadId, partNumber: p.partNumber };
  const enc = createEncryptor({ dek: p.dek, binding, segmentLog2: p.segmentLog2 });
  const piped = pipeline([p.body, p.hasher, enc.stream], { signal: p.signal });
  const stored = p.blobs.put(dataId, enc.stream, p.signal);
  try {
    await Promise.all([piped, stored]);
  } catch (err) {
    // Destroying the encryptor ends both sides; wait for both, so the put has
    // finished (and cleaned up) before the delete below, which then removes a blob
    // that put() published before the body failed: no record will name it.
    enc.stream.destroy();
    const [, put] = await Promise.allSettled([piped, stored]);
    await p.blobs.delete(dataId).catch(() => undefined);
    // A store that failed (disk full, drives lost) breaks the pipe too; its own
    // error says what happened, the broken pipe does not.
    if (put.status === 'rejected' && isStoreFault(put.reason)) throw put.reason;
    throw err;
  }
  return {
    dataId,
    salt: enc.salt.toString('hex'),
    headerDigest: enc.headerDigest.toString('hex'),
    size: p.hasher.size,
    segmentLog2: p.segmentLog2,
  };
}

/** A failure of the blob store itself (not of the request's body): the error to report for the write. */
function isStoreFault(err: unknown): boolean {
  return (
    err instanceof DiskFaultError ||
    err instanceof BlobBackendError ||
    (err as { code?: unknown } | null)?.code === 'EINSUFFICIENTSHARDS'
  );
}

export interface StreamPiece {
  ref: StreamRef;
  uploadId?: string;
  partNumber?: number;
  /** Inclusive plaintext range within this stream. */
  start: number;
  end: number;
}

/** Decrypt [start, end] of one stream. Verifies stored size, header digest and commitment before any data. */
export async function openDecryptedRange(
  blobs: BlobStore,
  dek: Buffer,
  bucketUid: string,
  piece: StreamPiece,
): Promise<Readable> {
  const { ref } = piece;
  const missing = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EINSUFFICIENTSHARDS') throw e; // drives missing, not data damaged: 503, not 500
    // A busy or unreachable data tier, or a failing drive, is not missing data: let the S3 layer answer 503.
    if (e instanceof BlobBackendError || e instanceof DiskFaultError) throw e;
    throw new DomainError('IntegrityError', `stored data is missing (${e.code ?? e.message})`, { dataId: ref.dataId });
  };
  let span: ReturnType<typeof segmentSpan>;
  let expected: number;
  try {
    span = segmentSpan(ref.size, ref.segmentLog2, piece.start, piece.end);
    expected = encryptedSize(ref.size, ref.segmentLog2);
  } catch {
    // The record's size or segment size is out of range: an edited record (format-1
    // records carry no seal over these fields).
    throw new DomainError('IntegrityError', 'stream reference is malformed', { dataId: ref.dataId });
  }
  // A small blob is read whole in one go (one open instead of two and a stat),
  // then checked exactly as below: its length is the stored size.
  const whole =
    expected <= SMALL_BLOB && blobs.readSmall
      ? await blobs.readSmall(ref.dataId, SMALL_BLOB).catch(missing)
      : undefined;
  const [stored, header] = whole
    ? [{ size: whole.length }, whole.subarray(0, HEADER_SIZE)]
    : await Promise.all([blobs.stat(ref.dataId).catch(missing), blobs.read(ref.dataId, 0, HEADER_SIZE).catch(missing)]);
  if (stored === undefined) throw new DomainError('IntegrityError', 'stored data is missing', { dataId: ref.dataId });
  if (stored.size !== expected) {
    throw new DomainError(
      'IntegrityError',
      `stored blob is ${stored.size} bytes, the record implies ${expected} (${stored.size > expected ? 'extended' : 'truncated'})`,
      { dataId: ref.dataId },
    );
  }
  let dec: Transform;
  try {
    dec = createDecryptor({
      dek,
      binding: { bucketUid, dataId: ref.dataId, uploadId: piece.uploadId, partNumber: piece.partNumber },
      header,
      expectedHeaderDigest: Buffer.from(ref.headerDigest, 'hex'),
      plainSize: ref.size,
      span,
    });
  } catch (e) {
    if (e instanceof CryptoIntegrityError) throw new DomainError('IntegrityError', e.message, { dataId: ref.dataId });
    throw e;
  }
  // A small blob's bytes are already here (bounded by SMALL_BLOB); they reach
  // the decryptor the way a file's would, through a pipe, once it flows.
  const src = whole
    ? Readable.from([whole.subarray(span.cipherStart, span.cipherEnd + 1)], { objectMode: false })
    : blobs.get(ref.dataId, { start: span.cipherStart, end: span.cipherEnd });
  src.on('error', (e) => dec.destroy(e));
  // pipe() does not pass a destroy upstream: a reader that stops early must not leave the blob open.
  dec.once('close', () => src.destroy());
  return src.pipe(dec);
}

/** Map an inclusive object range onto its streams (binary search over cumulative part sizes). */
export function piecesFor(
  stream: StreamRef | undefined,
  parts: PartRef[] | undefined,
  start: number,
  end: number,
): StreamPiece[] {
  if (stream) return [{ ref: stream, start, end }];
  const list = parts ?? [];
  if (end < start) {
    // Empty object: decrypt the one empty final segment of the first stream (or nothing).
    return list.length
      ? [{ ref: list[0], uploadId: list[0].uploadId, partNumber: list[0].partNumber, start: 0, end: -1 }]
      : [];
  }
  const offsets: number[] = [];
  let acc = 0;
  for (const p of list) {
    offsets.push(acc);
    acc += p.size;
  }
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= start) lo = mid;
    else hi = mid - 1;
  }
  const out: StreamPiece[] = [];
  for (let i = lo; i < list.length && offsets[i] <= end; i++) {
    const p = list[i];
    if (p.size === 0) continue;
    const s = Math.max(start, offsets[i]) - offsets[i];
    const e = Math.min(end, offsets[i] + p.size - 1) - offsets[i];
    out.push({ ref: p, uploadId: p.uploadId, partNumber: p.partNumber, start: s, end: e });
  }
  return out;
}

/**
 * The chunks of one decrypted piece. A segment that fails authentication is the
 * same IntegrityError as a failed header check (one error code and log line,
 * naming the blob, whether or not the response has started).
 */
async function* integrityChecked(r: Readable, piece: StreamPiece): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of r) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof CryptoIntegrityError)
      throw new DomainError('IntegrityError', e.message, { dataId: piece.ref.dataId });
    throw e;
  }
}

/**
 * One Readable over several decrypted pieces, opened one after the other (so at
 * most one blob is open and memory stays at a few segments). Integrity errors
 * surface as stream errors; the responder destroys the socket on them.
 */
export function concatDecrypted(
  blobs: BlobStore,
  dek: Buffer,
  bucketUid: string,
  pieces: StreamPiece[],
  onClose?: () => void,
): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for (const piece of pieces) {
      const r = await openDecryptedRange(blobs, dek, bucketUid, piece);
      yield* integrityChecked(r, piece);
    }
  }
  const out = Readable.from(gen(), { objectMode: false, highWaterMark: 1 << 16 });
  // 'close' follows end, error and destroy alike (a client that goes away included).
  if (onClose) out.once('close', onClose);
  return out;
}

/**
 * concatDecrypted, but the first piece's checks (stored size, header digest, key
 * commitment) run before this resolves: a GET whose first blob is swapped, rolled
 * back, cut or extended gets an error response instead of a 200 whose body dies
 * at once. Later pieces are still opened one at a time as the body is read.
 */
export async function openConcatDecrypted(
  blobs: BlobStore,
  dek: Buffer,
  bucketUid: string,
  pieces: StreamPiece[],
  onClose?: () => void,
): Promise<Readable> {
  const [head, ...rest] = pieces;
  const first = head && (await openDecryptedRange(blobs, dek, bucketUid, head));
  async function* gen(): AsyncGenerator<Buffer> {
    if (first) yield* integrityChecked(first, head);
    for (const piece of rest) {
      const r = await openDecryptedRange(blobs, dek, bucketUid, piece);
      yield* integrityChecked(r, piece);
    }
  }
  const out = Readable.from(gen(), { objectMode: false, highWaterMark: 1 << 16 });
  // A body destroyed before it was read never starts gen(): close the open blob here.
  out.once('close', () => {
    first?.destroy();
    onClose?.();
  });
  return out;
}
