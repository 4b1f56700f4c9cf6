/**
 * Request bodies and query parameters of the Key Protect API: the raw body
 * (size-limited), JSON, the collection envelope (key-protect.md 2.2), and
 * strictly typed field access. Every failure is Key Protect's 400 shape:
 * malformed JSON and unknown fields BAD_BODY_ERR, a wrong collectionTotal
 * COLLECTION_TOTAL_MISMATCH_ERR, bad values INVALID_FIELD_ERR naming the field.
 */
import type { IncomingMessage } from 'node:http';
import { KmsError } from '../../keys/errors.js';
import {
  BodyError,
  parseJsonObject as parseJson,
  readBody as readRawBody,
  type JsonObject,
} from '../../restApi/body.js';
import { decodeBase64Strict } from '../encoding.js';
import { badBody, invalidField } from './errors.js';

/** Key Protect bodies are small: the largest is an imported standard key (7,500 bytes, ~10 KB in base64). */
export const MAX_BODY_BYTES = 64 * 1024;

export type Json = JsonObject;

/** Reads the whole body, refusing more than `limit` bytes (declared or actual): BAD_BODY_ERR. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return readRawBody(req, limit).catch((e: unknown) => {
    throw e instanceof BodyError ? badBody(e.message) : e;
  });
}

/** JSON object or undefined for an empty (or blank) body. Not an object: BAD_BODY_ERR. */
export function parseJsonObject(raw: Buffer): Json | undefined {
  try {
    return parseJson(raw, { blankIsEmpty: true });
  } catch (e) {
    throw e instanceof BodyError ? badBody(e.message) : e;
  }
}

export function requireBody(body: Json | undefined): Json {
  if (body === undefined) throw new KmsError('NO_BODY_ERR', 'A request body is required');
  return body;
}

/** Rejects fields outside `allowed` (unknown fields are an error, not silently dropped). */
export function onlyFields(obj: Json, allowed: readonly string[], where = 'resources'): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw badBody(`Unknown field '${k}' in ${where}`, k);
  }
}

export function asObject(v: unknown, name: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidField(name, 'a JSON object');
  return v as Json;
}

/**
 * The collection envelope: `metadata.collectionType` one of `types`,
 * `metadata.collectionTotal` equal to `resources.length`, between min and max
 * resources. Returns the resources as objects.
 */
export function parseEnvelope(
  body: Json | undefined,
  types: readonly string[],
  opts: { min?: number; max?: number } = {},
): Json[] {
  const b = requireBody(body);
  onlyFields(b, ['metadata', 'resources'], 'the request body');
  const meta = b.metadata;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    throw invalidField('metadata', 'an object with collectionType and collectionTotal');
  const m = meta as Json;
  onlyFields(m, ['collectionType', 'collectionTotal'], 'metadata');
  if (typeof m.collectionType !== 'string' || !types.includes(m.collectionType))
    throw invalidField('collectionType', types.join(' or '));
  if (!Array.isArray(b.resources)) throw invalidField('resources', 'an array');
  if (typeof m.collectionTotal !== 'number' || !Number.isInteger(m.collectionTotal))
    throw invalidField('collectionTotal', 'an integer');
  if (m.collectionTotal !== b.resources.length) {
    throw new KmsError(
      'COLLECTION_TOTAL_MISMATCH_ERR',
      'The collectionTotal does not match the number of resources in the request',
      {
        type: 'field',
        name: 'collectionTotal',
      },
    );
  }
  const min = opts.min ?? 1;
  const max = opts.max ?? 1;
  if (b.resources.length < min || b.resources.length > max) {
    throw new KmsError(
      'NUM_COLLECTION_RESOURCE_ERR',
      `The request must hold ${min === max ? min : `${min} to ${max}`} resource(s)`,
      { type: 'field', name: 'resources' },
    );
  }
  return b.resources.map((r, i) => asObject(r, `resources[${i}]`));
}

/** A success envelope. */
export function envelope<T>(
  collectionType: string,
  resources: T[],
  extra: Record<string, number> = {},
): { metadata: Json; resources: T[] } {
  return { metadata: { collectionType, collectionTotal: resources.length, ...extra }, resources };
}

export function optString(o: Json, name: string): string | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidField(name, 'a string');
  return v;
}

export function optBool(o: Json, name: string): boolean | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalidField(name, 'a boolean');
  return v;
}

export function optStringArray(o: Json, name: string): string[] | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidField(name, 'an array of strings');
  return v as string[];
}

/** A strict-base64 field, decoded; undefined when absent. */
export function optBase64(o: Json, name: string, must = 'base64 encoded data'): Buffer | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  const out = typeof v === 'string' && v !== '' ? decodeBase64Strict(v) : undefined;
  if (!out) throw invalidField(name, `${must}: illegal base64 data`);
  return out;
}

// ---- query parameters --------------------------------------------------------

export type Query = Record<string, string | string[] | undefined>;

/** An empty value counts as absent: IBM's SDK core sends `limit=` for an unset parameter. */
export function qString(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw invalidField(name, 'given once', 'query_param');
  return v === '' ? undefined : v;
}

export function qInt(q: Query, name: string): number | undefined {
  const v = qString(q, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw invalidField(name, 'a non-negative integer', 'query_param');
  return Number(v);
}

export function qBool(q: Query, name: string): boolean | undefined {
  const v = qString(q, name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw invalidField(name, "'true' or 'false'", 'query_param');
  return v === 'true';
}

/** `state=1,2`: integers, comma-separated, no spaces. */
export function qIntList(q: Query, name: string): number[] | undefined {
  const v = qString(q, name);
  if (v === undefined) return undefined;
  if (!/^\d(,\d)*$/.test(v)) throw invalidField(name, 'a comma-separated list of integers 0 to 5', 'query_param');
  return v.split(',').map(Number);
}

/** Rejects query parameters the endpoint does not know. */
export function onlyQuery(q: Query, allowed: readonly string[]): void {
  for (const k of Object.keys(q)) {
    if (!allowed.includes(k))
      throw invalidField(
        k,
        `one of the parameters this endpoint accepts (${allowed.join(', ') || 'none'})`,
        'query_param',
      );
  }
}
