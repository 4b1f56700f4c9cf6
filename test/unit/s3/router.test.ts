import { describe, expect, it } from 'vitest';
import { S3Error } from '../../../src/s3/errors.js';
import type { OperationName, RoutedOperation } from '../../../src/s3/operations.js';
import { route } from '../../../src/s3/router.js';

type Headers = Record<string, string | string[] | undefined>;

function r(method: string, path: string, headers: Headers = {}): RoutedOperation {
  const q = path.indexOf('?');
  const p = q >= 0 ? path.slice(0, q) : path;
  const query = new URLSearchParams(q >= 0 ? path.slice(q + 1) : '');
  const rest = p.replace(/^\//, '');
  const slash = rest.indexOf('/');
  const bucket = rest === '' ? undefined : slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? undefined : rest.slice(slash + 1);
  return route(method, bucket, key, query, headers);
}

function routeError(method: string, path: string, headers: Headers = {}): S3Error {
  let op: RoutedOperation;
  try {
    op = r(method, path, headers);
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error(`${method} ${path} routed to ${op.name} instead of failing`);
}

/** The operation name, or the S3 error code when routing fails. */
function outcome(method: string, path: string): string {
  try {
    return r(method, path).name;
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

function outcomes(method: string, paths: string[]): Record<string, string> {
  return Object.fromEntries(paths.map((p) => [p, outcome(method, p)]));
}

function allNotImplemented(paths: string[]): Record<string, string> {
  return Object.fromEntries(paths.map((p) => [p, 'NotImplemented']));
}

const COPY = { 'x-amz-copy-source': '/src-bucket/src-key' };

/** One request per operation; `satisfies` makes tsc fail when an operation is added and not listed here. */
const EVERY_OPERATION = {
  ListBuckets: ['GET', '/'],
  CreateBucket: ['PUT', '/b'],
  DeleteBucket: ['DELETE', '/b'],
  HeadBucket: ['HEAD', '/b'],
  GetBucketLocation: ['GET', '/b?location'],
  ListObjects: ['GET', '/b'],
  ListObjectsV2: ['GET', '/b?list-type=2'],
  ListObjectVersions: ['GET', '/b?versions'],
  ListMultipartUploads: ['GET', '/b?uploads'],
  DeleteObjects: ['POST', '/b?delete'],
  GetBucketVersioning: ['GET', '/b?versioning'],
  PutBucketVersioning: ['PUT', '/b?versioning'],
  GetBucketAcl: ['GET', '/b?acl'],
  PutBucketAcl: ['PUT', '/b?acl'],
  GetBucketEncryption: ['GET', '/b?encryption'],
  PutBucketEncryption: ['PUT', '/b?encryption'],
  DeleteBucketEncryption: ['DELETE', '/b?encryption'],
  PutBucketCors: ['PUT', '/b?cors'],
  DeleteBucketCors: ['DELETE', '/b?cors'],
  GetBucketPolicy: ['GET', '/b?policy'],
  GetBucketCors: ['GET', '/b?cors'],
  GetBucketLifecycleConfiguration: ['GET', '/b?lifecycle'],
  PutBucketLifecycleConfiguration: ['PUT', '/b?lifecycle'],
  DeleteBucketLifecycle: ['DELETE', '/b?lifecycle'],
  GetBucketTagging: ['GET', '/b?tagging'],
  PutBucketTagging: ['PUT', '/b?tagging'],
  DeleteBucketTagging: ['DELETE', '/b?tagging'],
  GetBucketOwnershipControls: ['GET', '/b?ownershipControls'],
  PutBucketOwnershipControls: ['PUT', '/b?ownershipControls'],
  DeleteBucketOwnershipControls: ['DELETE', '/b?ownershipControls'],
  GetBucketWebsite: ['GET', '/b?website'],
  PutObject: ['PUT', '/b/k'],
  CopyObject: ['PUT', '/b/k', COPY],
  GetObject: ['GET', '/b/k'],
  HeadObject: ['HEAD', '/b/k'],
  DeleteObject: ['DELETE', '/b/k'],
  CreateMultipartUpload: ['POST', '/b/k?uploads'],
  UploadPart: ['PUT', '/b/k?partNumber=1&uploadId=u1'],
  UploadPartCopy: ['PUT', '/b/k?partNumber=1&uploadId=u1', COPY],
  CompleteMultipartUpload: ['POST', '/b/k?uploadId=u1'],
  AbortMultipartUpload: ['DELETE', '/b/k?uploadId=u1'],
  ListParts: ['GET', '/b/k?uploadId=u1'],
  GetObjectAcl: ['GET', '/b/k?acl'],
  GetObjectAttributes: ['GET', '/b/k?attributes'],
  PutObjectAcl: ['PUT', '/b/k?acl'],
  GetObjectTagging: ['GET', '/b/k?tagging'],
  PutObjectTagging: ['PUT', '/b/k?tagging'],
  DeleteObjectTagging: ['DELETE', '/b/k?tagging'],
  GetObjectLockConfiguration: ['GET', '/b?object-lock'],
  PutObjectLockConfiguration: ['PUT', '/b?object-lock'],
  GetObjectRetention: ['GET', '/b/k?retention'],
  PutObjectRetention: ['PUT', '/b/k?retention'],
  GetObjectLegalHold: ['GET', '/b/k?legal-hold'],
  PutObjectLegalHold: ['PUT', '/b/k?legal-hold'],
} satisfies Record<OperationName, [string, string] | [string, string, Headers]>;

describe('route: every operation is reachable', () => {
  for (const [name, [method, path, headers]] of Object.entries(EVERY_OPERATION) as [
    OperationName,
    [string, string, Headers?],
  ][]) {
    it(`${method} ${path}${headers ? ' + x-amz-copy-source' : ''} -> ${name}`, () => {
      const op = r(method, path, headers ?? {});
      expect(op.name).toBe(name);
      if (path === '/') expect(op).toEqual({ name });
      else if (path.slice(1).includes('/')) expect(op).toEqual({ name, bucket: 'b', key: 'k' });
      else expect(op).toEqual({ name, bucket: 'b' });
    });
  }

  it('accepts lower-case methods', () => {
    expect(r('get', '/b/k').name).toBe('GetObject');
    expect(r('put', '/b').name).toBe('CreateBucket');
  });

  it('treats an empty key (trailing slash after the bucket) as the bucket', () => {
    expect(route('GET', 'b', '', new URLSearchParams(), {})).toEqual({ name: 'ListObjects', bucket: 'b' });
    expect(route('DELETE', 'b', '', new URLSearchParams(), {})).toEqual({ name: 'DeleteBucket', bucket: 'b' });
  });

  it('passes keys through untouched', () => {
    expect(route('GET', 'b', 'a/b c+d/é?', new URLSearchParams(), {})).toEqual({
      name: 'GetObject',
      bucket: 'b',
      key: 'a/b c+d/é?',
    });
  });
});

describe('route: keyword and header precedence', () => {
  it('PUT ?uploadId with x-amz-copy-source is UploadPartCopy, without it UploadPart', () => {
    expect(r('PUT', '/b/k?uploadId=u&partNumber=3', COPY).name).toBe('UploadPartCopy');
    expect(r('PUT', '/b/k?uploadId=u&partNumber=3').name).toBe('UploadPart');
  });

  it('x-amz-copy-source turns PutObject into CopyObject, even when empty', () => {
    expect(r('PUT', '/b/k', COPY).name).toBe('CopyObject');
    expect(r('PUT', '/b/k', { 'x-amz-copy-source': '' }).name).toBe('CopyObject');
  });

  it('x-amz-copy-source does not change sub-resource operations or other methods', () => {
    expect(r('PUT', '/b/k?acl', COPY).name).toBe('PutObjectAcl');
    expect(r('PUT', '/b/k?tagging', COPY).name).toBe('PutObjectTagging');
    expect(r('GET', '/b/k', COPY).name).toBe('GetObject');
    expect(r('POST', '/b/k?uploads', COPY).name).toBe('CreateMultipartUpload');
    expect(r('PUT', '/b', COPY).name).toBe('CreateBucket');
  });

  it('POST ?uploads wins over ?uploadId (CreateMultipartUpload)', () => {
    expect(r('POST', '/b/k?uploads&uploadId=u').name).toBe('CreateMultipartUpload');
  });

  it('a keyword counts with or without a value', () => {
    expect(r('GET', '/b?location=').name).toBe('GetBucketLocation');
    expect(r('GET', '/b?location=x').name).toBe('GetBucketLocation');
    expect(r('POST', '/b/k?uploads=').name).toBe('CreateMultipartUpload');
  });

  it('list-type=2 selects ListObjectsV2; any other list-type is V1', () => {
    expect(r('GET', '/b?list-type=2&prefix=a&delimiter=/').name).toBe('ListObjectsV2');
    expect(r('GET', '/b?list-type=1').name).toBe('ListObjects');
    expect(r('GET', '/b?list-type=').name).toBe('ListObjects');
  });

  it('versions and versioning are different sub-resources', () => {
    expect(r('GET', '/b?versions&prefix=a').name).toBe('ListObjectVersions');
    expect(r('GET', '/b?versioning').name).toBe('GetBucketVersioning');
  });
});

describe('route: unknown query parameters are ignored', () => {
  it('x-id from the JS SDK does not change the operation', () => {
    expect(r('PUT', '/b/k?x-id=PutObject').name).toBe('PutObject');
    expect(r('PUT', '/b/k?x-id=CopyObject', COPY).name).toBe('CopyObject');
    expect(r('GET', '/b/k?x-id=GetObject').name).toBe('GetObject');
    expect(r('GET', '/b?list-type=2&x-id=ListObjectsV2').name).toBe('ListObjectsV2');
    expect(r('POST', '/b?delete&x-id=DeleteObjects').name).toBe('DeleteObjects');
    expect(r('PUT', '/b/k?x-id=UploadPart&partNumber=1&uploadId=u').name).toBe('UploadPart');
    expect(r('POST', '/b/k?uploads&x-id=CreateMultipartUpload').name).toBe('CreateMultipartUpload');
  });

  it('x-id naming a different operation is still ignored', () => {
    expect(r('GET', '/b/k?x-id=DeleteObject').name).toBe('GetObject');
  });

  it('response-* overrides, versionId, partNumber and presign parameters are ignored', () => {
    expect(r('GET', '/b/k?response-content-type=text/plain&response-content-disposition=attachment').name).toBe(
      'GetObject',
    );
    expect(r('GET', '/b/k?versionId=null').name).toBe('GetObject');
    expect(r('HEAD', '/b/k?partNumber=1').name).toBe('HeadObject');
    expect(r('GET', '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00').name).toBe('GetObject');
    expect(r('GET', '/b?prefix=a&delimiter=/&marker=m&max-keys=5&encoding-type=url').name).toBe('ListObjects');
    expect(r('GET', '/b?foo=bar').name).toBe('ListObjects');
  });

  it('a query parameter named like a keyword only by prefix is not that keyword (and, valueless, an unknown sub-resource)', () => {
    expect(outcome('GET', '/b?locations')).toBe('NotImplemented');
    expect(outcome('GET', '/b/k?aclx')).toBe('NotImplemented');
    expect(r('GET', '/b?locations=1').name).toBe('ListObjects');
  });
});

describe('route: unsupported sub-resources answer NotImplemented', () => {
  const BUCKET_ONLY = [
    'replication',
    'notification',
    'logging',
    'accelerate',
    'requestPayment',
    'publicAccessBlock',
    'analytics',
    'metrics',
    'inventory',
    'intelligent-tiering',
  ];
  for (const kw of BUCKET_ONLY) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      it(`${method} /b?${kw}`, () => {
        const e = routeError(method, `/b?${kw}`);
        expect(e.code).toBe('NotImplemented');
        expect(e.status).toBe(501);
        expect(e.message).toContain(kw);
      });
    }
  }

  // Every sub-resource we do not know, named or not, must not fall through to
  // the default operation: a listing for GET /b?policyStatus, an overwrite for
  // PUT /b/k?newThing, a delete for DELETE /b/k?newThing.
  it('GET /b?policyStatus and any unknown valueless parameter are NotImplemented, never ListObjects', () => {
    const paths = [
      '/b?policyStatus',
      '/b?policyStatus=',
      '/b?metadataTable',
      '/b?someFutureThing',
      '/b?list-type=2&someFutureThing',
      '/b?x-id=ListObjects&abac',
    ];
    expect(outcomes('GET', paths)).toEqual(allNotImplemented(paths));
    expect(routeError('GET', '/b?policyStatus').message).toContain('policyStatus');
  });
  it('an unknown valueless parameter on the default object and bucket operations is NotImplemented', () => {
    expect(outcomes('PUT', ['/b/k?someFutureThing', '/b?someFutureThing'])).toEqual(
      allNotImplemented(['/b/k?someFutureThing', '/b?someFutureThing']),
    );
    expect(outcomes('DELETE', ['/b/k?someFutureThing', '/b?someFutureThing'])).toEqual(
      allNotImplemented(['/b/k?someFutureThing', '/b?someFutureThing']),
    );
    expect(outcomes('HEAD', ['/b/k?someFutureThing', '/b?someFutureThing'])).toEqual(
      allNotImplemented(['/b/k?someFutureThing', '/b?someFutureThing']),
    );
  });
  it('the default operations still take their own parameters valueless', () => {
    expect(r('GET', '/b?prefix&delimiter&marker').name).toBe('ListObjects');
    expect(r('GET', '/b?list-type=2&continuation-token&start-after&fetch-owner').name).toBe('ListObjectsV2');
    expect(r('GET', '/b/k?versionId').name).toBe('GetObject');
    expect(r('DELETE', '/b/k?versionId').name).toBe('DeleteObject');
    expect(r('GET', '/b/k?response-content-type').name).toBe('GetObject');
  });

  it('an unsupported keyword wins over a supported one', () => {
    expect(routeError('GET', '/b?logging&location').code).toBe('NotImplemented');
  });

  // Bucket sub-resources we only implement for GET must not fall through to
  // CreateBucket / DeleteBucket for the other methods: DELETE /b?cors
  // (DeleteBucketCors) would delete an empty bucket, PUT /b?policy would answer
  // 200 without storing anything.
  const GET_ONLY_BUCKET = ['/b?policy', '/b?website'];
  it('PUT on a GET-only bucket sub-resource is NotImplemented, not CreateBucket', () => {
    expect(outcomes('PUT', GET_ONLY_BUCKET)).toEqual(allNotImplemented(GET_ONLY_BUCKET));
  });
  it('DELETE on a GET-only bucket sub-resource is NotImplemented, not DeleteBucket', () => {
    expect(outcomes('DELETE', GET_ONLY_BUCKET)).toEqual(allNotImplemented(GET_ONLY_BUCKET));
  });

  // Object sub-resources we do not implement must not fall through to
  // PutObject / GetObject: PUT /b/k?retention (PutObjectRetention) would
  // replace the object's data with the retention XML.
  it('PUT on an unsupported object sub-resource is NotImplemented, not PutObject', () => {
    const paths = ['/b/k?torrent', '/b/k?renameObject'];
    expect(outcomes('PUT', paths)).toEqual(allNotImplemented(paths));
  });
  it('GET on an unsupported object sub-resource is NotImplemented, not GetObject', () => {
    const paths = ['/b/k?torrent'];
    expect(outcomes('GET', paths)).toEqual(allNotImplemented(paths));
  });
  // Object Lock has no Delete operation: DELETE must not fall through to DeleteBucket / DeleteObject.
  it('DELETE ?object-lock, ?retention, ?legal-hold are NotImplemented, never a delete', () => {
    const paths = ['/b?object-lock', '/b/k?retention', '/b/k?legal-hold', '/b/k?retention&versionId=x'];
    expect(outcomes('DELETE', paths)).toEqual(allNotImplemented(paths));
    expect(outcome('HEAD', '/b/k?retention')).toBe('NotImplemented');
  });
  it('POST ?restore and ?select (RestoreObject, SelectObjectContent) are NotImplemented', () => {
    const paths = ['/b/k?restore', '/b/k?select&select-type=2'];
    expect(outcomes('POST', paths)).toEqual(allNotImplemented(paths));
  });
});

describe('route: MethodNotAllowed', () => {
  it('on the service: anything but GET', () => {
    for (const m of ['PUT', 'POST', 'DELETE', 'HEAD']) {
      const e = routeError(m, '/');
      expect(e.code).toBe('MethodNotAllowed');
      expect(e.status).toBe(405);
      expect(e.fields).toEqual({ Method: m, ResourceType: 'SERVICE' });
    }
  });

  it('POST on a bucket without a keyword is a browser form upload (PostObject)', () => {
    expect(r('POST', '/b')).toEqual({ name: 'PostObject', bucket: 'b' });
    expect(r('POST', '/b?x-id=PostObject')).toEqual({ name: 'PostObject', bucket: 'b' });
    expect(r('POST', '/b?delete')).toEqual({ name: 'DeleteObjects', bucket: 'b' });
  });

  it('on a bucket: POST with an unknown keyword, unknown methods', () => {
    expect(routeError('POST', '/b?uploads').fields).toEqual({ Method: 'POST', ResourceType: 'BUCKET' });
    expect(routeError('PATCH', '/b').fields).toEqual({ Method: 'PATCH', ResourceType: 'BUCKET' });
    expect(routeError('OPTIONS', '/b').code).toBe('MethodNotAllowed');
  });

  it('on an object: POST without ?uploads or ?uploadId, unknown methods', () => {
    const e = routeError('POST', '/b/k');
    expect(e.code).toBe('MethodNotAllowed');
    expect(e.fields).toEqual({ Method: 'POST', ResourceType: 'OBJECT' });
    expect(routeError('patch', '/b/k').fields).toEqual({ Method: 'PATCH', ResourceType: 'OBJECT' });
    expect(routeError('TRACE', '/b/k').code).toBe('MethodNotAllowed');
  });

  it('an unknown method on the object is refused even with x-amz-copy-source', () => {
    expect(routeError('PATCH', '/b/k', COPY).code).toBe('MethodNotAllowed');
  });
});
