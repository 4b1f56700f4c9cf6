/**
 * What a handler sees: the operation, the verified principal, the services and
 * accessors for the request body that only ever yield verified bytes.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Principal } from '../auth/credentials.js';
import type { Config } from '../config.js';
import type { AccountDirectory } from '../services/accessControl.js';
import type { BucketService } from '../services/bucketService.js';
import type { BucketRecord } from '../services/types.js';
import type { ListService } from '../services/listService.js';
import type { MultipartService } from '../services/multipartService.js';
import type { ObjectService } from '../services/objectService.js';
import type { Logger } from '../util/logger.js';
import type { S3Operation } from './operations.js';
import type { XmlDoc } from './xml/encode.js';

/** Services only: the stores and the DEKs stay behind them (handlers parse, call one method, render). */
export interface Services {
  buckets: BucketService;
  objects: ObjectService;
  multipart: MultipartService;
  lists: ListService;
  /** Canonical ids that ACL grants may name (the IAM accounts). */
  accounts: AccountDirectory;
}

export interface S3RequestContext {
  requestId: string;
  op: S3Operation;
  /** Who signed the request; for an unsigned request ANONYMOUS_PRINCIPAL (and `anonymous` is true). */
  principal: Principal;
  anonymous: boolean;
  /**
   * The account whose bucket the request acts on, once access control allowed
   * it (authorizeRequest.ts): the bucket's owner. Services that check
   * ownership are called with it; the requester stays in `principal`.
   */
  account: string;
  /**
   * The bucket named `name`, read once per request, whoever owns it: what
   * access control judges (the request's bucket, a copy source). NoSuchBucket.
   */
  bucketRecord(name: string): Promise<BucketRecord>;
  /**
   * The bucket the request acts on: bucketRecord(name), and AccessDenied
   * unless access control allowed the request on it (ctx.account is its owner).
   */
  bucket(name: string): Promise<BucketRecord>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  req: IncomingMessage;
  services: Services;
  config: Config;
  log: Logger;
  /** The verified, de-framed body (aws-chunked stripped, signatures checked as it flows). */
  body(): Readable;
  /** Declared plaintext length: x-amz-decoded-content-length for an aws-chunked body, else Content-Length (bodyDecoder's declaredLength). */
  bodyLength(): number | undefined;
  /** Whole small body as text, bounded by maxXmlBytes (MaxMessageLengthExceeded beyond). */
  readText(): Promise<string>;
  /** Trailers seen by the decoder, valid after the body ended. */
  trailers(): Record<string, string>;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export interface HandlerResult {
  status?: number;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  xml?: XmlDoc;
}
