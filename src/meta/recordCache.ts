/**
 * Records LevelMetaStore has read, kept as the JSON text LevelDB holds, so the
 * data path (every request resolves its bucket, every GET its object) answers a
 * record that has not changed without a read through the thread pool. Each hit
 * parses the text again, so every caller gets its own copy and nothing a caller
 * does reaches the cache.
 *
 * Safe because the process is the database's only writer (LevelDB's LOCK) and
 * every write goes through LevelMetaBatch, which invalidates the ids it touches
 * before its synced write and again after it. The generation counter, bumped on
 * every invalidation, keeps a read that was in flight across one from caching
 * what it read (possibly the old value). Bounded: the least recently used id goes.
 */
export class RecordCache<T> {
  private readonly texts = new Map<string, string>();
  private generation = 0;

  constructor(private readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError('RecordCache: maxEntries must be >= 1');
  }

  get size(): number {
    return this.texts.size;
  }

  /** A fresh copy of the cached record, or undefined. */
  get(id: string): T | undefined {
    const text = this.texts.get(id);
    if (text === undefined) return undefined;
    // Most recently used last: the Map's insertion order is the eviction order.
    this.texts.delete(id);
    this.texts.set(id, text);
    return JSON.parse(text) as T;
  }

  /** What to pass to set() for a read starting now. */
  get current(): number {
    return this.generation;
  }

  /** Cache `record` as read by a read that started at `generation`; ignored if anything was invalidated since. */
  set(id: string, record: T, generation: number): void {
    if (generation !== this.generation) return;
    this.texts.delete(id);
    this.texts.set(id, JSON.stringify(record));
    if (this.texts.size > this.maxEntries) {
      const oldest = this.texts.keys().next().value;
      if (oldest !== undefined) this.texts.delete(oldest);
    }
  }

  invalidate(ids: readonly string[]): void {
    this.generation++;
    for (const id of ids) this.texts.delete(id);
  }
}
