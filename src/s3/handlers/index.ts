/** Exhaustive dispatch: S3Operation -> handler. tsc flags a missing case. */
import type { HandlerResult, S3RequestContext } from '../context.js';
import * as acl from './acl.js';
import * as bucket from './bucket.js';
import * as copy from './copy.js';
import * as cors from './cors.js';
import * as del from './delete.js';
import * as get from './get.js';
import * as lifecycle from './lifecycle.js';
import * as list from './list.js';
import * as mp from './multipart.js';
import * as lock from './objectLock.js';
import * as put from './put.js';
import * as sub from './subresources.js';

function assertNever(x: never): never {
  throw new Error(`unhandled operation ${JSON.stringify(x)}`);
}

export function dispatch(ctx: S3RequestContext): Promise<HandlerResult> {
  const op = ctx.op;
  if (op.name === 'ListBuckets') return bucket.handleListBuckets(ctx);
  if ('key' in op) {
    const { bucket: b, key: k } = op;
    switch (op.name) {
      case 'PutObject':
        return put.handlePutObject(ctx, b, k);
      case 'CopyObject':
        return copy.handleCopyObject(ctx, b, k);
      case 'GetObject':
        return get.handleGetObject(ctx, op);
      case 'HeadObject':
        return get.handleHeadObject(ctx, op);
      case 'GetObjectAttributes':
        return get.handleGetObjectAttributes(ctx, b, k);
      case 'DeleteObject':
        return del.handleDeleteObject(ctx, b, k);
      case 'CreateMultipartUpload':
        return mp.handleCreateMultipartUpload(ctx, b, k);
      case 'UploadPart':
        return mp.handleUploadPart(ctx, op);
      case 'UploadPartCopy':
        return copy.handleUploadPartCopy(ctx, op);
      case 'CompleteMultipartUpload':
        return mp.handleCompleteMultipartUpload(ctx, op);
      case 'AbortMultipartUpload':
        return mp.handleAbortMultipartUpload(ctx, op);
      case 'ListParts':
        return mp.handleListParts(ctx, op);
      case 'GetObjectAcl':
        return acl.handleGetObjectAcl(ctx, b, k);
      case 'PutObjectAcl':
        return acl.handlePutObjectAcl(ctx, b, k);
      case 'GetObjectTagging':
        return sub.handleGetObjectTagging(ctx, b, k);
      case 'PutObjectTagging':
        return sub.handlePutObjectTagging(ctx, b, k);
      case 'DeleteObjectTagging':
        return sub.handleDeleteObjectTagging(ctx, b, k);
      case 'GetObjectRetention':
        return lock.handleGetObjectRetention(ctx, b, k);
      case 'PutObjectRetention':
        return lock.handlePutObjectRetention(ctx, b, k);
      case 'GetObjectLegalHold':
        return lock.handleGetObjectLegalHold(ctx, b, k);
      case 'PutObjectLegalHold':
        return lock.handlePutObjectLegalHold(ctx, b, k);
      default:
        return assertNever(op);
    }
  }
  const b = op.bucket;
  switch (op.name) {
    case 'CreateBucket':
      return bucket.handleCreateBucket(ctx, b);
    case 'DeleteBucket':
      return bucket.handleDeleteBucket(ctx, b);
    case 'HeadBucket':
      return bucket.handleHeadBucket(ctx, b);
    case 'GetBucketLocation':
      return bucket.handleGetBucketLocation(ctx, b);
    case 'ListObjects':
      return list.handleListObjects(ctx, b);
    case 'ListObjectsV2':
      return list.handleListObjectsV2(ctx, b);
    case 'ListObjectVersions':
      return list.handleListObjectVersions(ctx, b);
    case 'ListMultipartUploads':
      return mp.handleListMultipartUploads(ctx, b);
    case 'DeleteObjects':
      return del.handleDeleteObjects(ctx, b);
    case 'GetBucketVersioning':
      return sub.handleGetBucketVersioning(ctx, b);
    case 'PutBucketVersioning':
      return sub.handlePutBucketVersioning(ctx, b);
    case 'GetBucketAcl':
      return acl.handleGetBucketAcl(ctx, b);
    case 'PutBucketAcl':
      return acl.handlePutBucketAcl(ctx, b);
    case 'GetBucketEncryption':
      return sub.handleGetBucketEncryption(ctx, b);
    case 'PutBucketEncryption':
      return sub.handlePutBucketEncryption(ctx, b);
    case 'DeleteBucketEncryption':
      return sub.handleDeleteBucketEncryption(ctx, b);
    case 'GetBucketPolicy':
      return sub.handleGetBucketPolicy(ctx, b);
    case 'GetBucketCors':
      return cors.handleGetBucketCors(ctx, b);
    case 'PutBucketCors':
      return cors.handlePutBucketCors(ctx, b);
    case 'DeleteBucketCors':
      return cors.handleDeleteBucketCors(ctx, b);
    case 'GetBucketLifecycleConfiguration':
      return lifecycle.handleGetBucketLifecycleConfiguration(ctx, b);
    case 'PutBucketLifecycleConfiguration':
      return lifecycle.handlePutBucketLifecycleConfiguration(ctx, b);
    case 'DeleteBucketLifecycle':
      return lifecycle.handleDeleteBucketLifecycle(ctx, b);
    case 'GetBucketTagging':
      return sub.handleGetBucketTagging(ctx, b);
    case 'PutBucketTagging':
      return sub.handlePutBucketTagging(ctx, b);
    case 'DeleteBucketTagging':
      return sub.handleDeleteBucketTagging(ctx, b);
    case 'GetBucketOwnershipControls':
      return acl.handleGetBucketOwnershipControls(ctx, b);
    case 'PutBucketOwnershipControls':
      return acl.handlePutBucketOwnershipControls(ctx, b);
    case 'DeleteBucketOwnershipControls':
      return acl.handleDeleteBucketOwnershipControls(ctx, b);
    case 'GetBucketWebsite':
      return sub.handleGetBucketWebsite(ctx, b);
    case 'GetObjectLockConfiguration':
      return lock.handleGetObjectLockConfiguration(ctx, b);
    case 'PutObjectLockConfiguration':
      return lock.handlePutObjectLockConfiguration(ctx, b);
    default:
      return assertNever(op);
  }
}
