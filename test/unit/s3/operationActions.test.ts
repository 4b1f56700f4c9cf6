import { describe, expect, it } from 'vitest';
import { OPERATION_ACTIONS, actionOf } from '../../../src/s3/operationActions.js';
import { routedOperationNames } from '../../../src/s3/router.js';
import { knownAction } from '../../../src/services/access/s3Actions.js';
import { decodePublicAccessBlock, encodePublicAccessBlock } from '../../../src/s3/xml/publicAccessXml.js';
import { renderXml } from '../../../src/s3/xml/encode.js';

describe('the operation -> IAM action table', () => {
  it('has a row for every routed operation, naming actions a policy may name', () => {
    for (const name of routedOperationNames()) {
      const row = OPERATION_ACTIONS[name as keyof typeof OPERATION_ACTIONS];
      expect(row, name).toBeDefined();
      expect(knownAction(row.action), `${name}: ${row.action}`).toBeDefined();
      if (row.versionAction) expect(knownAction(row.versionAction), row.versionAction).toBeDefined();
    }
  });
  it('as AWS maps them', () => {
    expect(actionOf('GetObject', false).name).toBe('s3:GetObject');
    expect(actionOf('GetObject', true).name).toBe('s3:GetObjectVersion');
    expect(actionOf('HeadBucket', false).name).toBe('s3:ListBucket');
    expect(actionOf('ListObjectsV2', false).name).toBe('s3:ListBucket');
    expect(actionOf('DeleteObject', true).name).toBe('s3:DeleteObjectVersion');
    expect(actionOf('CompleteMultipartUpload', false).name).toBe('s3:PutObject');
    expect(actionOf('PutBucketCors', false).name).toBe('s3:PutBucketCORS');
    expect(actionOf('GetBucketPolicyStatus', false).name).toBe('s3:GetBucketPolicyStatus');
    expect(actionOf('ListBuckets', false).name).toBe('s3:ListAllMyBuckets');
  });
});

describe('PublicAccessBlockConfiguration', () => {
  it('absent switches are false; anything but true/false is MalformedXML', () => {
    expect(
      decodePublicAccessBlock(
        '<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>',
      ),
    ).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
    expect(() =>
      decodePublicAccessBlock(
        '<PublicAccessBlockConfiguration><IgnorePublicAcls>yes</IgnorePublicAcls></PublicAccessBlockConfiguration>',
      ),
    ).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
    expect(() => decodePublicAccessBlock('<Other/>')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
  });
  it('round-trips', () => {
    const cfg = {
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    };
    expect(decodePublicAccessBlock(renderXml(encodePublicAccessBlock(cfg)))).toEqual(cfg);
  });
});
