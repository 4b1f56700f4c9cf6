/**
 * Builders for aws-chunked bodies, written from the AWS documents
 * (sigv4-streaming, sigv4-streaming-trailers) with node:crypto only, so the
 * decoder is checked against an independent implementation of the signing
 * chain rather than against itself.
 */
import { createHash, createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import type { PayloadMode, VerifiedAuth } from '../../../../src/auth/sigv4/verify.js';

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
export const EMPTY_HASH = sha256('');

/** Signing context of one streaming upload. */
export interface Session {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
}

/** A session for a secret/region/date, with an arbitrary seed signature. */
export function session(
  secret = 'chunk-secret',
  region = 'us-east-1',
  amzDate = '20260301T102030Z',
  seed = 'c0ffee'.padEnd(64, '0'),
): Session {
  const date = amzDate.slice(0, 8);
  const signingKey = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), 's3'), 'aws4_request');
  return { signingKey, amzDate, scope: `${date}/${region}/s3/aws4_request`, seed };
}

/** The VerifiedAuth verifySigV4 would have produced for this session and mode. */
export function authFor(s: Session, payloadMode: PayloadMode): VerifiedAuth {
  return {
    principal: { accountId: 'a', accessKeyId: 'AKID', displayName: 'd' },
    accessKeyId: 'AKID',
    region: s.scope.split('/')[1],
    scope: s.scope,
    amzDate: s.amzDate,
    signingKey: s.signingKey,
    signature: s.seed,
    presigned: false,
    payloadMode,
  };
}

/** chunk signature = HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" date \n scope \n prev \n sha256("") \n sha256(data)). */
export function chunkSignature(s: Session, previous: string, data: Buffer): string {
  const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, previous, EMPTY_HASH, sha256(data)].join('\n');
  return hmac(s.signingKey, toSign).toString('hex');
}

/** trailer signature = HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date \n scope \n prev \n sha256("name:value\n"...)). */
export function trailerSignature(s: Session, previous: string, trailers: Array<[string, string]>): string {
  const canonical = trailers.map(([n, v]) => `${n}:${v}\n`).join('');
  const toSign = ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, previous, sha256(canonical)].join('\n');
  return hmac(s.signingKey, toSign).toString('hex');
}

/** Options for building a framed body. */
export interface FrameOptions {
  /** Signed framing with this session; unsigned when absent. */
  signing?: Session;
  /** Trailer lines after the zero chunk (trailer modes). */
  trailers?: Array<[string, string]>;
  /** Add x-amz-trailer-signature (signed trailer mode). */
  signTrailers?: boolean;
  /** Omit the last CRLF of the body. */
  noFinalCrlf?: boolean;
  /** Line ending for trailer lines. */
  trailerEol?: string;
  /** Replace the signature of chunk i (0-based; the zero chunk counts). */
  badChunkSignature?: number;
}

/** Frame data chunks as aws-chunked, ending with the zero chunk and trailer block. */
export function frame(chunks: Buffer[], o: FrameOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let previous = o.signing?.seed ?? '';
  [...chunks, Buffer.alloc(0)].forEach((data, i) => {
    let ext = '';
    if (o.signing) {
      let sig = chunkSignature(o.signing, previous, data);
      previous = sig;
      if (o.badChunkSignature === i) sig = sig.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      ext = `;chunk-signature=${sig}`;
    }
    parts.push(Buffer.from(`${data.length.toString(16)}${ext}\r\n`), data);
    if (data.length > 0) parts.push(Buffer.from('\r\n'));
  });
  const eol = o.trailerEol ?? '\r\n';
  if (o.trailers === undefined && !o.signTrailers) {
    if (!o.noFinalCrlf) parts.push(Buffer.from('\r\n'));
    return Buffer.concat(parts);
  }
  const trailers = o.trailers ?? [];
  let block = trailers.map(([n, v]) => `${n}:${v}${eol}`).join('');
  if (o.signTrailers && o.signing)
    block += `x-amz-trailer-signature:${trailerSignature(o.signing, previous, trailers)}${eol}`;
  if (!o.noFinalCrlf) block += '\r\n';
  parts.push(Buffer.from(block));
  return Buffer.concat(parts);
}

/** Result of pushing input pieces through a decoder. */
export interface RunResult {
  output: Buffer;
  error?: Error;
  ended: boolean;
}

/** Pipe the pieces through the stream and collect what comes out (or the error). */
export async function run(stream: Transform, pieces: Buffer[]): Promise<RunResult> {
  const out: Buffer[] = [];
  let ended = false;
  stream.on('end', () => {
    ended = true;
  });
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk);
      cb();
    },
  });
  try {
    await pipeline(Readable.from(pieces, { objectMode: false }), stream, sink);
    return { output: Buffer.concat(out), ended };
  } catch (error) {
    return { output: Buffer.concat(out), error: error as Error, ended };
  }
}

/** Split a buffer into pieces at the given offsets. */
export function splitAt(buf: Buffer, ...cuts: number[]): Buffer[] {
  const points = [0, ...cuts, buf.length];
  return points.slice(1).map((end, i) => buf.subarray(points[i], end));
}

/** Deterministic pseudo-random bytes. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
