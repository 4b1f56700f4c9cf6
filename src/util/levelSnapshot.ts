/**
 * A point-in-time copy of a whole LevelDB, raw: every key and value as the
 * store wrote them (sublevel prefixes included), for `coffer backup`. The
 * iterator reads from the implicit snapshot LevelDB takes when it is created,
 * which happens synchronously in `levelSnapshot`, so snapshots of several
 * stores taken in one synchronous step see them all at one moment.
 */
import type { Level } from 'level';

export interface RawEntries extends AsyncIterable<[Buffer, Buffer]> {
  close(): Promise<void>;
}

export function levelSnapshot<K, V>(db: Level<K, V>): RawEntries {
  return db.iterator<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' }) as unknown as RawEntries;
}
