/**
 * The client's record of what the server must hold after a crash. For every
 * object key: the state the last acknowledged write left, plus the states of
 * writes whose outcome the client never learned (in flight at the kill). After
 * a restart the key must show exactly one of those, whole; verification then
 * collapses the key to what it found, which later crashes must keep.
 * Multipart uploads, buckets and root keys are tracked the same way.
 */
export type ObjState = { present: false } | { present: true; md5: string; size: number; etag: string };

export const ABSENT: ObjState = { present: false };

export function describeState(s: ObjState): string {
  return s.present ? `${s.md5}/${s.size}${s.etag ? ` etag ${s.etag}` : ''}` : 'absent';
}

/** Whether an observed object equals a candidate state (an empty etag in the candidate is not checked). */
export function matches(seen: ObjState, want: ObjState): boolean {
  if (!seen.present || !want.present) return seen.present === want.present;
  return seen.md5 === want.md5 && seen.size === want.size && (want.etag === '' || want.etag === seen.etag);
}

export interface KeyEntry {
  bucket: string;
  key: string;
  committed: ObjState;
  /** Writes with an unknown outcome. */
  pending: ObjState[];
}

export interface PartEntry {
  md5: string;
  size: number;
  acked: boolean;
}

export interface UploadEntry {
  bucket: string;
  key: string;
  /** Unknown while the create is in flight (its answer carries the id). */
  uploadId?: string;
  createAcked: boolean;
  parts: Map<number, PartEntry>;
  /** The object state Complete will leave; set when Complete starts. */
  completion?: ObjState;
  completeAcked: boolean;
  abortStarted: boolean;
  abortAcked: boolean;
}

export interface BucketEntry {
  name: string;
  acked: boolean;
  keyCrn?: string;
}

export interface RootKeyEntry {
  id: string;
  crn: string;
  versions: number;
  rotatePending: boolean;
  /** When the create and the rotation were acknowledged (for the audit check). */
  createdAt: number;
  rotatedAt?: number;
  bucket?: string;
}

export class Ledger {
  readonly keys = new Map<string, KeyEntry>();
  readonly uploads: UploadEntry[] = [];
  readonly buckets = new Map<string, BucketEntry>();
  readonly rootKeys: RootKeyEntry[] = [];
  /** Requests the server refused or answered wrongly while it was not being killed. */
  readonly unexpected: string[] = [];

  entry(bucket: string, key: string): KeyEntry {
    const id = `${bucket}/${key}`;
    let e = this.keys.get(id);
    if (!e) this.keys.set(id, (e = { bucket, key, committed: ABSENT, pending: [] }));
    return e;
  }

  /** A write to the key has started: until it is acknowledged its state is only possible. */
  begin(bucket: string, key: string, next: ObjState): { ack(final?: ObjState): void } {
    const e = this.entry(bucket, key);
    e.pending.push(next);
    return {
      ack: (final = next) => {
        e.committed = final;
        e.pending = e.pending.filter((p) => p !== next);
      },
    };
  }

  acked(): { objects: number; uploads: number; buckets: number; rotations: number } {
    return {
      objects: [...this.keys.values()].filter((k) => k.committed.present).length,
      uploads: this.uploads.filter((u) => u.createAcked).length,
      buckets: [...this.buckets.values()].filter((b) => b.acked).length,
      rotations: this.rootKeys.filter((k) => k.versions > 1).length,
    };
  }
}
