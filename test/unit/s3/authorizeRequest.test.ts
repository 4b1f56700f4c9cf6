import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS_PRINCIPAL, conditionKeys, requestPrincipal } from '../../../src/s3/authorizeRequest.js';

const NOW = new Date('2026-12-08T01:00:00Z');
const principal = { accountId: 'acct-1', accessKeyId: 'AK', displayName: 'one' };

function ctx(opts: {
  headers?: IncomingHttpHeaders;
  query?: string;
  anonymous?: boolean;
  remote?: string;
  tls?: boolean;
}) {
  const req = {
    socket: { remoteAddress: opts.remote ?? '::ffff:192.0.2.7', encrypted: opts.tls },
  } as unknown as IncomingMessage;
  const anonymous = opts.anonymous ?? false;
  return {
    req,
    headers: opts.headers ?? {},
    query: new URLSearchParams(opts.query ?? ''),
    anonymous,
    principal: anonymous ? ANONYMOUS_PRINCIPAL : principal,
  };
}

describe('conditionKeys', () => {
  it('the global keys: source address (IPv4-mapped form stripped), transport, time, principal account', () => {
    const c = conditionKeys(ctx({ tls: true }), 'GetObject', undefined, NOW);
    expect(c['aws:SourceIp']).toEqual(['192.0.2.7']);
    expect(c['aws:SecureTransport']).toEqual(['true']);
    expect(c['aws:CurrentTime']).toEqual(['2026-12-08T01:00:00.000Z']);
    expect(c['aws:PrincipalAccount']).toEqual(['acct-1']);
    expect(conditionKeys(ctx({ remote: '::1' }), 'GetObject', undefined, NOW)['aws:SecureTransport']).toEqual([
      'false',
    ]);
    expect(conditionKeys(ctx({ remote: '::1' }), 'GetObject', undefined, NOW)['aws:SourceIp']).toEqual(['::1']);
  });

  it('an anonymous request has no principal account', () => {
    const x = ctx({ anonymous: true });
    expect(conditionKeys(x, 'GetObject', undefined, NOW)['aws:PrincipalAccount']).toBeUndefined();
    expect(requestPrincipal(x)).toBeNull();
    expect(requestPrincipal(ctx({}))).toEqual({ accountId: 'acct-1' });
  });

  it('s3:prefix, s3:max-keys, s3:delimiter for listings only, as sent', () => {
    const q = 'list-type=2&prefix=a%2Fb&max-keys=5&delimiter=%2F';
    const c = conditionKeys(ctx({ query: q }), 'ListObjectsV2', undefined, NOW);
    expect([c['s3:prefix'], c['s3:max-keys'], c['s3:delimiter']]).toEqual([['a/b'], ['5'], ['/']]);
    expect(conditionKeys(ctx({ query: 'prefix=' }), 'ListObjects', undefined, NOW)['s3:prefix']).toEqual(['']);
    expect(conditionKeys(ctx({}), 'ListObjects', undefined, NOW)['s3:prefix']).toBeUndefined();
    expect(conditionKeys(ctx({ query: 'prefix=x' }), 'GetObject', undefined, NOW)['s3:prefix']).toBeUndefined();
  });

  it('the write headers, request tags from x-amz-tagging and the stored object tags', () => {
    const c = conditionKeys(
      ctx({
        headers: {
          'x-amz-acl': 'public-read',
          'x-amz-server-side-encryption': 'aws:kms',
          'x-amz-server-side-encryption-aws-kms-key-id': 'key-1',
          'x-amz-tagging': 'team=blue&env=prod',
        },
      }),
      'PutObject',
      { class: 'secret' },
      NOW,
    );
    expect(c['s3:x-amz-acl']).toEqual(['public-read']);
    expect(c['s3:x-amz-server-side-encryption']).toEqual(['aws:kms']);
    expect(c['s3:x-amz-server-side-encryption-aws-kms-key-id']).toEqual(['key-1']);
    expect(c['s3:RequestObjectTag/team']).toEqual(['blue']);
    expect(c['s3:RequestObjectTagKeys']).toEqual(['team', 'env']);
    expect(c['s3:ExistingObjectTag/class']).toEqual(['secret']);
  });
});
