import { describe, expect, it } from 'vitest';
import { CLIENT_OPTIONS, CliError, flag, int, parse, str, UsageError } from '../../../src/cli/args.js';
import { sinceOf } from '../../../src/cli/auditCommand.js';
import { describeError } from '../../../src/cli/client.js';
import { ConfigError, loadClientConfig } from '../../../src/config.js';

describe('cli args', () => {
  it('parses flags (both --x v and --x=v) and positionals; unknown flags and a wrong positional count are usage errors (exit 2)', () => {
    const p = parse(['k1', '--json', '--url=http://h:1', '--apikey', 'K'], CLIENT_OPTIONS, {
      min: 1,
      max: 1,
      usage: 'u',
    });
    expect(p.positionals).toEqual(['k1']);
    expect([flag(p, 'json'), str(p, 'url'), str(p, 'apikey'), str(p, 'instance')]).toEqual([
      true,
      'http://h:1',
      'K',
      undefined,
    ]);
    for (const argv of [['--nope'], [], ['a', 'b'], ['a', '--url']]) {
      const e = (() => {
        try {
          parse(argv, CLIENT_OPTIONS, { min: 1, max: 1, usage: 'coffer x <id>' });
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect(e, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((e as CliError).exitCode).toBe(2);
      expect((e as Error).message).toContain('coffer x <id>');
    }
    expect(parse(['--help'], CLIENT_OPTIONS, { min: 1, max: 1, usage: 'u' }).values.help).toBe(true);
  });

  it('int accepts 1..max only', () => {
    const opts = { limit: { type: 'string' as const } };
    expect(int(parse(['--limit', '5'], opts, { usage: 'u' }), 'limit')).toBe(5);
    for (const v of ['0', '-1', '1.5', 'x', '100001'])
      expect(() => int(parse([`--limit=${v}`], opts, { usage: 'u' }), 'limit', 100_000)).toThrow(UsageError);
  });

  it('--since: durations back from now, RFC 3339 passes through, anything else is a usage error', () => {
    const now = Date.parse('2026-08-01T12:00:00Z');
    expect(sinceOf('90s', now)).toBe('2026-08-01T11:58:30.000Z');
    expect(sinceOf('15m', now)).toBe('2026-08-01T11:45:00.000Z');
    expect(sinceOf('2h', now)).toBe('2026-08-01T10:00:00.000Z');
    expect(sinceOf('7d', now)).toBe('2026-07-25T12:00:00.000Z');
    expect(sinceOf('2026-07-01T00:00:00Z', now)).toBe('2026-07-01T00:00:00Z');
    expect(() => sinceOf('yesterday', now)).toThrow(UsageError);
  });

  it('API errors become one line: Key Protect reasons, IAM codes, or the status alone', () => {
    const kp = {
      metadata: {},
      resources: [
        {
          errorMsg: 'Conflict: ...',
          reasons: [{ code: 'PROTECTED_RESOURCE_ERR', message: 'The key has registrations', status: 409 }],
        },
      ],
    };
    expect(describeError(409, kp)).toBe('409 PROTECTED_RESOURCE_ERR: The key has registrations');
    expect(describeError(401, { resources: [{ errorMsg: 'Unauthorized: no access' }] })).toBe(
      '401: Unauthorized: no access',
    );
    expect(describeError(403, { errorCode: 'FORBIDDEN', errorMessage: 'no', status: 403 })).toBe('403 FORBIDDEN: no');
    expect(describeError(502, undefined)).toBe('the KMS API answered 502');
  });

  it('client config: flags over COFFER_KMS_URL / COFFER_API_KEY / COFFER_KMS_INSTANCE, default URL, bad values name their setting', () => {
    expect(loadClientConfig({})).toEqual({ url: 'http://127.0.0.1:9001', apiKey: '', instance: '' });
    expect(
      loadClientConfig({ COFFER_KMS_URL: 'http://kms:9/', COFFER_API_KEY: 'env', COFFER_KMS_INSTANCE: 'i-1' }),
    ).toEqual({ url: 'http://kms:9', apiKey: 'env', instance: 'i-1' });
    expect(
      loadClientConfig(
        { COFFER_KMS_URL: 'http://kms:9', COFFER_API_KEY: 'env' },
        { url: 'https://other', apiKey: 'flag', instance: 'i-2' },
      ),
    ).toEqual({ url: 'https://other', apiKey: 'flag', instance: 'i-2' });
    expect(() => loadClientConfig({ COFFER_KMS_URL: 'ftp://x' })).toThrow(/COFFER_KMS_URL/);
    expect(() => loadClientConfig({}, { url: 'nope' })).toThrow(ConfigError);
    expect(() => loadClientConfig({}, { instance: 'a b' })).toThrow(/--instance/);
  });
});
