/**
 * Request bodies of the two REST adapters (the Key Protect API and the IAM
 * API): both are small JSON documents, read whole with a size limit. Failures
 * are a BodyError carrying the message both protocols send; each adapter turns
 * it into its own error shape (Key Protect: 400 BAD_BODY_ERR, IAM: 400
 * INVALID_INPUT or BXNIM0109E).
 */
import type { IncomingMessage } from 'node:http';

export type JsonObject = Record<string, unknown>;

export class BodyError extends Error {
  constructor(
    readonly problem: 'too-large' | 'not-json' | 'not-object',
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

function tooLarge(limit: number): BodyError {
  return new BodyError('too-large', `The request body is larger than ${limit} bytes`);
}

/** Reads the whole body, refusing more than `limit` bytes (declared or actual). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * A JSON object, or undefined for an empty body. `blankIsEmpty`: a body of
 * only whitespace counts as empty too (Key Protect) instead of as bad JSON (IAM).
 */
export function parseJsonObject(raw: Buffer, opts: { blankIsEmpty?: boolean } = {}): JsonObject | undefined {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  if (opts.blankIsEmpty && text.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BodyError('not-json', 'The request body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new BodyError('not-object', 'The request body must be a JSON object');
  return v as JsonObject;
}
