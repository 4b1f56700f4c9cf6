/**
 * PublicAccessBlockConfiguration (Put/GetPublicAccessBlock) and PolicyStatus
 * (GetBucketPolicyStatus) documents.
 */
import type { PublicAccessBlock } from '../../services/accessControl.js';
import { S3Error } from '../errors.js';
import { child, parseXml, root, text } from './decode.js';
import type { XmlDoc } from './encode.js';

const SWITCHES = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

/** The four switches; an absent one is false, as S3 reads it. */
export function decodePublicAccessBlock(body: string): PublicAccessBlock {
  const r = root(parseXml(body), 'PublicAccessBlockConfiguration');
  const out = {} as PublicAccessBlock;
  for (const name of SWITCHES) {
    const v = text(child(r, name));
    if (v !== undefined && v !== 'true' && v !== 'false')
      throw new S3Error('MalformedXML', `${name} must be true or false.`);
    out[name] = v === 'true';
  }
  return out;
}

export function encodePublicAccessBlock(pab: PublicAccessBlock): XmlDoc {
  return {
    root: 'PublicAccessBlockConfiguration',
    body: Object.fromEntries(SWITCHES.map((n) => [n, pab[n]])),
  };
}

export function encodePolicyStatus(isPublic: boolean): XmlDoc {
  return { root: 'PolicyStatus', body: { IsPublic: isPublic } };
}
