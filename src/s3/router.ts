/**
 * (method, bucket, key, query, headers) -> RoutedOperation, or an S3Error. No I/O.
 * The operation's parameters are parsed after authentication (withParams).
 *
 * Dispatch is on method, then on the query "keyword" (?uploads, ?acl, ...),
 * then on headers only where AWS does (x-amz-copy-source tells CopyObject from
 * PutObject). Unknown query parameters (the JS SDK's x-id, response-*) are
 * ignored, as AWS ignores them.
 */
import { S3Error } from './errors.js';
import type { BucketOpName, ObjectOpName, RoutedOperation } from './operations.js';

type Rule<N> = [keyword: string | null, name: N];

const BUCKET_RULES: Record<string, Rule<BucketOpName>[]> = {
  GET: [
    ['location', 'GetBucketLocation'],
    ['uploads', 'ListMultipartUploads'],
    ['versioning', 'GetBucketVersioning'],
    ['versions', 'ListObjectVersions'],
    ['acl', 'GetBucketAcl'],
    ['encryption', 'GetBucketEncryption'],
    ['policy', 'GetBucketPolicy'],
    ['cors', 'GetBucketCors'],
    ['lifecycle', 'GetBucketLifecycleConfiguration'],
    ['tagging', 'GetBucketTagging'],
    ['ownershipControls', 'GetBucketOwnershipControls'],
    ['website', 'GetBucketWebsite'],
    ['object-lock', 'GetObjectLockConfiguration'],
    [null, 'ListObjects'],
  ],
  HEAD: [[null, 'HeadBucket']],
  PUT: [
    ['versioning', 'PutBucketVersioning'],
    ['acl', 'PutBucketAcl'],
    ['encryption', 'PutBucketEncryption'],
    ['cors', 'PutBucketCors'],
    ['lifecycle', 'PutBucketLifecycleConfiguration'],
    ['object-lock', 'PutObjectLockConfiguration'],
    ['tagging', 'PutBucketTagging'],
    ['ownershipControls', 'PutBucketOwnershipControls'],
    [null, 'CreateBucket'],
  ],
  DELETE: [
    ['encryption', 'DeleteBucketEncryption'],
    ['cors', 'DeleteBucketCors'],
    ['lifecycle', 'DeleteBucketLifecycle'],
    ['tagging', 'DeleteBucketTagging'],
    ['ownershipControls', 'DeleteBucketOwnershipControls'],
    [null, 'DeleteBucket'],
  ],
  POST: [['delete', 'DeleteObjects']],
};

const OBJECT_RULES: Record<string, Rule<ObjectOpName>[]> = {
  GET: [
    ['uploadId', 'ListParts'],
    ['acl', 'GetObjectAcl'],
    ['tagging', 'GetObjectTagging'],
    ['attributes', 'GetObjectAttributes'],
    ['retention', 'GetObjectRetention'],
    ['legal-hold', 'GetObjectLegalHold'],
    [null, 'GetObject'],
  ],
  HEAD: [[null, 'HeadObject']],
  PUT: [
    ['acl', 'PutObjectAcl'],
    ['tagging', 'PutObjectTagging'],
    ['retention', 'PutObjectRetention'],
    ['legal-hold', 'PutObjectLegalHold'],
    ['uploadId', 'UploadPart'],
    [null, 'PutObject'],
  ],
  DELETE: [
    ['uploadId', 'AbortMultipartUpload'],
    ['tagging', 'DeleteObjectTagging'],
    [null, 'DeleteObject'],
  ],
  POST: [
    ['uploads', 'CreateMultipartUpload'],
    ['uploadId', 'CompleteMultipartUpload'],
  ],
};

/** Bucket-level sub-resources we recognise but do not implement: answer NotImplemented, not ListObjects. */
const UNSUPPORTED_BUCKET_KEYWORDS: readonly string[] = [
  'replication',
  'notification',
  'logging',
  'accelerate',
  'requestPayment',
  'publicAccessBlock',
  'policyStatus',
  'analytics',
  'metrics',
  'inventory',
  'intelligent-tiering',
  'metadataTable',
  'metadataConfiguration',
  'session',
];

/**
 * The parameters each default operation (the rule without a keyword) takes,
 * besides those every request may carry (x-id, response-*, X-Amz-* of a
 * presigned URL). Any other parameter sent without a value names a
 * sub-resource we do not know: NotImplemented, never the default operation
 * (GET /b?someNewThing must not answer a listing, PUT /b/k?someNewThing must
 * not overwrite the object).
 */
const DEFAULT_OP_PARAMS: Record<string, readonly string[]> = {
  ListObjects: [
    'list-type',
    'prefix',
    'delimiter',
    'marker',
    'max-keys',
    'encoding-type',
    'continuation-token',
    'start-after',
    'fetch-owner',
  ],
  GetObject: ['versionId', 'partNumber'],
  HeadObject: ['versionId', 'partNumber'],
  DeleteObject: ['versionId'],
};

function unknownSubresource(op: string, query: URLSearchParams): string | undefined {
  const known = DEFAULT_OP_PARAMS[op] ?? [];
  for (const [name, value] of query) {
    if (value !== '' || name === 'x-id' || name.startsWith('response-') || /^x-amz-/i.test(name)) continue;
    if (!known.includes(name)) return name;
  }
  return undefined;
}

/**
 * Bucket sub-resources answered for GET only (their NoSuch... errors). Other
 * methods must not fall through to CreateBucket / DeleteBucket: DELETE /b?cors
 * would delete an empty bucket.
 */
const GET_ONLY_BUCKET_KEYWORDS: readonly string[] = ['policy', 'website'];

/**
 * Object sub-resources we do not implement. Without this, PUT /b/k?retention
 * would be a PutObject that replaces the data with the retention XML.
 */
const UNSUPPORTED_OBJECT_KEYWORDS: readonly string[] = ['torrent', 'restore', 'select', 'renameObject'];

function notImplemented(kw: string): S3Error {
  return new S3Error('NotImplemented', `The ${kw} sub-resource is not implemented.`);
}

export function route(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: URLSearchParams,
  headers: Record<string, string | string[] | undefined>,
): RoutedOperation {
  const m = method.toUpperCase();
  if (!bucket) {
    if (m === 'GET') return { name: 'ListBuckets' };
    throw new S3Error('MethodNotAllowed', undefined, { Method: m, ResourceType: 'SERVICE' });
  }
  if (key === undefined || key === '') {
    if (m === 'GET' || m === 'PUT' || m === 'DELETE') {
      for (const kw of UNSUPPORTED_BUCKET_KEYWORDS) if (query.has(kw)) throw notImplemented(kw);
    }
    if (m === 'PUT' || m === 'DELETE') {
      for (const kw of GET_ONLY_BUCKET_KEYWORDS) if (query.has(kw)) throw notImplemented(kw);
    }
    // POST /bucket without a keyword: a browser form upload (PostObject).
    // (With a sub-resource keyword, such as ?uploads, it is no upload: MethodNotAllowed below.)
    if (m === 'POST' && !query.has('delete') && unknownSubresource('PostObject', query) === undefined)
      return { name: 'PostObject', bucket };
    let name = pick(BUCKET_RULES[m], query);
    if (!name) throw new S3Error('MethodNotAllowed', undefined, { Method: m, ResourceType: 'BUCKET' });
    const unknown = isDefault(BUCKET_RULES[m], name) ? unknownSubresource(name, query) : undefined;
    if (unknown !== undefined) throw notImplemented(unknown);
    if (name === 'ListObjects' && query.get('list-type') === '2') name = 'ListObjectsV2';
    return { name, bucket };
  }
  for (const kw of UNSUPPORTED_OBJECT_KEYWORDS) if (query.has(kw)) throw notImplemented(kw);
  let name = pick(OBJECT_RULES[m], query);
  if (!name) throw new S3Error('MethodNotAllowed', undefined, { Method: m, ResourceType: 'OBJECT' });
  const unknown = isDefault(OBJECT_RULES[m], name) ? unknownSubresource(name, query) : undefined;
  if (unknown !== undefined) throw notImplemented(unknown);
  if (headers['x-amz-copy-source'] !== undefined) {
    if (name === 'PutObject') name = 'CopyObject';
    else if (name === 'UploadPart') name = 'UploadPartCopy';
  }
  return { name, bucket, key };
}

/** `name` is what the rules give when no keyword is present. */
function isDefault<N>(rules: Rule<N>[] | undefined, name: N): boolean {
  return !!rules && rules.some(([kw, n]) => kw === null && n === name);
}

function pick<N>(rules: Rule<N>[] | undefined, query: URLSearchParams): N | undefined {
  if (!rules) return undefined;
  for (const [kw, name] of rules) if (kw === null || query.has(kw)) return name;
  return undefined;
}

/**
 * Every operation name the router can produce: what the README's table of S3
 * operations lists as supported (test/unit/s3/operationTable.test.ts holds the
 * two together).
 */
export function routedOperationNames(): string[] {
  const names = new Set<string>(['ListBuckets', 'PostObject', 'ListObjectsV2', 'CopyObject', 'UploadPartCopy']);
  for (const rules of [BUCKET_RULES, OBJECT_RULES])
    for (const list of Object.values(rules)) for (const [, name] of list) names.add(name);
  return [...names].sort();
}
