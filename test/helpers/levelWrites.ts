/**
 * A recorder of LevelDB writes: every put, del, batch and chained-batch write
 * any `level` database in this process makes while it is installed, with the
 * `sync` option it carried. Used to prove that acknowledging paths fsync (an
 * unsynced write survives a process kill but not a power cut).
 */
import { Level } from 'level';
import { vi } from 'vitest';

export interface RecordedWrite {
  op: 'put' | 'del' | 'batch' | 'chained';
  sync: boolean;
  /** Where it came from, for the failure message. */
  stack: string;
}

type Options = { sync?: boolean } | undefined;
type Proto = Record<string, (...args: unknown[]) => unknown>;

export function recordLevelWrites(): { writes: RecordedWrite[]; unsynced(): RecordedWrite[]; restore(): void } {
  const writes: RecordedWrite[] = [];
  const note = (op: RecordedWrite['op'], o: Options) =>
    writes.push({ op, sync: o?.sync === true, stack: new Error().stack?.split('\n').slice(3, 9).join('\n') ?? '' });
  const proto = Level.prototype as unknown as Proto;
  const put = proto._put!;
  const del = proto._del!;
  const batch = proto._batch!;
  const chained = proto._chainedBatch!;
  const spies = [
    vi.spyOn(proto, '_put').mockImplementation(function (this: unknown, k, v, o) {
      note('put', o as Options);
      return put.call(this, k, v, o);
    }),
    vi.spyOn(proto, '_del').mockImplementation(function (this: unknown, k, o) {
      note('del', o as Options);
      return del.call(this, k, o);
    }),
    vi.spyOn(proto, '_batch').mockImplementation(function (this: unknown, ops, o) {
      note('batch', o as Options);
      return batch.call(this, ops, o);
    }),
    vi.spyOn(proto, '_chainedBatch').mockImplementation(function (this: unknown) {
      const b = chained.call(this) as Proto;
      const write = b._write!.bind(b);
      b._write = (o: unknown) => {
        note('chained', o as Options);
        return write(o);
      };
      return b;
    }),
  ];
  return {
    writes,
    unsynced: () => writes.filter((w) => !w.sync),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
