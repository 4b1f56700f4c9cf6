/**
 * `coffer migrate [--meta-url URL]`: bring the PostgreSQL metadata schema up to
 * this version's (the same migrations every gateway runs at start), so an
 * operator can upgrade the database before rolling out new gateways. With no
 * URL (COFFER_META_URL unset) there is nothing to migrate: the embedded
 * LevelDB store has no schema. The URL is never printed (it may hold a password).
 */
import { ConfigError, loadConfig } from '../config.js';
import { CliError, flag, parse, str, UsageError } from './args.js';
import type { Io } from './output.js';

export const MIGRATE_USAGE = `coffer migrate [--meta-url URL]

  Apply pending schema migrations to the PostgreSQL metadata database
  (--meta-url or COFFER_META_URL, postgres://...). Gateways also do this at start.`;

export async function runMigrate(argv: string[], io: Io): Promise<number> {
  const p = parse(
    argv,
    { 'meta-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    { usage: MIGRATE_USAGE },
  );
  if (flag(p, 'help')) {
    io.out(MIGRATE_USAGE + '\n');
    return 0;
  }
  const url = str(p, 'meta-url');
  let metaUrl: string | undefined;
  try {
    metaUrl = loadConfig(io.env, url !== undefined ? { metaUrl: url } : {}).metaUrl;
  } catch (e) {
    if (e instanceof ConfigError)
      throw new UsageError(`invalid configuration: ${e.message.replace(/^metaUrl:/, '--meta-url:')}`);
    throw e;
  }
  if (!metaUrl)
    throw new UsageError(
      'no metadata database: set COFFER_META_URL or --meta-url to a postgres:// URL (the embedded LevelDB store needs no migration)',
    );
  const { migrateDatabase } = await import('../meta/pg/pgMetaStore.js');
  let r;
  try {
    r = await migrateDatabase(metaUrl);
  } catch (e) {
    throw new CliError(`migration failed: ${(e as Error).message}`);
  }
  io.out(
    r.applied.length
      ? `schema migrated from version ${r.from} to ${r.to} (applied ${r.applied.join(', ')})\n`
      : `schema is at version ${r.to}, nothing to do\n`,
  );
  return 0;
}
