import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { KmsError } from '../../../../src/keys/errors.js';
import {
  onlyFields,
  optBase64,
  parseEnvelope,
  parseJsonObject,
  qBool,
  qInt,
  qIntList,
  qString,
  readBody,
} from '../../../../src/kms/api/schema.js';

const KEY = 'application/vnd.ibm.kms.key+json';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KmsError);
    return `${(e as KmsError).status} ${(e as KmsError).reason}`;
  }
  throw new Error('expected a KmsError');
}

function req(body: Buffer, headers: Record<string, string> = {}): IncomingMessage {
  return Object.assign(Readable.from([body]), { headers }) as unknown as IncomingMessage;
}

describe('collection envelope', () => {
  it('returns the resources of a well-formed envelope', () => {
    expect(
      parseEnvelope({ metadata: { collectionType: KEY, collectionTotal: 1 }, resources: [{ name: 'k' }] }, [KEY]),
    ).toEqual([{ name: 'k' }]);
  });

  it('rejects a missing body, wrong type, total mismatch, resource count, unknown fields and non-object resources', () => {
    expect(reason(() => parseEnvelope(undefined, [KEY]))).toBe('400 NO_BODY_ERR');
    expect(
      reason(() => parseEnvelope({ metadata: { collectionType: 'x', collectionTotal: 1 }, resources: [{}] }, [KEY])),
    ).toBe('400 INVALID_FIELD_ERR');
    expect(
      reason(() => parseEnvelope({ metadata: { collectionType: KEY, collectionTotal: 2 }, resources: [{}] }, [KEY])),
    ).toBe('400 COLLECTION_TOTAL_MISMATCH_ERR');
    expect(
      reason(() =>
        parseEnvelope({ metadata: { collectionType: KEY, collectionTotal: 2 }, resources: [{}, {}] }, [KEY]),
      ),
    ).toBe('400 NUM_COLLECTION_RESOURCE_ERR');
    expect(
      reason(() =>
        parseEnvelope({ metadata: { collectionType: KEY, collectionTotal: 1 }, resources: [{}], extra: 1 }, [KEY]),
      ),
    ).toBe('400 BAD_BODY_ERR');
    expect(
      reason(() =>
        parseEnvelope({ metadata: { collectionType: KEY, collectionTotal: 1, x: 1 }, resources: [{}] }, [KEY]),
      ),
    ).toBe('400 BAD_BODY_ERR');
    expect(
      reason(() => parseEnvelope({ metadata: { collectionType: KEY, collectionTotal: 1 }, resources: ['k'] }, [KEY])),
    ).toBe('400 INVALID_FIELD_ERR');
    expect(
      reason(() => parseEnvelope({ metadata: { collectionType: KEY, collectionTotal: '1' }, resources: [{}] }, [KEY])),
    ).toBe('400 INVALID_FIELD_ERR');
    expect(reason(() => onlyFields({ name: 'a', nmae: 'b' }, ['name']))).toBe('400 BAD_BODY_ERR');
  });
});

describe('bodies and fields', () => {
  it('parses JSON objects; an empty body is undefined; anything else is BAD_BODY_ERR', () => {
    expect(parseJsonObject(Buffer.alloc(0))).toBeUndefined();
    expect(parseJsonObject(Buffer.from(' \n'))).toBeUndefined();
    expect(parseJsonObject(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(reason(() => parseJsonObject(Buffer.from('{"a":')))).toBe('400 BAD_BODY_ERR');
    expect(reason(() => parseJsonObject(Buffer.from('[1]')))).toBe('400 BAD_BODY_ERR');
  });

  it('strict base64 only', () => {
    expect(optBase64({ p: 'AAEC' }, 'p')).toEqual(Buffer.from([0, 1, 2]));
    expect(optBase64({}, 'p')).toBeUndefined();
    expect(reason(() => optBase64({ p: 'AA=C' }, 'p'))).toBe('400 INVALID_FIELD_ERR');
    expect(reason(() => optBase64({ p: '' }, 'p'))).toBe('400 INVALID_FIELD_ERR');
    expect(reason(() => optBase64({ p: 5 }, 'p'))).toBe('400 INVALID_FIELD_ERR');
  });

  it('limits the body by declared and by actual size', async () => {
    expect(await readBody(req(Buffer.from('abc')), 3)).toEqual(Buffer.from('abc'));
    await expect(readBody(req(Buffer.alloc(4)), 3)).rejects.toMatchObject({ status: 400, reason: 'BAD_BODY_ERR' });
    await expect(readBody(req(Buffer.alloc(1), { 'content-length': '99' }), 3)).rejects.toMatchObject({ status: 400 });
  });
});

describe('query parameters', () => {
  it('treats empty values as absent (IBM SDK core sends limit=) and parses strictly', () => {
    expect(qString({ a: '' }, 'a')).toBeUndefined();
    expect(qInt({ limit: '10' }, 'limit')).toBe(10);
    expect(reason(() => qInt({ limit: '-1' }, 'limit'))).toBe('400 INVALID_FIELD_ERR');
    expect(qBool({ f: 'true' }, 'f')).toBe(true);
    expect(reason(() => qBool({ f: 'yes' }, 'f'))).toBe('400 INVALID_FIELD_ERR');
    expect(qIntList({ state: '1,2,5' }, 'state')).toEqual([1, 2, 5]);
    expect(reason(() => qIntList({ state: '1, 2' }, 'state'))).toBe('400 INVALID_FIELD_ERR');
    expect(reason(() => qString({ a: ['1', '2'] }, 'a'))).toBe('400 INVALID_FIELD_ERR');
  });
});
