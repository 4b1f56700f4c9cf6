/**
 * Group commit: callers submit items, and one durable write covers many of them.
 * A lone caller's write starts at once (no added latency); while a write is in
 * flight, later submissions accumulate and all go into the next write, which
 * starts as soon as the current one settles. Each caller's promise settles only
 * with the write that contains its item: resolved once that write is durable,
 * rejected with its error if it fails, so an error reaches exactly the callers
 * of the failing write. Items reach `write` in submission order.
 *
 * This turns N concurrent fsyncs (each a thread-pool slot and a disk flush) into
 * about two, which is what bounds small-object PUTs.
 */
interface Waiter<T> {
  item: T;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<T> {
  private pending: Waiter<T>[] = [];
  private running = false;

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  /** True when no write is in flight and nothing waits. */
  get idle(): boolean {
    return !this.running && this.pending.length === 0;
  }

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        try {
          await this.write(group.map((w) => w.item));
        } catch (e) {
          for (const w of group) w.reject(e);
          continue;
        }
        for (const w of group) w.resolve();
      }
    } finally {
      this.running = false;
    }
  }
}
