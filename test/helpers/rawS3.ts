/**
 * Raw S3 requests for the edge cases the SDK will not produce: hand-built
 * aws-chunked bodies (signed chunks, signed and unsigned trailers), presigned
 * URLs, wrong secrets, skewed clocks, truncated bodies, virtual-host Host
 * headers. Requests are signed with the `aws4` package (canonical request and
 * seed signature); chunk and trailer signatures are computed here per the AWS
 * SigV4 streaming spec ("Signature Calculations for the Authorization Header:
 * Transferring Payload in Multiple Chunks" and "...with trailing headers"),
 * chained from the seed signature.
 *
 * Every request goes to 127.0.0.1, whatever Host header it carries.
 */
import aws4 from 'aws4';
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { crc32Base64, SeededData } from './seeded.js';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export type StreamingMode =
  typeof STREAMING_SIGNED | typeof STREAMING_SIGNED_TRAILER | typeof STREAMING_UNSIGNED_TRAILER;

export interface RawEndpoint {
  /** Always 127.0.0.1. */
  host: '127.0.0.1';
  port: number;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function endpointOf(gw: {
  s3Url: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}): RawEndpoint {
  const u = new URL(gw.s3Url);
  if (u.hostname !== '127.0.0.1') throw new Error(`refusing to send test traffic to ${u.hostname}`);
  return {
    host: '127.0.0.1',
    port: Number(u.port),
    region: gw.region,
    accessKeyId: gw.accessKeyId,
    secretAccessKey: gw.secretAccessKey,
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The response body arrived whole (res.complete) without a socket error. */
  complete: boolean;
  /** A socket/response error, e.g. the server destroyed the connection mid-body. */
  error?: Error;
  text(): string;
}

export type RawBody = Buffer | string | Iterable<Buffer> | AsyncIterable<Buffer>;

export interface SendOptions {
  method: string;
  /** Path and query exactly as they go on the request line (already encoded). */
  path: string;
  headers?: Record<string, string>;
  body?: RawBody;
  /** Write this many body bytes, then destroy the socket (a client dying mid-upload). */
  abortAfterBytes?: number;
  timeoutMs?: number;
}

/** Encode an object key for a request path: every byte but unreserved chars and '/', so '+' is %2B, not a space. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()))
    .join('/');
}

export function objectPath(bucket: string, key?: string, query?: string): string {
  return `/${bucket}${key !== undefined ? '/' + encodeKey(key) : ''}${query ? '?' + query : ''}`;
}

function mkResponse(
  status: number,
  headers: IncomingHttpHeaders,
  body: Buffer,
  complete: boolean,
  error?: Error,
): RawResponse {
  return { status, headers, body, complete, error, text: () => body.toString('utf8') };
}

/** Send one request on a fresh connection to 127.0.0.1 and collect the whole response (or what arrived of it). */
export function send(ep: RawEndpoint, opts: SendOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (r: RawResponse) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(r);
      }
    };
    const fail = (e: Error) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(e);
      }
    };
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'host')) headers.Host = `${ep.host}:${ep.port}`;
    const req = httpRequest({
      host: ep.host,
      port: ep.port,
      method: opts.method,
      path: opts.path,
      headers,
      agent: false,
      setHost: false,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`raw request timed out after ${opts.timeoutMs ?? 30000} ms`));
    }, opts.timeoutMs ?? 30_000);
    let gotResponse = false;
    req.on('response', (res) => {
      gotResponse = true;
      const chunks: Buffer[] = [];
      let err: Error | undefined;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => {
        err = e;
      });
      res.on('aborted', () => {
        err ??= new Error('response aborted');
      });
      res.on('close', () => {
        done(
          mkResponse(
            res.statusCode ?? 0,
            res.headers,
            Buffer.concat(chunks),
            res.complete && !err,
            err ?? (res.complete ? undefined : new Error('response closed early')),
          ),
        );
      });
    });
    req.on('error', (e) => {
      if (opts.abortAfterBytes !== undefined && !gotResponse) {
        done(mkResponse(0, {}, Buffer.alloc(0), false, e));
        return;
      }
      // The server may answer (and close) before it reads the whole body; the response already won.
      if (gotResponse) return;
      fail(e);
    });
    void writeBody(req, opts).catch((e: Error) => {
      if (!gotResponse && opts.abortAfterBytes === undefined) fail(e);
    });
  });
}

async function writeBody(req: ReturnType<typeof httpRequest>, opts: SendOptions): Promise<void> {
  const b = opts.body;
  if (b === undefined) {
    req.end();
    return;
  }
  if (typeof b === 'string' || Buffer.isBuffer(b)) {
    const buf = typeof b === 'string' ? Buffer.from(b) : b;
    if (opts.abortAfterBytes === undefined) {
      req.end(buf);
      return;
    }
    await writeChunks(req, [buf], opts.abortAfterBytes);
    return;
  }
  await writeChunks(req, b, opts.abortAfterBytes);
}

async function writeChunks(
  req: ReturnType<typeof httpRequest>,
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
  abortAfter?: number,
): Promise<void> {
  let written = 0;
  for await (const c of chunks) {
    if (req.destroyed) return;
    let piece = c;
    if (abortAfter !== undefined && written + piece.length >= abortAfter) {
      piece = piece.subarray(0, abortAfter - written);
      if (piece.length) req.write(piece);
      // Let the bytes reach the server, then kill the connection without finishing the body.
      await new Promise((r) => setTimeout(r, 150));
      req.destroy(new Error('client aborted the upload on purpose'));
      return;
    }
    written += piece.length;
    if (!req.write(piece)) await new Promise<void>((r) => req.once('drain', () => r()));
  }
  if (abortAfter !== undefined) {
    await new Promise((r) => setTimeout(r, 150));
    req.destroy(new Error('client aborted the upload on purpose'));
    return;
  }
  req.end();
}

// ---------------------------------------------------------------- signing

export function amzDate(d: Date): string {
  return d.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

export function signingKey(secret: string, date8: string, region: string, service = 's3'): Buffer {
  const kDate = createHmac('sha256', 'AWS4' + secret)
    .update(date8)
    .digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

const hmacHex = (key: Buffer, s: string) => createHmac('sha256', key).update(s, 'utf8').digest('hex');
const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export interface SignOptions {
  method: string;
  /** Encoded path with optional query. */
  path: string;
  headers?: Record<string, string>;
  /** x-amz-content-sha256; default: hex SHA-256 of `body` (which must then be a Buffer or string). */
  payloadHash?: string;
  body?: Buffer | string;
  date?: Date;
  /** Host header (and signed host); default 127.0.0.1:<port>. */
  host?: string;
  /** Sign with these instead of the endpoint's credentials. */
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
}

export interface Signed {
  path: string;
  headers: Record<string, string>;
  signature: string;
  amzDate: string;
  scope: string;
  key: Buffer;
}

/** Header-auth SigV4 via aws4. Nothing is added that the caller did not ask for except Host, X-Amz-Date, X-Amz-Content-Sha256. */
export function signHeaders(ep: RawEndpoint, o: SignOptions): Signed {
  const date = o.date ?? new Date();
  const host = o.host ?? `${ep.host}:${ep.port}`;
  let payloadHash = o.payloadHash;
  if (payloadHash === undefined) payloadHash = sha256Hex(o.body ?? '');
  const headers: Record<string, string> = {
    ...(o.headers ?? {}),
    Host: host,
    'X-Amz-Date': amzDate(date),
    'X-Amz-Content-Sha256': payloadHash,
  };
  const region = o.region ?? ep.region;
  const creds = {
    accessKeyId: o.accessKeyId ?? ep.accessKeyId,
    secretAccessKey: o.secretAccessKey ?? ep.secretAccessKey,
  };
  const signer = new aws4.RequestSigner(
    { host, path: o.path, method: o.method, service: 's3', region, headers },
    creds,
  );
  const req = signer.sign();
  const outHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) if (v !== undefined) outHeaders[k] = String(v);
  const d8 = amzDate(date).slice(0, 8);
  return {
    path: req.path ?? o.path,
    headers: outHeaders,
    signature: signer.signature(),
    amzDate: amzDate(date),
    scope: signer.credentialString(),
    key: signingKey(creds.secretAccessKey, d8, region),
  };
}

/** Sign (header auth) and send. Content-Length is set for Buffer/string bodies unless given. */
export async function signedRequest(
  ep: RawEndpoint,
  o: SignOptions & { sendBody?: RawBody; abortAfterBytes?: number; timeoutMs?: number },
): Promise<RawResponse> {
  const headers = { ...(o.headers ?? {}) };
  const hasLength = Object.keys(headers).some(
    (h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding',
  );
  if (!hasLength && o.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(o.body));
  const s = signHeaders(ep, { ...o, headers });
  return send(ep, {
    method: o.method,
    path: s.path,
    headers: s.headers,
    body: o.sendBody ?? o.body,
    abortAfterBytes: o.abortAfterBytes,
    timeoutMs: o.timeoutMs,
  });
}

export interface PresignOptions {
  method: string;
  /** Encoded path with optional extra query (e.g. response-content-type=...). */
  path: string;
  expiresSeconds: number;
  date?: Date;
  host?: string;
  secretAccessKey?: string;
}

/** A presigned path+query (query auth, UNSIGNED-PAYLOAD), signed with aws4. */
export function presign(ep: RawEndpoint, o: PresignOptions): string {
  const date = o.date ?? new Date();
  const host = o.host ?? `${ep.host}:${ep.port}`;
  const sep = o.path.includes('?') ? '&' : '?';
  const path = `${o.path}${sep}X-Amz-Expires=${o.expiresSeconds}&X-Amz-Date=${amzDate(date)}`;
  const creds = { accessKeyId: ep.accessKeyId, secretAccessKey: o.secretAccessKey ?? ep.secretAccessKey };
  const req = aws4.sign(
    { host, path, method: o.method, service: 's3', region: ep.region, signQuery: true, headers: { Host: host } },
    creds,
  );
  return req.path ?? path;
}

// ---------------------------------------------------------------- aws-chunked

export interface Trailer {
  name: string;
  value: string;
}

export interface ChunkedOptions {
  mode: StreamingMode;
  data: SeededData | Buffer;
  /** Data bytes per chunk (the last one may be shorter). */
  chunkSize: number;
  /** Trailer for the -TRAILER modes; default x-amz-checksum-crc32 of the data. */
  trailer?: Trailer;
  /** Corrupt the signature of chunk #n (0-based; n = number of data chunks means the final 0-size chunk). */
  badChunkSignatureAt?: number;
  /** Corrupt the trailer signature (signed-trailer mode). */
  badTrailerSignature?: boolean;
  /** -TRAILER modes: end the body after the zero chunk without the trailer block (x-amz-trailer still declared). */
  omitTrailer?: boolean;
}

function dataSize(d: SeededData | Buffer): number {
  return Buffer.isBuffer(d) ? d.length : d.size;
}

function* dataPieces(d: SeededData | Buffer, start: number, end: number): Generator<Buffer> {
  if (Buffer.isBuffer(d)) {
    yield d.subarray(start, end);
    return;
  }
  yield* d.pieces(start, end);
}

function chunkHash(d: SeededData | Buffer, start: number, end: number): string {
  const h = createHash('sha256');
  for (const p of dataPieces(d, start, end)) h.update(p);
  return h.digest('hex');
}

function defaultTrailer(d: SeededData | Buffer): Trailer {
  return { name: 'x-amz-checksum-crc32', value: Buffer.isBuffer(d) ? crc32Base64(d) : d.crc32() };
}

const flip = (sig: string) => (sig[0] === '0' ? '1' : '0') + sig.slice(1);

/** Total encoded length of an aws-chunked body (signatures have a fixed length, so no data is needed). */
export function chunkedLength(mode: StreamingMode, size: number, chunkSize: number, trailer?: Trailer): number {
  const signed = mode !== STREAMING_UNSIGNED_TRAILER;
  const sigPart = signed ? ';chunk-signature='.length + 64 : 0;
  let n = 0;
  for (let off = 0; off < size; off += chunkSize) {
    const len = Math.min(chunkSize, size - off);
    n += len.toString(16).length + sigPart + 2 + len + 2;
  }
  n += 1 + sigPart + 2; // "0[;chunk-signature=...]\r\n"
  if (mode === STREAMING_SIGNED) return n + 2;
  const t = trailer!;
  n += t.name.length + 1 + t.value.length + 2;
  if (mode === STREAMING_SIGNED_TRAILER) n += 'x-amz-trailer-signature:'.length + 64 + 2;
  return n + 2;
}

/**
 * The aws-chunked body, generated lazily. For signed modes `seed` is the
 * signature of the request's Authorization header.
 */
export function* chunkedBody(
  o: ChunkedOptions,
  sig?: { seed: string; key: Buffer; amzDate: string; scope: string },
  trailer?: Trailer,
): Generator<Buffer> {
  const signed = o.mode !== STREAMING_UNSIGNED_TRAILER;
  if (signed && !sig) throw new Error('signed streaming needs the seed signature');
  const size = dataSize(o.data);
  let prev = sig?.seed ?? '';
  const chunkSig = (hashHex: string) => {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', sig!.amzDate, sig!.scope, prev, EMPTY_SHA256, hashHex].join('\n');
    prev = hmacHex(sig!.key, sts);
    return prev;
  };
  let index = 0;
  for (let off = 0; off < size; off += o.chunkSize, index++) {
    const end = Math.min(size, off + o.chunkSize);
    let head = (end - off).toString(16);
    if (signed) {
      let s = chunkSig(chunkHash(o.data, off, end));
      if (o.badChunkSignatureAt === index) s = flip(s);
      head += ';chunk-signature=' + s;
    }
    yield Buffer.from(head + '\r\n');
    yield* dataPieces(o.data, off, end);
    yield Buffer.from('\r\n');
  }
  if (signed) {
    let s = chunkSig(EMPTY_SHA256);
    if (o.badChunkSignatureAt === index) s = flip(s);
    yield Buffer.from(`0;chunk-signature=${s}\r\n`);
  } else {
    yield Buffer.from('0\r\n');
  }
  if (o.mode === STREAMING_SIGNED || o.omitTrailer) {
    yield Buffer.from('\r\n');
    return;
  }
  const t = trailer!;
  let out = `${t.name}:${t.value}\r\n`;
  if (o.mode === STREAMING_SIGNED_TRAILER) {
    const sts = ['AWS4-HMAC-SHA256-TRAILER', sig!.amzDate, sig!.scope, prev, sha256Hex(`${t.name}:${t.value}\n`)].join(
      '\n',
    );
    let ts = hmacHex(sig!.key, sts);
    if (o.badTrailerSignature) ts = flip(ts);
    out += `x-amz-trailer-signature:${ts}\r\n`;
  }
  yield Buffer.from(out + '\r\n');
}

export interface StreamingPutOptions extends ChunkedOptions {
  path: string;
  method?: string;
  /** Extra headers (Content-Type, x-amz-meta-*, Content-Encoding to combine with aws-chunked...). */
  headers?: Record<string, string>;
  /** Send Transfer-Encoding: chunked instead of Content-Length (as the JS SDK does). */
  transferEncodingChunked?: boolean;
  /** Declare this x-amz-decoded-content-length instead of the real size. */
  declaredDecodedLength?: number;
  /** Omit Content-Encoding: aws-chunked (some clients do; servers should tolerate it). */
  omitContentEncoding?: boolean;
  /** Declare this x-amz-trailer header instead of the name of the trailer actually sent. */
  declaredTrailerName?: string;
  abortAfterBytes?: number;
  date?: Date;
  /** Host header to sign and send (default 127.0.0.1:<port>). */
  host?: string;
  secretAccessKey?: string;
  region?: string;
}

export interface StreamingRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The seed signature (from the Authorization header). */
  seed: string;
  body: Generator<Buffer>;
}

/** Sign an aws-chunked request and build its body lazily (no I/O). */
export function buildStreamingRequest(ep: RawEndpoint, o: StreamingPutOptions): StreamingRequest {
  const size = dataSize(o.data);
  const trailer = o.mode === STREAMING_SIGNED ? undefined : (o.trailer ?? defaultTrailer(o.data));
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  const userCe = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-encoding');
  if (userCe) delete headers[userCe[0]];
  if (!o.omitContentEncoding) headers['Content-Encoding'] = userCe ? `aws-chunked,${userCe[1]}` : 'aws-chunked';
  else if (userCe) headers['Content-Encoding'] = userCe[1];
  headers['X-Amz-Decoded-Content-Length'] = String(o.declaredDecodedLength ?? size);
  if (trailer) headers['X-Amz-Trailer'] = o.declaredTrailerName ?? trailer.name;
  if (o.transferEncodingChunked) headers['Transfer-Encoding'] = 'chunked';
  // Without the trailer block: the zero chunk, then the blank line ("name:value\r\n" of an empty trailer is 3 bytes).
  else if (o.omitTrailer)
    headers['Content-Length'] = String(
      o.mode === STREAMING_UNSIGNED_TRAILER
        ? chunkedLength(o.mode, size, o.chunkSize, { name: '', value: '' }) - 3
        : chunkedLength(STREAMING_SIGNED, size, o.chunkSize),
    );
  else headers['Content-Length'] = String(chunkedLength(o.mode, size, o.chunkSize, trailer));
  const method = o.method ?? 'PUT';
  const s = signHeaders(ep, {
    method,
    path: o.path,
    headers,
    payloadHash: o.mode,
    date: o.date,
    host: o.host,
    secretAccessKey: o.secretAccessKey,
    region: o.region,
  });
  const body = chunkedBody(o, { seed: s.signature, key: s.key, amzDate: s.amzDate, scope: s.scope }, trailer);
  return { method, path: s.path, headers: s.headers, seed: s.signature, body };
}

/** PUT (or UploadPart) with an aws-chunked body in one of the streaming modes. */
export async function streamingPut(ep: RawEndpoint, o: StreamingPutOptions): Promise<RawResponse> {
  const r = buildStreamingRequest(ep, o);
  return send(ep, {
    method: r.method,
    path: r.path,
    headers: r.headers,
    body: r.body,
    abortAfterBytes: o.abortAfterBytes,
  });
}

// ---------------------------------------------------------------- XML

const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  isArray: (n) => ['Contents', 'CommonPrefixes', 'Upload', 'Part', 'Deleted', 'Error', 'Bucket'].includes(n),
});

export function parseXml(body: Buffer | string): Record<string, unknown> {
  return xml.parse(typeof body === 'string' ? body : body.toString('utf8')) as Record<string, unknown>;
}

export interface S3ErrorBody {
  Code?: string;
  Message?: string;
  RequestId?: string;
  Resource?: string;
  raw: string;
}

/** The <Error> document of an error response (fields undefined when missing). */
export function errorBody(res: RawResponse): S3ErrorBody {
  const raw = res.text();
  const pick = (tag: string) => {
    const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(raw);
    return m ? m[1] : new RegExp(`<${tag}\\s*/>`).test(raw) ? '' : undefined;
  };
  return {
    Code: pick('Code'),
    Message: pick('Message'),
    RequestId: pick('RequestId'),
    Resource: pick('Resource'),
    raw,
  };
}
