/**
 * The JsonKv seam (jsonKv.ts) over one LevelDB database, each space a sublevel:
 * exactly the layout the stores wrote before the seam existed (`!space!key`,
 * JSON values, or UTF-8 for the spaces named in `utf8Spaces`), so existing data
 * dirs open unchanged. Writes are synced batches; locks are in-process (LevelDB
 * lets one process open a directory).
 */
import { Level } from 'level';
import { KeyedMutex } from '../../util/keyedMutex.js';
import { levelSnapshot, type RawEntries } from '../../util/levelSnapshot.js';
import { ensurePrivateDir } from '../../util/privateDir.js';
import type { JsonKv, KvLocks, KvOp, KvRange } from './jsonKv.js';

type Db = Level<string, unknown>;
type Sub = ReturnType<Db['sublevel']>;

export class LevelJsonKv implements JsonKv {
  readonly kind = 'level';
  readonly locks: KvLocks = new KeyedMutex();
  private readonly subs = new Map<string, Sub>();

  private constructor(
    private readonly db: Db,
    private readonly utf8Spaces: ReadonlySet<string>,
  ) {}

  static async open(dir: string, opts: { utf8Spaces?: readonly string[] } = {}): Promise<LevelJsonKv> {
    await ensurePrivateDir(dir);
    const db: Db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
    await db.open();
    return new LevelJsonKv(db, new Set(opts.utf8Spaces ?? []));
  }

  private sub(space: string): Sub {
    let s = this.subs.get(space);
    if (!s) {
      s = this.db.sublevel<string, unknown>(space, {
        valueEncoding: this.utf8Spaces.has(space) ? 'utf8' : 'json',
      }) as unknown as Sub;
      this.subs.set(space, s);
    }
    return s;
  }

  async get<T>(space: string, key: string): Promise<T | undefined> {
    return (await this.sub(space).get(key)) as T | undefined;
  }

  async list<T>(space: string, range: KvRange = {}): Promise<Array<[string, T]>> {
    return (await this.sub(space).iterator(range).all()) as Array<[string, T]>;
  }

  async keys(space: string, range: KvRange = {}): Promise<string[]> {
    return (await this.sub(space).keys(range).all()) as string[];
  }

  async write(ops: readonly KvOp[]): Promise<void> {
    const chain = this.db.batch();
    for (const op of ops) {
      if (op.type === 'put') chain.put(op.key, op.value, { sublevel: this.sub(op.space) as never });
      else chain.del(op.key, { sublevel: this.sub(op.space) as never });
    }
    // sync: what a store acknowledges survives a power cut.
    await chain.write({ sync: true });
  }

  watch(): () => void {
    // One process owns the directory: nobody else writes.
    return () => undefined;
  }

  snapshot(): RawEntries {
    return levelSnapshot(this.db);
  }

  /** Best-effort compaction of every sublevel (their keys all start with '!'; '"' is the next character). */
  async compact(): Promise<void> {
    const compactable = this.db as unknown as { compactRange?: (start: string, end: string) => Promise<void> };
    if (typeof compactable.compactRange === 'function') await compactable.compactRange.call(this.db, '!', '"');
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
