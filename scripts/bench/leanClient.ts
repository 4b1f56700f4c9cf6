/**
 * The bench's S3 client: raw HTTP/1.1 over a keep-alive node:http agent, each
 * request signed with aws4 and UNSIGNED-PAYLOAD. Not the AWS SDK, whose per
 * request CPU (about 1 ms) would dominate the 4 KiB and LIST phases and make
 * every server look alike. Bodies are sent plain (no aws-chunked framing), which
 * every S3 server, s3rver included, stores as sent.
 *
 * GET bodies are never buffered: they are hashed (SHA-256) as they arrive, so a
 * caller can compare against what it wrote without holding 64 MiB.
 */
import { createHash } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import aws4 from 'aws4';
import { XMLParser } from 'fast-xml-parser';

export interface S3Endpoint {
  /** Loopback only: the bench never talks to anything else. */
  host: '127.0.0.1';
  port: number;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export type Body = Buffer | { stream: Readable; length: number };

export interface LeanResponse {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: number;
  /** Hex SHA-256 of the body (when `hash` was asked for). */
  sha256?: string;
  /** The body (when it was not hashed); small responses only. */
  body?: Buffer;
}

export class S3Error extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly responseBody: string,
  ) {
    super(`${method} ${path}: HTTP ${status} ${responseBody.slice(0, 300)}`);
  }
}

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'Contents' });

/** RFC 3986 encoding of an object key for the path, '/' kept (what S3 signs). */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

export interface LeanClientOptions {
  maxSockets?: number;
  /**
   * Retries of a 503 (SlowDown, ServiceUnavailable: "retry later" in S3), with
   * jittered backoff, as S3 SDKs do; a streamed body is never resent. Default 0:
   * every failure fails the run. Each retry is counted in `retried503`.
   */
  retries503?: number;
}

export class LeanS3Client {
  private readonly agent: Agent;
  private readonly retries503: number;
  private count503 = 0;

  constructor(
    readonly endpoint: S3Endpoint,
    opts: LeanClientOptions = {},
  ) {
    if (endpoint.host !== '127.0.0.1') throw new Error(`refusing to send bench traffic to ${String(endpoint.host)}`);
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
    this.retries503 = opts.retries503 ?? 0;
  }

  /** One signed request (a 503 retried when the client was built to). Rejects with S3Error on a non-2xx status. */
  async request(
    method: string,
    path: string,
    opts: { body?: Body; headers?: Record<string, string>; hash?: boolean } = {},
  ): Promise<LeanResponse> {
    const resendable = opts.body === undefined || Buffer.isBuffer(opts.body);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(method, path, opts);
      } catch (e) {
        if (!(e instanceof S3Error) || e.status !== 503 || !resendable || attempt >= this.retries503) throw e;
        this.count503++;
        await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
      }
    }
  }

  private send(
    method: string,
    path: string,
    opts: { body?: Body; headers?: Record<string, string>; hash?: boolean },
  ): Promise<LeanResponse> {
    const { host, port, region, accessKeyId, secretAccessKey } = this.endpoint;
    const body = opts.body;
    const length = body === undefined ? 0 : Buffer.isBuffer(body) ? body.length : body.length;
    const signed = aws4.sign(
      {
        host: `${host}:${port}`,
        method,
        path,
        service: 's3',
        region,
        headers: {
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
          ...(body !== undefined || method === 'PUT' ? { 'content-length': String(length) } : {}),
          ...opts.headers,
        },
      },
      { accessKeyId, secretAccessKey },
    );
    return new Promise<LeanResponse>((resolve, reject) => {
      const req = request(
        { host, port, method, path, agent: this.agent, headers: signed.headers as Record<string, string> },
        (res) => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          // Error bodies are always kept, so the message says what the server said.
          const hasher = ok && opts.hash ? createHash('sha256') : undefined;
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (hasher) hasher.update(c);
            else chunks.push(c);
          });
          res.on('end', () => {
            if (!res.complete) return reject(new Error(`${method} ${path}: response cut short after ${bytes} bytes`));
            const buf = Buffer.concat(chunks);
            if (!ok) return reject(new S3Error(method, path, status, buf.toString('utf8')));
            resolve({
              status,
              headers: res.headers,
              bytes,
              ...(hasher ? { sha256: hasher.digest('hex') } : { body: buf }),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.stream.on('error', (e) => req.destroy(e));
        body.stream.pipe(req);
      }
    });
  }

  /** 503 answers that were retried. */
  get retried503(): number {
    return this.count503;
  }

  async createBucket(bucket: string): Promise<void> {
    await this.request('PUT', `/${bucket}`);
  }

  /** PUT an object; resolves with its ETag. */
  async putObject(bucket: string, key: string, body: Body): Promise<string> {
    const res = await this.request('PUT', `/${bucket}/${encodeKey(key)}`, { body });
    return String(res.headers.etag ?? '');
  }

  /** GET an object (or the inclusive byte range); the body is hashed, not kept. */
  async getObject(
    bucket: string,
    key: string,
    range?: { start: number; end: number },
  ): Promise<{ status: number; bytes: number; sha256: string }> {
    const headers = range ? { range: `bytes=${range.start}-${range.end}` } : undefined;
    const res = await this.request('GET', `/${bucket}/${encodeKey(key)}`, { headers, hash: true });
    return { status: res.status, bytes: res.bytes, sha256: res.sha256 ?? '' };
  }

  /** One ListObjectsV2 page. */
  async listPage(
    bucket: string,
    opts: { prefix?: string; maxKeys?: number; token?: string } = {},
  ): Promise<{ keys: string[]; next?: string }> {
    const q = [['list-type', '2']];
    if (opts.token !== undefined) q.push(['continuation-token', opts.token]);
    if (opts.maxKeys !== undefined) q.push(['max-keys', String(opts.maxKeys)]);
    if (opts.prefix !== undefined) q.push(['prefix', opts.prefix]);
    const query = q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const res = await this.request('GET', `/${bucket}?${query}`);
    const doc = xml.parse(res.body?.toString('utf8') ?? '') as {
      ListBucketResult?: { Contents?: { Key: string }[]; IsTruncated?: string; NextContinuationToken?: string };
    };
    const r = doc.ListBucketResult;
    if (r === undefined) throw new Error(`GET /${bucket}?${query}: not a ListBucketResult`);
    const keys = (r.Contents ?? []).map((c) => String(c.Key));
    const truncated = r.IsTruncated === 'true';
    if (truncated && !r.NextContinuationToken) throw new Error('truncated listing without NextContinuationToken');
    return { keys, ...(truncated ? { next: String(r.NextContinuationToken) } : {}) };
  }

  /** Every key under `prefix`, page by page; also says how many pages it took. */
  async listAll(
    bucket: string,
    opts: { prefix?: string; maxKeys?: number } = {},
  ): Promise<{ keys: string[]; pages: number }> {
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await this.listPage(bucket, { ...opts, token });
      pages++;
      keys.push(...page.keys);
      token = page.next;
    } while (token !== undefined);
    return { keys, pages };
  }

  close(): void {
    this.agent.destroy();
  }
}
