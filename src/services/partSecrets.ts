/**
 * What a part seals: its ETag and checksums, under the bucket DEK, bound to the
 * upload id and part number. One place for the identity so that the multipart
 * service (which seals) and GetObjectAttributes (which lists a completed
 * object's parts) open them alike.
 */
import type { PartRef } from '../meta/records.js';
import { openJson, type SealIdentity } from './sealedMeta.js';

export interface PartSecrets {
  etag: string;
  checksums: Record<string, string>;
}

export function partSealIdentity(bucketUid: string, key: string, uploadId: string, partNumber: number): SealIdentity {
  return { bucketUid, key, versionId: `${uploadId}:${partNumber}` };
}

/** Open the sealed ETag and checksums of a part (PartRef.sealedEtag is "<sealed>.<metaSalt>"). */
export function openPartSecrets(
  dek: Buffer,
  bucketUid: string,
  key: string,
  p: Pick<PartRef, 'sealedEtag' | 'uploadId' | 'partNumber'>,
): PartSecrets {
  const [sealed, metaSalt] = p.sealedEtag.split('.');
  return openJson<PartSecrets>(dek, partSealIdentity(bucketUid, key, p.uploadId, p.partNumber), metaSalt, sealed);
}
