import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodyError, parseJsonObject, readBody } from '../../../src/restApi/body.js';

function req(chunks: Buffer[], headers: Record<string, string> = {}): IncomingMessage {
  return Object.assign(Readable.from(chunks), { headers }) as unknown as IncomingMessage;
}

describe('readBody', () => {
  it('returns the whole body up to the limit, and refuses a larger declared or actual one', async () => {
    expect(await readBody(req([Buffer.from('ab'), Buffer.from('c')]), 3)).toEqual(Buffer.from('abc'));
    await expect(readBody(req([Buffer.from('ab'), Buffer.from('cd')]), 3)).rejects.toMatchObject({
      problem: 'too-large',
      message: 'The request body is larger than 3 bytes',
    });
    await expect(readBody(req([Buffer.from('a')], { 'content-length': '4' }), 3)).rejects.toBeInstanceOf(BodyError);
  });
});

describe('parseJsonObject', () => {
  it('an empty body is undefined; a blank one only when asked', () => {
    expect(parseJsonObject(Buffer.alloc(0))).toBeUndefined();
    expect(parseJsonObject(Buffer.from(' \n'), { blankIsEmpty: true })).toBeUndefined();
    expect(() => parseJsonObject(Buffer.from(' \n'))).toThrow(expect.objectContaining({ problem: 'not-json' }));
  });

  it('accepts only a JSON object', () => {
    expect(parseJsonObject(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(() => parseJsonObject(Buffer.from('{"a":'))).toThrow(
      expect.objectContaining({ problem: 'not-json', message: 'The request body is not valid JSON' }),
    );
    for (const s of ['[1]', 'null', '"x"', '3']) {
      expect(() => parseJsonObject(Buffer.from(s))).toThrow(
        expect.objectContaining({ problem: 'not-object', message: 'The request body must be a JSON object' }),
      );
    }
  });
});
