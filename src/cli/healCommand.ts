/**
 * `coffer heal` and `coffer scrub`: one pass over every blob of the erasure-coded
 * drives (COFFER_DRIVES, two or more), offline. They run against a stopped
 * server's data dir and drives, taking the drives' lock (driveLock.ts) so they
 * refuse to run while a server holds the drives and a server refuses to start
 * while they run. A running server heals by itself (the background healer);
 * these are for an operator after a disk swap, before a restart, or to audit.
 *
 * scrub reads and verifies every block and reports; heal does the same and
 * rewrites every missing or corrupt shard it can. Which blobs: those the
 * metadata references (blobs no record names are skipped and left to the
 * server's start-up garbage sweep; referenced blobs no drive holds are reported
 * lost), or with --all-blobs every blob any drive holds a shard of, metadata
 * unread. Exit code 0 when nothing is left unrecoverable, 1 when something is
 * (or the pass failed), 2 on a usage error, 130 when interrupted (safe to rerun).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DrivesLockedError } from '../storage/erasure/driveLock.js';
import { ErasureBlobStore } from '../storage/erasure/erasureBlobStore.js';
import { RateLimiter } from '../storage/erasure/rateLimiter.js';
import { hasUnrecoverable, scrubStore } from '../storage/erasure/scrub.js';
import { openMetaStore } from '../server/stores.js';
import { createLogger } from '../util/logger.js';
import { CliError, flag, parse, str, UsageError } from './args.js';
import type { Io } from './output.js';
import { createReporter } from './progress.js';

export const HEAL_USAGE = `coffer heal  [--data-dir DIR] [--all-blobs] [--rate MIB_PER_S] [--json]
coffer scrub [--data-dir DIR] [--all-blobs] [--rate MIB_PER_S] [--json]

  Offline, with the server stopped: scrub reads and verifies every shard of every
  blob on the drives (COFFER_DRIVES) and reports per-drive counts; heal also
  rewrites missing and corrupt shards. Blobs are those the metadata references;
  --all-blobs checks every blob on the drives instead. --rate limits reads
  (MiB/s, default unlimited). A progress bar on a terminal; --json prints one
  JSON object per line. Exit 1 when anything is unrecoverable; safe to interrupt and rerun.`;

const OPTIONS = {
  'data-dir': { type: 'string' as const },
  'all-blobs': { type: 'boolean' as const },
  rate: { type: 'string' as const },
  json: { type: 'boolean' as const },
  help: { type: 'boolean' as const, short: 'h' },
};

function configOf(io: Io, dataDir: string | undefined): Config {
  try {
    return loadConfig(io.env, dataDir !== undefined ? { dataDir } : {});
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The data ids the metadata references; undefined with --all-blobs. */
async function referencedIds(config: Config): Promise<Set<string>> {
  // Opening LevelDB creates it: a mistyped --data-dir must not read as "nothing referenced".
  if (!config.metaUrl && !(await exists(join(config.dataDir, 'meta'))))
    throw new UsageError(
      `no metadata in ${join(config.dataDir, 'meta')}: check --data-dir (or COFFER_DATA_DIR), or pass --all-blobs`,
    );
  const meta = await openMetaStore(config, createLogger('silent'));
  try {
    const ids = new Set<string>();
    for await (const id of meta.referencedDataIds()) ids.add(id);
    return ids;
  } finally {
    await meta.close();
  }
}

export async function runHeal(verb: 'heal' | 'scrub', argv: string[], io: Io): Promise<number> {
  const p = parse(argv, OPTIONS, { usage: HEAL_USAGE });
  if (flag(p, 'help')) {
    io.out(HEAL_USAGE + '\n');
    return 0;
  }
  const rateText = str(p, 'rate');
  if (rateText !== undefined && !/^\d+(\.\d+)?$/.test(rateText))
    throw new UsageError('--rate must be a number of MiB per second');
  const rate = rateText === undefined ? 0 : Number(rateText) * 1024 * 1024;
  const config = configOf(io, str(p, 'data-dir'));
  if (config.dataS3Endpoint) throw new UsageError(`${verb} works on local drives; the data tier is S3`);
  if (!config.drives || config.drives.length < 2)
    throw new UsageError(
      `${verb} needs erasure-coded drives: COFFER_DRIVES names ${config.drives?.length ?? 0} (a single drive has no redundancy to check against)`,
    );
  const json = flag(p, 'json');
  const store = await ErasureBlobStore.open({ drives: config.drives, parity: config.parity ?? 0 });
  try {
    await store.lock(verb);
  } catch (e) {
    if (e instanceof DrivesLockedError)
      throw new CliError(`the drives are in use: ${e.message}; stop the server (or the other run) first`);
    throw e;
  }
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const reporter = createReporter(io, { json, tty: io.errIsTTY === true, verb });
    for (const d of store.openedDrives) {
      const path = store.driveRoots[d.index];
      const note = !d.present ? 'missing' : d.replaced ? 'new or replaced: will be refilled' : d.note;
      if (note) {
        if (json) io.out(JSON.stringify({ type: 'drive', index: d.index, path, note }) + '\n');
        else io.err(`${verb}: drive ${d.index} (${path}): ${note}\n`);
      }
    }
    const referenced = flag(p, 'all-blobs') ? undefined : await referencedIds(config);
    // No server runs (the lock says so), so no write is in flight: every temp file is garbage.
    const tempFiles = verb === 'heal' ? await store.sweepTemp(0) : 0;
    const limiter = new RateLimiter(rate);
    const summary = await scrubStore(store, {
      repair: verb === 'heal',
      referenced,
      count: true,
      signal: ac.signal,
      pace: (bytes, signal) => limiter.take(bytes, signal),
      onProgress: (pr) => reporter.progress(pr),
      onTrouble: (c) => reporter.trouble(c),
    });
    reporter.summary(summary, {
      k: store.k,
      m: store.m,
      ...(verb === 'heal' ? { tempFilesRemoved: tempFiles } : {}),
      drivesMissing: store.openedDrives.filter((d) => !d.present).map((d) => d.index),
    });
    if (!summary.complete) return 130;
    return hasUnrecoverable(summary) ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
  }
}
