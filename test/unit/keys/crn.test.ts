import { describe, expect, it } from 'vitest';
import {
  assertResourceCrn,
  CrnError,
  formatBucketCrn,
  formatKeyCrn,
  isKeyCrn,
  parseKeyCrn,
} from '../../../src/keys/crn.js';
import { KmsError } from '../../../src/keys/errors.js';

const KP =
  'crn:v1:bluemix:public:kms:us-south:a/f047b55a3362ac06afad8a3f2f5586ea:12e8c9c2-a162-472d-b7d6-8b9a86b815a6:key:02fd6835-6001-4482-a892-13bd2085f75d';

function err(crn: string): CrnError {
  try {
    parseKeyCrn(crn);
  } catch (e) {
    if (e instanceof CrnError) return e;
    throw e;
  }
  throw new Error(`${crn} parsed`);
}

describe('parseKeyCrn', () => {
  it('parses a Key Protect root key CRN', () => {
    expect(parseKeyCrn(KP)).toEqual({
      cname: 'bluemix',
      ctype: 'public',
      region: 'us-south',
      account: 'f047b55a3362ac06afad8a3f2f5586ea',
      instanceId: '12e8c9c2-a162-472d-b7d6-8b9a86b815a6',
      keyId: '02fd6835-6001-4482-a892-13bd2085f75d',
    });
  });

  it('round-trips Coffer CRNs', () => {
    const crn = formatKeyCrn({ region: 'local', account: 'acct', instanceId: 'inst-1', keyId: 'k-1' });
    expect(crn).toBe('crn:v1:coffer:local:kms:local:a/acct:inst-1:key:k-1');
    expect(parseKeyCrn(crn)).toMatchObject({
      cname: 'coffer',
      ctype: 'local',
      account: 'acct',
      instanceId: 'inst-1',
      keyId: 'k-1',
    });
    expect(formatKeyCrn({ ...parseKeyCrn(KP) })).toBe(KP);
  });

  it('rejects an instance CRN ending "::" saying the resource type must be key', () => {
    const e = err('crn:v1:bluemix:public:kms:us-south:a/acct:12e8c9c2-a162-472d-b7d6-8b9a86b815a6::');
    expect(e.message).toMatch(/resource type .* missing or invalid\. Supported value: key/);
    expect(e).toBeInstanceOf(KmsError);
    expect(e.status).toBe(400);
    expect(e.reason).toBe('INVALID_FIELD_ERR');
    expect(err('crn:v1:bluemix:public:kms:us-south:a/acct:guid').message).toMatch(/Supported value: key/);
  });

  it.each([
    ['', /empty/],
    ['crn:v2:bluemix:public:kms:us-south:a/a:g:key:k', /crn:v1:/],
    ['urn:v1:bluemix:public:kms:us-south:a/a:g:key:k', /crn:v1:/],
    ['crn:v1:bluemix:public:kms:us-south:a/a:g:key', /10 colon-separated segments, got 9/],
    ['crn:v1:bluemix:public:kms:us-south:a/a:g:key:k:extra', /got 11/],
    ['crn:v1:bluemix:public:kms:us-south:a/a:g:bucket:k', /Supported value: key/],
    ['crn:v1:bluemix:public:kms:us-south:a/a:g:KEY:k', /Supported value: key/],
    ['crn:v1:bluemix:public:kms:us-south:a/a::key:k', /instance/],
    ['crn:v1:bluemix:public:kms:us-south:a/a:g:key:', /key id/],
    ['crn:v1:bluemix:public:kms:us-south:a/:g:key:k', /a\/<account id>/],
    ['crn:v1:bluemix:public:kms:us-south:acct:g:key:k', /a\/<account id>/],
    ['crn:v1:bluemix:public:kms::a/a:g:key:k', /region/],
    ['crn:v1::public:kms:us-south:a/a:g:key:k', /cname and ctype/],
    ['crn:v1:bluemix:public:cloud-object-storage:global:a/a:g:key:k', /service name must be "kms"/],
    ['crn:v1:bluemix:public:kms:us-south:a/a:g g:key:k', /instance/],
    [`crn:v1:bluemix:public:kms:us-south:a/a:g:key:${'k'.repeat(600)}`, /longer than/],
  ])('rejects %s', (crn, msg) => {
    expect(err(crn).message).toMatch(msg);
  });

  it('isKeyCrn never throws', () => {
    expect(isKeyCrn(KP)).toBe(true);
    expect(isKeyCrn('nope')).toBe(false);
  });

  it('refuses to format a CRN with a ":" inside a segment', () => {
    expect(() => formatKeyCrn({ region: 'r', account: 'a:b', instanceId: 'i', keyId: 'k' })).toThrow(CrnError);
  });
});

describe('bucket CRNs', () => {
  it('formats the registration resource CRN', () => {
    const crn = formatBucketCrn({ account: 'acct', instance: 'cos-1', bucket: 'photos' });
    expect(crn).toBe('crn:v1:coffer:local:cloud-object-storage:global:a/acct:cos-1:bucket:photos');
    expect(() => assertResourceCrn(crn)).not.toThrow();
  });

  it('validates resource CRNs for registrations', () => {
    expect(() => assertResourceCrn('crn:v1:a:b:c:d:a/x:i::')).toThrow(/resourceCrn/);
    expect(() => assertResourceCrn('bucket')).toThrow(KmsError);
  });
});
