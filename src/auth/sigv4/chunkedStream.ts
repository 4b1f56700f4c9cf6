/**
 * Transform that decodes an `aws-chunked` body (sigv4-streaming,
 * sigv4-streaming-trailers; docs/s3-clients.md B1) into the object bytes:
 *
 *   <hex size>[;chunk-signature=<64 hex>]\r\n <data> \r\n   ... repeated
 *   0[;chunk-signature=<64 hex>]\r\n
 *   then either \r\n (no trailer) or trailer lines `name:value\r\n`,
 *   [x-amz-trailer-signature:<64 hex>\r\n], \r\n
 *
 * Chunk data is forwarded as it arrives (sub-slices of the input, no copy), so
 * memory stays bounded whatever the chunk size: the Go SDK sends a whole object
 * as one chunk, and MinIO's 16 MiB chunk limit broke it (minio/minio#21611).
 * Only header and trailer *lines* are buffered, and those are bounded.
 *
 * A chunk's signature can only be checked after its last byte, so some bytes
 * of a bad chunk have already gone downstream when the error is raised; the
 * consumer must treat a stream error as "discard everything" (pipeline() does).
 * Every check that decides the request is valid runs before the stream ends:
 * the decoder errors instead of ending on a short, long or tampered body.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { checksumAlgorithmFromHeaderName, createChecksum, type Checksum } from '../../util/checksums.js';
import { sha256Hex } from './canonical.js';
import {
  CHUNK_ALGORITHM,
  EMPTY_SHA256,
  H_TRAILER_SIGNATURE,
  MAX_CHUNK_LINE,
  MAX_TRAILER_BYTES,
  TRAILER_ALGORITHM,
} from './constants.js';
import { SigV4Error } from './errors.js';
import { signHex, signaturesEqual } from './signingKey.js';

/** What the chunk signatures are chained from (signed modes only). */
export interface ChunkSigning {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  /** The request's own signature. */
  seedSignature: string;
}

/** Options of AwsChunkedDecoder. */
export interface AwsChunkedDecoderOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]. */
  signing?: ChunkSigning;
  /** True for the -TRAILER modes. */
  trailer: boolean;
  /** Lower-case trailer names announced in x-amz-trailer. */
  declaredTrailers: readonly string[];
  /** x-amz-decoded-content-length. */
  decodedLength: number;
}

type State = 'size' | 'data' | 'crlf' | 'trailer' | 'end';

const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEX_SIZE = /^[0-9a-fA-F]{1,16}$/;

const incomplete = (m: string): SigV4Error => new SigV4Error('IncompleteBody', m);
const badTrailer = (m: string): SigV4Error => new SigV4Error('MalformedTrailerError', m);

/** Decodes aws-chunked framing, verifying chunk and trailer signatures and trailer checksums. */
export class AwsChunkedDecoder extends Transform {
  /** Trailers received (lower-case name -> value), excluding the signature. */
  readonly trailers: Record<string, string> = {};
  private state: State = 'size';
  private line: Buffer[] = [];
  private lineLength = 0;
  private trailerBytes = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private decoded = 0;
  private chunkHash: Hash | undefined;
  private chunkSignature = '';
  private previousSignature: string;
  private trailerSigned = false;
  private readonly checksums: Array<[name: string, sum: Checksum]>;

  /** @param opts mode, signing material and expected length */
  constructor(private readonly opts: AwsChunkedDecoderOptions) {
    super();
    this.previousSignature = opts.signing?.seedSignature ?? '';
    this.checksums = [];
    for (const name of opts.trailer ? opts.declaredTrailers : []) {
      const algorithm = checksumAlgorithmFromHeaderName(name);
      if (algorithm) this.checksums.push([name, createChecksum(algorithm)]);
    }
  }

  /** Object bytes emitted so far. */
  get decodedLength(): number {
    return this.decoded;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.finish();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'size':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, i);
          const end = nl < 0 ? buf.length : nl;
          this.appendLine(buf.subarray(i, end));
          if (nl < 0) return;
          i = nl + 1;
          const line = this.takeLine();
          if (this.state === 'size') this.onSizeLine(line);
          else this.onTrailerLine(line);
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          const part = buf.subarray(i, i + n);
          this.chunkHash?.update(part);
          for (const [, sum] of this.checksums) sum.update(part);
          this.decoded += n;
          this.remaining -= n;
          i += n;
          this.push(part);
          if (this.remaining === 0) {
            this.verifyChunk(this.chunkHash?.digest('hex') ?? EMPTY_SHA256);
            this.state = 'crlf';
            this.crlfSeen = 0;
          }
          break;
        }
        case 'crlf': {
          if (buf[i] !== (this.crlfSeen === 0 ? 0x0d : 0x0a)) throw incomplete('Chunk data is not followed by CRLF.');
          i++;
          if (++this.crlfSeen === 2) this.state = 'size';
          break;
        }
        case 'end': {
          // Only the final CRLF may follow the last chunk.
          if (buf[i] !== 0x0d && buf[i] !== 0x0a) throw incomplete('Data after the final chunk.');
          i++;
          break;
        }
      }
    }
  }

  private appendLine(part: Buffer): void {
    this.lineLength += part.length;
    if (this.state === 'trailer') {
      this.trailerBytes += part.length + 1;
      if (this.trailerBytes > MAX_TRAILER_BYTES) throw badTrailer('The trailer block is too large.');
    }
    if (this.lineLength > MAX_CHUNK_LINE) {
      throw this.state === 'size'
        ? new SigV4Error('InvalidChunkSizeError', 'Chunk header line is too long.')
        : badTrailer('Trailer line is too long.');
    }
    if (part.length > 0) this.line.push(part);
  }

  /** The buffered line as latin1 text (framing is ASCII), without a trailing '\r'. */
  private takeLine(): string {
    const text = Buffer.concat(this.line, this.lineLength).toString('latin1');
    this.line = [];
    this.lineLength = 0;
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }

  private onSizeLine(line: string): void {
    const semi = line.indexOf(';');
    const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!HEX_SIZE.test(sizeText))
      throw new SigV4Error('InvalidChunkSizeError', 'Chunk size is not a hexadecimal number.');
    const size = parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) throw new SigV4Error('InvalidChunkSizeError', 'Chunk size is too large.');
    if (this.opts.signing) this.chunkSignature = chunkSignatureOf(semi < 0 ? '' : line.slice(semi + 1));
    // Fail before forwarding bytes that could never make a valid body.
    if (this.decoded + size > this.opts.decodedLength) {
      throw incomplete('The body is longer than x-amz-decoded-content-length.');
    }
    if (size === 0) {
      this.verifyChunk(EMPTY_SHA256);
      this.state = this.opts.trailer ? 'trailer' : 'end';
      return;
    }
    this.remaining = size;
    this.chunkHash = this.opts.signing ? createHash('sha256') : undefined;
    this.state = 'data';
  }

  /** String to sign per sigv4-streaming: prefix, date, scope, previous signature, sha256(""), sha256(data). */
  private verifyChunk(dataHashHex: string): void {
    const s = this.opts.signing;
    if (!s) return;
    const toSign = [CHUNK_ALGORITHM, s.amzDate, s.scope, this.previousSignature, EMPTY_SHA256, dataHashHex].join('\n');
    if (!signaturesEqual(signHex(s.signingKey, toSign), this.chunkSignature)) {
      throw new SigV4Error('SignatureDoesNotMatch', 'The chunk signature does not match the chunk data.');
    }
    this.previousSignature = this.chunkSignature;
  }

  private onTrailerLine(line: string): void {
    // Blank lines end the block; some clients add an extra '\n' after a value
    // (Garage tolerates the same), so any blank line is skipped and the block
    // really ends with the body.
    if (line.trim() === '') return;
    if (this.trailerSigned) throw badTrailer('Data after x-amz-trailer-signature.');
    const colon = line.indexOf(':');
    if (colon <= 0) throw badTrailer('A trailer line is not "name:value".');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === H_TRAILER_SIGNATURE) {
      this.verifyTrailerSignature(value);
      return;
    }
    if (!this.opts.declaredTrailers.includes(name))
      throw badTrailer(`Trailer ${name} was not announced in x-amz-trailer.`);
    if (name in this.trailers) throw badTrailer(`Trailer ${name} appears twice.`);
    this.trailers[name] = value;
  }

  /** String to sign per sigv4-streaming-trailers, over the canonical trailers `name:value\n` sorted by name. */
  private verifyTrailerSignature(value: string): void {
    const s = this.opts.signing;
    if (!s) throw badTrailer('x-amz-trailer-signature in an unsigned stream.');
    if (!HEX64.test(value)) throw new SigV4Error('SignatureDoesNotMatch', 'The trailer signature is malformed.');
    const canonical = Object.keys(this.trailers)
      .sort()
      .map((n) => `${n}:${this.trailers[n]}\n`)
      .join('');
    const toSign = [TRAILER_ALGORITHM, s.amzDate, s.scope, this.previousSignature, sha256Hex(canonical)].join('\n');
    if (!signaturesEqual(signHex(s.signingKey, toSign), value.toLowerCase())) {
      throw new SigV4Error('SignatureDoesNotMatch', 'The trailer signature does not match the trailers.');
    }
    this.trailerSigned = true;
  }

  private finish(): void {
    if (this.state === 'trailer' && this.lineLength > 0) this.onTrailerLine(this.takeLine());
    if (this.state === 'size') throw incomplete('The body ended before the final zero-length chunk.');
    if (this.state === 'data' || this.state === 'crlf') throw incomplete('The body ended in the middle of a chunk.');
    if (this.state === 'trailer') {
      if (this.opts.signing && !this.trailerSigned) throw badTrailer('The trailer has no x-amz-trailer-signature.');
      const missing = this.opts.declaredTrailers.filter((n) => !(n in this.trailers));
      if (missing.length > 0) throw badTrailer(`Announced trailer ${missing.join(', ')} is missing.`);
    }
    if (this.decoded !== this.opts.decodedLength) {
      throw incomplete(
        `The body has ${this.decoded} bytes; x-amz-decoded-content-length says ${this.opts.decodedLength}.`,
      );
    }
    for (const [name, sum] of this.checksums) {
      if (sum.digest().toString('base64') !== this.trailers[name]) {
        throw new SigV4Error(
          'XAmzContentChecksumMismatch',
          `The ${name} you specified did not match the calculated checksum.`,
        );
      }
    }
  }
}

/** The chunk-signature value from a chunk's extensions (`chunk-signature=<hex>`). */
function chunkSignatureOf(extensions: string): string {
  for (const ext of extensions.split(';')) {
    const eq = ext.indexOf('=');
    if (eq > 0 && ext.slice(0, eq).trim() === 'chunk-signature') {
      const sig = ext.slice(eq + 1).trim();
      if (HEX64.test(sig)) return sig.toLowerCase();
    }
  }
  throw new SigV4Error('SignatureDoesNotMatch', 'A chunk of a signed stream has no valid chunk-signature.');
}
