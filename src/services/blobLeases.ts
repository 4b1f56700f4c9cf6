import type { ObjectRecord } from '../meta/records.js';

/**
 * Blob leases: a reader that has loaded a record holds its blobs until it is
 * done, and a writer that replaced the record defers deleting them until then.
 *
 * Without this, a GET of a multipart object that is overwritten mid-transfer
 * fails when it reaches a part whose blob the overwrite already deleted (parts
 * are opened one after the other). A single open file survives an unlink on
 * POSIX, but a blob not yet opened does not. In-process: one gateway owns its
 * blob store; a crash loses only deferred deletes, which the start-up sweep
 * finds.
 */
export class BlobLeases {
  private readonly readers = new Map<string, number>();
  private readonly pending = new Map<string, () => Promise<void>>();

  /** Hold `ids` until the returned release() is called (idempotent). */
  acquire(ids: readonly string[]): () => void {
    for (const id of ids) this.readers.set(id, (this.readers.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = (this.readers.get(id) ?? 1) - 1;
        if (n > 0) {
          this.readers.set(id, n);
          continue;
        }
        this.readers.delete(id);
        const del = this.pending.get(id);
        if (del) {
          this.pending.delete(id);
          void del();
        }
      }
    };
  }

  /** Run `del` now if no reader holds `id`, else when the last one releases it. */
  async deleteWhenFree(id: string, del: () => Promise<void>): Promise<void> {
    if (this.readers.has(id)) {
      this.pending.set(id, del);
      return;
    }
    await del();
  }

  /** Blobs currently held (for tests and metrics). */
  get held(): number {
    return this.readers.size;
  }
}

/** The blobs a record's data lives in (what a reader leases and a replacing writer deletes). */
export function dataIds(r: ObjectRecord | undefined): string[] {
  if (!r) return [];
  if (r.stream) return [r.stream.dataId];
  return (r.parts ?? []).map((p) => p.dataId);
}
