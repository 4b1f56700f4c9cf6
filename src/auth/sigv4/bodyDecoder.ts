/**
 * Picks the body Transform for a verified request's payload mode, so handlers
 * only ever read verified object bytes (architecture.md 7.3 step 2):
 *
 * - sha256: pass-through that fails before 'end' if the body's SHA-256 is not
 *   the signed one (XAmzContentSHA256Mismatch);
 * - unsigned: pass-through;
 * - streaming-*: aws-chunked decoding with chunk/trailer signature and
 *   trailer checksum checks (chunkedStream.ts). The object size is
 *   x-amz-decoded-content-length, which is then required.
 */
import type { Transform } from 'node:stream';
import { AwsChunkedDecoder } from './chunkedStream.js';
import { H_CONTENT_LENGTH, H_DECODED_LENGTH, H_TRAILER } from './constants.js';
import { SigV4Error } from './errors.js';
import { PayloadHashStream } from './payloadHash.js';
import type { PayloadMode, VerifiedAuth } from './verify.js';
import { headerValue, type HeaderMap } from '../../util/httpHeaders.js';

/** What the decoder learnt from the body; read it after the stream's 'end'. */
export interface BodyDecoderResult {
  /** Lower-cased trailer name -> value, e.g. 'x-amz-checksum-crc32' -> 'AAAAAA=='. */
  trailers: Record<string, string>;
  decodedLength: number;
}

/** The decoder for one request body. */
export interface BodyDecoder {
  stream: Transform;
  /** x-amz-decoded-content-length (streaming) or content-length, when known. */
  expectedLength?: number;
  /** Valid after 'end'. */
  result(): BodyDecoderResult;
}

type Headers = HeaderMap;

function header(headers: Headers, name: string): string | undefined {
  // Lengths are singletons: a field sent twice reads as its first value, as in the verifier.
  return headerValue(headers, name, { repeated: 'first' })?.trim();
}

function parseLength(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new SigV4Error('InvalidArgument', `${name} must be a non-negative integer.`);
  }
  return Number(value);
}

function isStreaming(mode: PayloadMode): boolean {
  return mode === 'streaming-signed' || mode === 'streaming-signed-trailer' || mode === 'streaming-unsigned-trailer';
}

/**
 * The body's declared plaintext length, the one source for it: an aws-chunked
 * body (streaming-*) declares it in x-amz-decoded-content-length, which it must
 * send; any other body in Content-Length, when there is one.
 * @throws SigV4Error MissingContentLength when a streaming body has no
 *   x-amz-decoded-content-length; InvalidArgument for a malformed length
 */
export function declaredLength(mode: PayloadMode, headers: Headers): number | undefined {
  return isStreaming(mode) ? decodedLength(headers) : parseLength(header(headers, H_CONTENT_LENGTH), 'Content-Length');
}

function decodedLength(headers: Headers): number {
  const n = parseLength(header(headers, H_DECODED_LENGTH), 'x-amz-decoded-content-length');
  if (n === undefined)
    throw new SigV4Error('MissingContentLength', 'A streaming upload must send x-amz-decoded-content-length.');
  return n;
}

/**
 * Create the body decoder for a verified request.
 * @param auth the result of verifySigV4
 * @param headers the request headers (lower-cased names)
 * @throws SigV4Error MissingContentLength when a streaming body has no
 *   x-amz-decoded-content-length; InvalidArgument for a malformed length
 */
export function createBodyDecoder(auth: VerifiedAuth, headers: Headers): BodyDecoder {
  switch (auth.payloadMode) {
    case 'sha256':
    case 'unsigned': {
      const stream = new PayloadHashStream(auth.payloadMode === 'sha256' ? auth.payloadHash : undefined);
      const expectedLength = declaredLength(auth.payloadMode, headers);
      return {
        stream,
        ...(expectedLength !== undefined ? { expectedLength } : {}),
        result: () => ({ trailers: {}, decodedLength: stream.decodedLength }),
      };
    }
    case 'streaming-signed':
    case 'streaming-signed-trailer':
    case 'streaming-unsigned-trailer': {
      const length = decodedLength(headers);
      const trailer = auth.payloadMode !== 'streaming-signed';
      const declaredTrailers = (header(headers, H_TRAILER) ?? '')
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== '');
      const stream = new AwsChunkedDecoder({
        trailer,
        declaredTrailers: trailer ? declaredTrailers : [],
        decodedLength: length,
        ...(auth.payloadMode === 'streaming-unsigned-trailer'
          ? {}
          : {
              signing: {
                signingKey: auth.signingKey,
                amzDate: auth.amzDate,
                scope: auth.scope,
                seedSignature: auth.signature,
              },
            }),
      });
      return {
        stream,
        expectedLength: length,
        result: () => ({ trailers: { ...stream.trailers }, decodedLength: stream.decodedLength }),
      };
    }
    default:
      return assertNever(auth.payloadMode);
  }
}

function assertNever(x: never): never {
  throw new TypeError(`unknown payload mode ${String(x)}`);
}

/**
 * Content-Encoding with the `aws-chunked` coding removed, for storing as the
 * object's Content-Encoding (docs/s3-clients.md B5 item 2).
 * @param value the request's Content-Encoding
 * @returns the remaining codings, or undefined when none remain
 */
export function stripAwsChunked(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const rest = value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c.toLowerCase() !== 'aws-chunked');
  return rest.length > 0 ? rest.join(', ') : undefined;
}
