import { describe, expect, it } from 'vitest';
import {
  checkResourceCrn,
  CrnFormatError,
  defaultClusterCrn,
  parseKeyCrn,
  sameInstance,
} from '../../../src/k8s/pluginCrn.js';

const KEY = 'crn:v1:coffer:local:kms:local:a/acct1:inst-1:key:key-1';

describe('plugin CRNs', () => {
  it('parses a root key CRN into the instance and key id', () => {
    expect(parseKeyCrn(KEY)).toEqual({
      crn: KEY,
      cname: 'coffer',
      ctype: 'local',
      region: 'local',
      account: 'acct1',
      instanceId: 'inst-1',
      keyId: 'key-1',
    });
  });

  it.each([
    'crn:v1:coffer:local:kms:local:a/acct1:inst-1::',
    'crn:v1:coffer:local:kms:local:a/acct1:inst-1:bucket:key-1',
    'crn:v1:coffer:local:cloud-object-storage:local:a/acct1:inst-1:key:key-1',
    'crn:v1:coffer:local:kms:local:acct1:inst-1:key:key-1',
    'crn:v2:coffer:local:kms:local:a/acct1:inst-1:key:key-1',
    'key-1',
  ])('refuses %s', (crn) => {
    expect(() => parseKeyCrn(crn)).toThrow(CrnFormatError);
  });

  it('derives the cluster CRN from the key and a name, and refuses names that would break it', () => {
    expect(defaultClusterCrn(parseKeyCrn(KEY), 'prod-east.1')).toBe(
      'crn:v1:coffer:local:kubernetes:local:a/acct1::cluster:prod-east.1',
    );
    for (const bad of ['', 'a:b', 'has space', '-lead', 'x'.repeat(129)])
      expect(() => defaultClusterCrn(parseKeyCrn(KEY), bad)).toThrow(CrnFormatError);
  });

  it('accepts a given cluster CRN only with a resource type and resource', () => {
    expect(checkResourceCrn('crn:v1:bluemix:public:containers-kubernetes:us-south:a/acct1:c1:cluster:c1')).toMatch(
      /cluster:c1$/,
    );
    expect(() => checkResourceCrn('crn:v1:bluemix:public:containers-kubernetes:us-south:a/acct1:c1::')).toThrow(
      CrnFormatError,
    );
  });

  it('sameInstance: another key of the instance, nothing else', () => {
    const key = parseKeyCrn(KEY);
    expect(sameInstance(key, 'crn:v1:coffer:local:kms:local:a/acct1:inst-1:key:key-2')?.keyId).toBe('key-2');
    expect(sameInstance(key, 'crn:v1:coffer:local:kms:local:a/acct1:inst-2:key:key-2')).toBeUndefined();
    expect(sameInstance(key, 'crn:v1:coffer:local:kms:local:a/acct2:inst-1:key:key-2')).toBeUndefined();
    expect(sameInstance(key, 'garbage')).toBeUndefined();
  });
});
