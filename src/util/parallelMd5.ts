/**
 * MD5 of a stream computed on a worker thread, so that on a PUT the ETag's MD5
 * (about a quarter of the main thread's CPU for a large object, profiled) runs
 * on another core in parallel with encryption instead of before it.
 *
 * Bytes are copied into 1 MiB slices whose memory is transferred to the worker
 * (one memcpy on the main thread instead of the hash). Streams shorter than one
 * slice never leave the main thread: a worker round trip would only add latency
 * to small PUTs. At most MAX_IN_FLIGHT slices per stream wait in the worker;
 * `update` resolves late when that many are queued, which is the back-pressure
 * that keeps a slow worker from buffering a whole object.
 *
 * One worker serves the process (hash states keyed by stream id); it is unref'd
 * so it never keeps the process alive, and if it dies every pending digest
 * rejects and the next stream starts a new one.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export const SLICE = 1024 * 1024;
const MAX_IN_FLIGHT = 4;

// CommonJS, evaluated by the worker (no file to resolve, in src/ or dist/ alike).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const states = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let h = states.get(m.id);
    if (h === undefined) states.set(m.id, (h = createHash('md5')));
    h.update(new Uint8Array(m.data));
    parentPort.postMessage({ id: m.id, op: 'ack' });
  } else if (m.op === 'digest') {
    const h = states.get(m.id) ?? createHash('md5');
    states.delete(m.id);
    parentPort.postMessage({ id: m.id, op: 'digest', digest: h.digest() });
  } else if (m.op === 'drop') {
    states.delete(m.id);
  }
});
`;

interface StreamState {
  acks: (() => void)[];
  inFlight: number;
  digest?: { resolve: (d: Buffer) => void; reject: (e: Error) => void };
}

class Md5Worker {
  private readonly worker: Worker;
  private readonly streams = new Map<number, StreamState>();
  private nextId = 1;
  dead = false;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; op: 'ack' | 'digest'; digest?: Uint8Array }) => {
      const s = this.streams.get(m.id);
      if (s === undefined) return;
      if (m.op === 'ack') {
        s.inFlight--;
        s.acks.shift()?.();
      } else {
        this.streams.delete(m.id);
        s.digest?.resolve(Buffer.from(m.digest!));
      }
    });
    const fail = (e: Error) => {
      this.dead = true;
      for (const s of this.streams.values()) {
        s.digest?.reject(e);
        for (const a of s.acks) a();
      }
      this.streams.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`MD5 worker exited (${code})`)));
  }

  open(): number {
    const id = this.nextId++;
    this.streams.set(id, { acks: [], inFlight: 0 });
    return id;
  }

  /** Hand `slice` (ownership of its memory moves to the worker); resolves when the stream may send another. */
  update(id: number, slice: Uint8Array): Promise<void> | undefined {
    const s = this.streams.get(id);
    if (s === undefined) throw new Error('MD5 worker lost this stream');
    const ab = slice.buffer as ArrayBuffer;
    this.worker.postMessage({ id, op: 'update', data: ab }, [ab]);
    s.inFlight++;
    if (s.inFlight < MAX_IN_FLIGHT) return undefined;
    return new Promise<void>((resolve) => s.acks.push(resolve));
  }

  digest(id: number): Promise<Buffer> {
    const s = this.streams.get(id);
    if (s === undefined) return Promise.reject(new Error('MD5 worker lost this stream'));
    return new Promise<Buffer>((resolve, reject) => {
      s.digest = { resolve, reject };
      this.worker.postMessage({ id, op: 'digest' });
    });
  }

  drop(id: number): void {
    if (!this.streams.delete(id)) return;
    this.worker.postMessage({ id, op: 'drop' });
  }
}

let shared: Md5Worker | undefined;
function worker(): Md5Worker {
  if (shared === undefined || shared.dead) shared = new Md5Worker();
  return shared;
}

/** Incremental MD5 whose hashing runs on the shared worker once the stream passes one slice. */
export class ParallelMd5 {
  private slice: Buffer = Buffer.allocUnsafeSlow(SLICE);
  private filled = 0;
  private remote?: { w: Md5Worker; id: number };
  private finished = false;

  /** Add bytes. The returned promise, when there is one, must settle before the next update (back-pressure). */
  update(chunk: Buffer): Promise<void> | undefined {
    if (this.finished) throw new Error('ParallelMd5 already digested');
    let wait: Promise<void> | undefined;
    let off = 0;
    while (off < chunk.length) {
      const n = chunk.copy(this.slice, this.filled, off);
      this.filled += n;
      off += n;
      if (this.filled === SLICE) {
        this.remote ??= (() => {
          const w = worker();
          return { w, id: w.open() };
        })();
        wait = this.remote.w.update(this.remote.id, this.slice) ?? wait;
        // The old slice's memory now belongs to the worker.
        this.slice = Buffer.allocUnsafeSlow(SLICE);
        this.filled = 0;
      }
    }
    return wait;
  }

  async digest(): Promise<Buffer> {
    if (this.finished) throw new Error('ParallelMd5 already digested');
    this.finished = true;
    if (this.remote === undefined) return createHash('md5').update(this.slice.subarray(0, this.filled)).digest();
    const { w, id } = this.remote;
    if (this.filled > 0) {
      // An exact copy of the tail, so only its bytes are hashed.
      const tail = new Uint8Array(this.filled);
      tail.set(this.slice.subarray(0, this.filled));
      w.update(id, tail);
    }
    return w.digest(id);
  }

  /** Forget the stream (aborted upload): frees its state in the worker. */
  discard(): void {
    this.finished = true;
    if (this.remote) this.remote.w.drop(this.remote.id);
  }
}
