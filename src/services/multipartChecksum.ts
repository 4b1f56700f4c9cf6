/**
 * The checksum of a multipart object, as S3 defines it (x-amz-checksum-type):
 * COMPOSITE is the algorithm over the concatenated raw part checksums, written
 * "<base64>-<parts>"; FULL_OBJECT is the checksum of the whole object, which for
 * a CRC follows from the part CRCs and sizes (combineCrc), so it is computed
 * without reading the parts again. SHA digests are COMPOSITE only, CRC64NVME
 * is FULL_OBJECT only.
 */
import { createChecksum, type ChecksumAlgorithm } from '../util/checksums.js';
import { combineCrc, isCrc } from '../util/crcCombine.js';
import { DomainError } from './errors.js';

export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

const invalid = (m: string) => new DomainError('InvalidRequest', m);

/**
 * The checksum type of a new upload from CreateMultipartUpload's
 * x-amz-checksum-algorithm and x-amz-checksum-type (undefined: no algorithm).
 */
export function uploadChecksumType(
  alg: ChecksumAlgorithm | undefined,
  type: string | undefined,
): ChecksumType | undefined {
  if (type !== undefined && type !== 'COMPOSITE' && type !== 'FULL_OBJECT')
    throw invalid('Value for x-amz-checksum-type header is invalid.');
  if (!alg) {
    if (type !== undefined)
      throw invalid('The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const t: ChecksumType = type ?? (alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (t === 'COMPOSITE' && !['CRC32', 'CRC32C', 'SHA1', 'SHA256'].includes(alg))
    throw invalid(`The COMPOSITE checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`);
  if (t === 'FULL_OBJECT' && !isCrc(alg))
    throw invalid(`The FULL_OBJECT checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`);
  return t;
}

/** One part as CompleteMultipartUpload sees it. */
export interface CompletingPart {
  partNumber: number;
  size: number;
  /** Checksums computed when the part was uploaded (base64). */
  stored: Record<string, string>;
  /** Checksum<alg> elements the client sent for the part in the Complete body. */
  sent: Partial<Record<ChecksumAlgorithm, string>>;
}

/** What CompleteMultipartUpload's headers say of the whole object. */
export interface CompleteChecksumRequest {
  /** x-amz-checksum-<alg>: the client's checksum of the object. */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** x-amz-checksum-type. */
  type?: string;
}

function combined(alg: ChecksumAlgorithm, type: ChecksumType, parts: CompletingPart[]): string {
  if (type === 'COMPOSITE') {
    const cs = createChecksum(alg);
    for (const p of parts) cs.update(Buffer.from(p.stored[alg], 'base64'));
    return `${cs.digest().toString('base64')}-${parts.length}`;
  }
  let acc: Buffer = Buffer.from(parts[0].stored[alg], 'base64');
  for (const p of parts.slice(1)) acc = combineCrc(alg, acc, Buffer.from(p.stored[alg], 'base64'), p.size);
  return acc.toString('base64');
}

/**
 * Verify what the Complete request claims and give the object's checksums.
 * A part checksum that differs from the one computed at UploadPart is
 * InvalidPart; a COMPOSITE upload needs every part's checksum in the request
 * (InvalidRequest, as S3); a checksum type other than the upload's, or an
 * object checksum that does not match, is BadDigest.
 * @param upload the upload's algorithm and type (both undefined: none was chosen)
 */
export function completeChecksums(
  upload: { algorithm?: ChecksumAlgorithm; type?: ChecksumType },
  parts: CompletingPart[],
  req: CompleteChecksumRequest,
): Record<string, string> {
  for (const p of parts) {
    for (const [a, v] of Object.entries(p.sent)) {
      const have = p.stored[a];
      if (have !== undefined && have !== v) {
        throw new DomainError(
          'InvalidPart',
          "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
          { PartNumber: p.partNumber },
        );
      }
    }
  }
  const { algorithm: alg } = upload;
  if (!alg) return checksumWithoutAlgorithm(parts, req);
  const type = upload.type ?? (alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (type === 'COMPOSITE') {
    const missing = parts.find((p) => p.sent[alg] === undefined);
    if (missing)
      throw invalid(
        `The upload was created using a ${alg.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${missing.partNumber} in the request.`,
      );
  }
  if (req.type !== undefined && req.type !== type)
    throw new DomainError(
      'BadDigest',
      `The upload was created using the ${type} checksum mode. The complete request must use the same checksum mode.`,
    );
  const value = combined(alg, type, parts);
  if (req.checksum) {
    if (req.checksum.algorithm !== alg)
      throw invalid(
        `The upload was created using the ${alg.toLowerCase()} checksum algorithm. The complete request must use the same checksum algorithm.`,
      );
    // A composite value may be sent with or without its "-N".
    const sent = type === 'COMPOSITE' ? req.checksum.value.replace(/-\d+$/, '') : req.checksum.value;
    if (sent !== value.replace(/-\d+$/, ''))
      throw new DomainError(
        'BadDigest',
        `The ${alg.toLowerCase()} you specified did not match the calculated checksum.`,
      );
  }
  return { [alg]: value };
}

/**
 * An upload created without an algorithm: a full-object CRC the client sends
 * on Complete is verified when every part was uploaded with that CRC (as the
 * SDKs send it by default); otherwise it cannot be checked and is refused.
 */
function checksumWithoutAlgorithm(parts: CompletingPart[], req: CompleteChecksumRequest): Record<string, string> {
  if (!req.checksum) {
    if (req.type !== undefined)
      throw invalid(
        'The upload was not created with a checksum algorithm: x-amz-checksum-type cannot be used on its completion.',
      );
    return {};
  }
  const a = req.checksum.algorithm;
  if (req.type === 'COMPOSITE' || !isCrc(a) || parts.some((p) => p.stored[a] === undefined)) {
    throw invalid(
      `The upload was not created with the ${a.toLowerCase()} checksum algorithm, so its ${a.toLowerCase()} cannot be verified.`,
    );
  }
  const value = combined(a, 'FULL_OBJECT', parts);
  if (req.checksum.value !== value)
    throw new DomainError('BadDigest', `The ${a.toLowerCase()} you specified did not match the calculated checksum.`);
  return { [a]: value };
}
