import { describe, expect, it } from 'vitest';
import { S3Error } from '../../../src/s3/errors.js';
import { withParams, type RoutedOperation, type S3Operation } from '../../../src/s3/operations.js';

const PART_MESSAGE = 'Part number must be an integer between 1 and 10000, inclusive';

function params(name: RoutedOperation['name'], query: string): S3Operation {
  const op = (name === 'ListBuckets' ? { name } : { name, bucket: 'b', key: 'k' }) as Parameters<typeof withParams>[0];
  return withParams(op, new URLSearchParams(query));
}

function failure(name: RoutedOperation['name'], query: string): S3Error {
  try {
    params(name, query);
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error(`${name}?${query} was accepted`);
}

describe('withParams: UploadPart and UploadPartCopy', () => {
  for (const name of ['UploadPart', 'UploadPartCopy'] as const) {
    it(`${name} gets a typed uploadId and partNumber`, () => {
      expect(params(name, 'uploadId=u1&partNumber=3')).toEqual({
        name,
        bucket: 'b',
        key: 'k',
        uploadId: 'u1',
        partNumber: 3,
      });
      expect(params(name, 'uploadId=u1&partNumber=10000')).toMatchObject({ partNumber: 10000 });
      expect(params(name, 'uploadId=u1&partNumber=1')).toMatchObject({ partNumber: 1 });
    });

    it(`${name}: a partNumber that is not digits is InvalidArgument naming the value`, () => {
      for (const raw of ['abc', '', '-1', '1.5', '+1', ' 1', '0x10']) {
        const e = failure(name, `uploadId=u&partNumber=${encodeURIComponent(raw)}`);
        expect([e.code, e.status, e.message], raw).toEqual(['InvalidArgument', 400, PART_MESSAGE]);
        expect(e.fields).toEqual({ ArgumentName: 'partNumber', ArgumentValue: raw });
      }
      expect(failure(name, 'uploadId=u').fields).toEqual({ ArgumentName: 'partNumber', ArgumentValue: '' });
    });

    it(`${name}: a partNumber outside 1..10000 is InvalidArgument`, () => {
      for (const raw of ['0', '10001', '99999999999999999999']) {
        const e = failure(name, `uploadId=u&partNumber=${raw}`);
        expect([e.code, e.status, e.message], raw).toEqual(['InvalidArgument', 400, PART_MESSAGE]);
        expect(e.fields).toEqual({ ArgumentName: 'partNumber' });
      }
    });
  }
});

describe('withParams: GetObject and HeadObject', () => {
  for (const name of ['GetObject', 'HeadObject'] as const) {
    it(`${name} without partNumber has none`, () => {
      expect(params(name, '')).toEqual({ name, bucket: 'b', key: 'k' });
    });

    it(`${name} takes any integer partNumber (the service answers InvalidRange outside the parts)`, () => {
      expect(params(name, 'partNumber=2')).toEqual({ name, bucket: 'b', key: 'k', partNumber: 2 });
      expect(params(name, 'partNumber=0')).toMatchObject({ partNumber: 0 });
      expect(params(name, 'partNumber=20000')).toMatchObject({ partNumber: 20000 });
    });

    it(`${name}: a partNumber that is not an integer is InvalidArgument`, () => {
      for (const raw of ['abc', '1.5']) {
        const e = failure(name, `partNumber=${raw}`);
        expect([e.code, e.status, e.message], raw).toEqual(['InvalidArgument', 400, PART_MESSAGE]);
        expect(e.fields).toEqual({ ArgumentName: 'partNumber' });
      }
    });
  }
});

describe('withParams: operations on an upload', () => {
  for (const name of ['CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts'] as const) {
    it(`${name} gets a typed uploadId`, () => {
      expect(params(name, 'uploadId=u2')).toEqual({ name, bucket: 'b', key: 'k', uploadId: 'u2' });
      expect(params(name, 'uploadId=')).toMatchObject({ uploadId: '' });
    });
  }
});

describe('withParams: everything else passes through', () => {
  it('object, bucket and service operations are returned as routed', () => {
    expect(params('PutObject', 'partNumber=abc&uploadId=u')).toEqual({ name: 'PutObject', bucket: 'b', key: 'k' });
    expect(withParams({ name: 'ListObjects', bucket: 'b' }, new URLSearchParams('partNumber=x'))).toEqual({
      name: 'ListObjects',
      bucket: 'b',
    });
    expect(params('ListBuckets', '')).toEqual({ name: 'ListBuckets' });
  });
});
