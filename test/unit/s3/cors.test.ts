import { describe, expect, it } from 'vitest';
import { corsHeaders, matchRule, preflight, wildcardMatch } from '../../../src/s3/cors.js';
import type { CorsRule } from '../../../src/services/types.js';

const rules: CorsRule[] = [
  {
    id: 'app',
    allowedOrigins: ['https://*.example.com'],
    allowedMethods: ['GET', 'PUT'],
    allowedHeaders: ['x-amz-*', 'Content-Type'],
    exposeHeaders: ['ETag'],
    maxAgeSeconds: 600,
  },
  { allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] },
];

describe('wildcardMatch', () => {
  it('matches one * anywhere, and exact strings exactly', () => {
    expect(wildcardMatch('*', 'anything')).toBe(true);
    expect(wildcardMatch('https://*.example.com', 'https://app.example.com')).toBe(true);
    expect(wildcardMatch('https://*.example.com', 'https://example.com')).toBe(false);
    expect(wildcardMatch('https://*.example.com', 'http://app.example.com')).toBe(false);
    expect(wildcardMatch('x-amz-*', 'x-amz-date')).toBe(true);
    expect(wildcardMatch('ab*ba', 'aba')).toBe(false);
    expect(wildcardMatch('https://a.com', 'https://a.com.evil')).toBe(false);
  });
});

describe('matchRule', () => {
  it('takes the first rule allowing origin, method and every requested header', () => {
    expect(matchRule(rules, 'https://app.example.com', 'PUT', ['x-amz-date', 'content-type'])?.id).toBe('app');
    expect(matchRule(rules, 'https://app.example.com', 'PUT', ['x-custom'])).toBeUndefined();
    expect(matchRule(rules, 'https://other.org', 'GET')).toBe(rules[1]);
    expect(matchRule(rules, 'https://other.org', 'DELETE')).toBeUndefined();
    expect(matchRule(rules, 'https://other.org', 'GET', ['x-amz-date'])).toBeUndefined();
  });
});

describe('corsHeaders', () => {
  it('names the origin (with credentials) unless the rule says *, and never * for a request with credentials', () => {
    expect(corsHeaders({ rule: rules[0]!, origin: 'https://a.example.com', credentials: false })).toEqual({
      'access-control-allow-origin': 'https://a.example.com',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'ETag',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    });
    const star = corsHeaders({ rule: rules[1]!, origin: 'https://x.org', credentials: false });
    expect(star['access-control-allow-origin']).toBe('*');
    expect(star['access-control-allow-credentials']).toBeUndefined();
    const cred = corsHeaders({ rule: rules[1]!, origin: 'https://x.org', credentials: true });
    expect(cred['access-control-allow-origin']).toBe('https://x.org');
  });
});

describe('preflight', () => {
  const req = {
    origin: 'https://app.example.com',
    method: 'PUT',
    headers: 'X-Amz-Date, content-type',
    resourceType: 'OBJECT' as const,
  };
  it('answers the allowed methods, the requested headers and the max age', () => {
    const h = preflight({ exists: true, rules }, req);
    expect(h['access-control-allow-origin']).toBe('https://app.example.com');
    expect(h['access-control-allow-headers']).toBe('x-amz-date, content-type');
    expect(h['access-control-max-age']).toBe('600');
  });
  it('refuses as S3 does', () => {
    expect(() => preflight({ exists: true, rules }, { ...req, origin: undefined })).toThrow(
      expect.objectContaining({ code: 'BadRequest', status: 400 }),
    );
    expect(() => preflight({ exists: true, rules }, { ...req, method: undefined })).toThrow(
      expect.objectContaining({ code: 'BadRequest' }),
    );
    expect(() => preflight({ exists: true }, req)).toThrow(
      expect.objectContaining({
        code: 'AccessForbidden',
        status: 403,
        message: 'CORSResponse: CORS is not enabled for this bucket.',
      }),
    );
    expect(() => preflight({ exists: false }, req)).toThrow(expect.objectContaining({ code: 'AccessForbidden' }));
    expect(() => preflight({ exists: true, rules }, { ...req, method: 'DELETE' })).toThrow(
      expect.objectContaining({
        code: 'AccessForbidden',
        message: expect.stringMatching(/^CORSResponse: This CORS request is not allowed/),
      }),
    );
  });
});
