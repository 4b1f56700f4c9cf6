/**
 * `coffer kms audit [--since T] [--key ID] [--action A] [--outcome success|failure] [--limit N]`:
 * the KMS audit log (GET /iam/v1/audit), newest last. The root account's owner
 * sees every entry; another account's owner the entries of its instances.
 */
import type { AuditEntry } from '../kms/audit.js';
import { CLIENT_OPTIONS, flag, int, parse, str, UsageError } from './args.js';
import { clientFrom } from './client.js';
import { json, table, type Io } from './output.js';

export const AUDIT_USAGE = `coffer kms audit [--since TIME] [--key ID] [--action ACTION] [--outcome success|failure] [--limit N] [--url URL] [--apikey KEY] [--json]

  TIME is RFC 3339 (2026-08-01T00:00:00Z) or a duration back from now (90s, 15m, 2h, 7d).
  ACTION is an API action (keyAction, deleteKey, ...) or a gateway call (wrap, unwrap, rewrap).`;

/** "15m" -> now - 15 minutes, as RFC 3339; an RFC 3339 date passes through. */
export function sinceOf(v: string, now = Date.now()): string {
  const m = /^(\d+)(s|m|h|d)$/.exec(v);
  if (m) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(m[1]) * unit).toISOString();
  }
  if (Number.isNaN(Date.parse(v)))
    throw new UsageError(`--since must be an RFC 3339 date or a duration like 15m, got "${v}"`);
  return v;
}

export async function runAudit(argv: string[], io: Io): Promise<number> {
  const options = {
    ...CLIENT_OPTIONS,
    since: { type: 'string' as const },
    key: { type: 'string' as const },
    action: { type: 'string' as const },
    outcome: { type: 'string' as const },
    limit: { type: 'string' as const },
  };
  const p = parse(argv, options, { usage: AUDIT_USAGE });
  if (flag(p, 'help')) {
    io.out(AUDIT_USAGE + '\n');
    return 0;
  }
  const since = str(p, 'since');
  const outcome = str(p, 'outcome');
  if (outcome !== undefined && outcome !== 'success' && outcome !== 'failure')
    throw new UsageError('--outcome must be success or failure');
  const api = clientFrom(p, io);
  const { entries } = await api.call<{ entries: AuditEntry[] }>('GET', '/iam/v1/audit', {
    query: {
      since: since === undefined ? undefined : sinceOf(since),
      key: str(p, 'key'),
      action: str(p, 'action'),
      outcome,
      limit: int(p, 'limit', 10_000),
    },
  });
  io.out(
    flag(p, 'json')
      ? json(entries)
      : table(
          entries,
          [
            { header: 'TIME', value: (e) => e.time },
            { header: 'IDENTITY', value: (e) => e.identity },
            { header: 'TENANT', value: (e) => e.tenant },
            { header: 'ACTION', value: (e) => e.action },
            { header: 'KEY', value: (e) => e.key },
            { header: 'VERSION', value: (e) => e.version },
            {
              header: 'OUTCOME',
              value: (e) =>
                e.outcome === 'failure' ? `failure ${e.status ?? ''} ${e.reason ?? ''}`.trim() : e.outcome,
            },
          ],
          '(no entries)',
        ),
  );
  return 0;
}
