/** Typed loaders for test/fixtures/sigv4 (see its README for provenance). */
import { readFileSync } from 'node:fs';

export interface SuiteVector {
  name: string;
  source: string;
  credentials: string;
  region: string;
  service: string;
  amzDate: string;
  method: string;
  path: string;
  wirePath?: string;
  query: string;
  headers: Array<[string, string]>;
  signedHeaders: string[];
  payloadHash: string;
  switches: { doubleEncode: boolean; normalize: boolean };
  s3Equivalent: boolean;
  s3CanonicalUri?: string;
  presigned?: boolean;
  canonicalRequest?: string;
  stringToSign?: string;
  signature: string;
}

export interface Suite {
  credentials: Record<string, { accessKeyId: string; secretAccessKey: string }>;
  vectors: SuiteVector[];
  skipped: Array<{ name: string; reason: string }>;
}

export interface S3Example {
  name: string;
  method: string;
  rawPath: string;
  rawQuery: string;
  body?: string;
  headers: Array<[string, string]>;
  canonicalRequest?: string;
  stringToSign?: string;
  payloadMode: string;
}

export interface S3Examples {
  credentials: { accessKeyId: string; secretAccessKey: string };
  now: string;
  requests: S3Example[];
  streaming: {
    seedSignature: string;
    chunks: Array<{ size: number; byte: string; signature: string }>;
    trailers: Array<[string, string]>;
    trailerSignature: string;
  };
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../fixtures/sigv4/${name}`, import.meta.url), 'utf8')) as T;
}

export const suite = (): Suite => load<Suite>('aws-sig-v4-test-suite.json');
export const s3Examples = (): S3Examples => load<S3Examples>('s3-examples.json');

/** Header pairs -> node-style map: lower-case names, repeated names as arrays. */
export function headerMap(pairs: Array<[string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
