/**
 * `coffer kms audit [--since T] [--key ID] [--action A] [--outcome success|failure] [--limit N]`:
 * the KMS audit log (GET /iam/v1/audit), newest last. The root account's owner
 * sees every entry; another account's owner the entries of its instances.
 *
 * `coffer kms audit verify [--data-dir DIR | --file PATH]`: proves the hash
 * chain of the log files themselves (no server needed: a copy of the files
 * can be verified anywhere). Exit 0 when intact, 1 naming the first broken line.
 */
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { verifyAuditLog, type AuditEntry } from '../kms/audit.js';
import { CliError, CLIENT_OPTIONS, flag, int, parse, str, UsageError } from './args.js';
import { clientFrom } from './client.js';
import { json, table, type Io } from './output.js';

export const AUDIT_USAGE = `coffer kms audit [--since TIME] [--key ID] [--action ACTION] [--outcome success|failure] [--limit N] [--url URL] [--apikey KEY] [--json]

  TIME is RFC 3339 (2026-08-01T00:00:00Z) or a duration back from now (90s, 15m, 2h, 7d).
  ACTION is the call's name: a key action (disable, enable, rotate, wrap, ...), another API
  call (createKey, deleteKey, ...), an IAM call (exchangeApiKey, createApiKey, createPolicy, ...)
  or a gateway call (wrap, unwrap, rewrap).

coffer kms audit verify [--data-dir DIR | --file PATH] [--json]

  Proves the log's hash chain across its rotated files (DIR/kms-audit.log by default,
  DIR from COFFER_DATA_DIR); names the first broken line and exits 1 if there is one.`;

const VERIFY_USAGE = 'coffer kms audit verify [--data-dir DIR | --file PATH] [--json]';

async function runVerify(argv: string[], io: Io): Promise<number> {
  const p = parse(
    argv,
    { 'data-dir': { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    { usage: VERIFY_USAGE },
  );
  if (flag(p, 'help')) {
    io.out(VERIFY_USAGE + '\n');
    return 0;
  }
  const file = str(p, 'file');
  const dataDir = str(p, 'data-dir');
  if (file !== undefined && dataDir !== undefined) throw new UsageError('give --data-dir or --file, not both');
  let path: string;
  if (file !== undefined) path = resolve(file);
  else {
    try {
      path = join(loadConfig(io.env, dataDir !== undefined ? { dataDir } : {}).dataDir, 'kms-audit.log');
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
      throw e;
    }
  }
  const r = await verifyAuditLog(path);
  if (flag(p, 'json')) io.out(json(r));
  for (const w of r.warnings) io.err(`warning: ${w}\n`);
  if (!r.ok) {
    const b = r.broken!;
    throw new CliError(`audit log BROKEN: ${b.file}${b.line > 0 ? ` line ${b.line}` : ''}: ${b.problem}`);
  }
  if (r.files.length === 0) throw new CliError(`no audit log at ${path}`);
  if (!flag(p, 'json'))
    io.out(
      `audit log OK: ${r.entries} chained entries in ${r.files.join(', ')}` +
        `${r.unchained > 0 ? ` (after ${r.unchained} from before the chain)` : ''}; last seq ${r.last.seq} hash ${r.last.hash}\n`,
    );
  return 0;
}

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
  if (argv[0] === 'verify') return runVerify(argv.slice(1), io);
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
