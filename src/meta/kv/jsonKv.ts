/**
 * The storage seam of the KMS and IAM state (key store, key event feed,
 * instance state, IAM): JSON values under string keys, grouped in named spaces
 * (what LevelDB calls sublevels), with
 *
 *   - get / atomic, durable batches of puts and deletes,
 *   - ordered range iteration within a space (byte order of the UTF-8 keys),
 *   - named locks (`locks.run`) under which a read-modify-write of records is
 *     safe against every other holder of the same name: within one process for
 *     LevelDB (one process owns its directory), across processes for
 *     PostgreSQL (a row lock held for the duration),
 *   - change notices (`watch`): another process wrote these keys (PostgreSQL;
 *     LevelDB has no other writer and never calls it).
 *
 * levelJsonKv.ts keeps today's LevelDB layout byte for byte; pgJsonKv.ts puts
 * every store in one table of the shared database.
 */
import type { RawEntries } from '../../util/levelSnapshot.js';

export type KvOp =
  { type: 'put'; space: string; key: string; value: unknown } | { type: 'del'; space: string; key: string };

export interface KvRange {
  gt?: string;
  gte?: string;
  lt?: string;
  reverse?: boolean;
  limit?: number;
}

export interface KvLocks {
  /** Runs `fn` as the only holder of `name` (every process sharing the store); released when it settles. */
  run<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** Which keys another process changed (one notice per committed batch). */
export type KvWatcher = (changes: ReadonlyArray<{ space: string; key: string }>) => void;

export interface JsonKv {
  /** 'level' (embedded, one process) or 'pg' (shared by every process on the database). */
  readonly kind: 'level' | 'pg';
  readonly locks: KvLocks;
  get<T>(space: string, key: string): Promise<T | undefined>;
  /** Entries of one space in key order (reverse: descending). */
  list<T>(space: string, range?: KvRange): Promise<Array<[string, T]>>;
  /** Keys only. */
  keys(space: string, range?: KvRange): Promise<string[]>;
  /** All ops in one atomic, durable write. */
  write(ops: readonly KvOp[]): Promise<void>;
  /** Called when another process committed a write (PostgreSQL only); returns the unsubscribe. */
  watch(w: KvWatcher): () => void;
  /** A raw point-in-time copy for `coffer backup` (LevelDB only; a shared database is backed up by its own tools). */
  snapshot(): RawEntries;
  close(): Promise<void>;
}

/** Upper bound for a prefix range: higher than any character used in ids. */
export const HIGH = '\uffff';

export function prefixRange(prefix: string): { gt: string; lt: string } {
  return { gt: prefix, lt: prefix + HIGH };
}
