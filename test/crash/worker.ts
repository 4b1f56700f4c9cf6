/**
 * One client of the crash workload: a loop of seeded random operations (PUT,
 * DeleteObject, DeleteObjects, CopyObject, multipart create/part/complete/abort,
 * CreateBucket, root key create and rotate with a Key Protect bucket on it) on
 * keys only this worker writes, so each key has at most one write in flight and
 * the ledger knows every state it may be in.
 */
import { createHash } from 'node:crypto';
import type { RawEndpoint } from '../helpers/rawS3.js';
import { multipartEtag, SeededData } from '../helpers/seeded.js';
import type { KpClient } from './kpOps.js';
import { ABSENT, type Ledger, type ObjState, type RootKeyEntry, type UploadEntry } from './ledger.js';
import { describeOutcome, type Outcome } from './outcome.js';
import type { Prng } from './prng.js';
import * as s3 from './s3Ops.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_OWN_BUCKETS = 6;

export interface CycleContext {
  s3: RawEndpoint;
  kp: KpClient;
  ledger: Ledger;
  /** True from the moment the kill is decided: no new operation starts. */
  stopped(): boolean;
  /** The operation each worker has in flight (the census of what a kill interrupted). */
  current: Map<number, string>;
}

export type PartPlan = { label: string; size: number };

export class Worker {
  /** Buckets this worker may write to: the shared base buckets, then its own acknowledged ones. */
  readonly buckets: string[];
  upload?: UploadEntry & { plan: PartPlan[]; labels: Map<number, PartPlan> };
  rootKey?: RootKeyEntry;
  private ownBuckets = 0;
  private rootKeysMade = 0;
  private seq = 0;

  constructor(
    readonly index: number,
    private readonly rng: Prng,
    private readonly base: readonly string[],
    /** Root keys this worker creates at most (each is rotated once: Key Protect allows one rotation an hour). */
    private readonly maxRootKeys = 6,
  ) {
    this.buckets = [...base];
  }

  async run(ctx: CycleContext): Promise<void> {
    this.adopt(ctx.ledger);
    while (!ctx.stopped()) {
      this.forgetFinished();
      const r = this.rng.next() * 100;
      if (r < 30) await this.op(ctx, 'put', () => this.put(ctx));
      else if (r < 38) await this.op(ctx, 'delete', () => this.del(ctx));
      else if (r < 43) await this.op(ctx, 'deleteObjects', () => this.delMany(ctx));
      else if (r < 53) await this.op(ctx, 'copy', () => this.copy(ctx));
      else if (r < 75) await this.multipart(ctx);
      else if (r < 80 && this.ownBuckets < MAX_OWN_BUCKETS)
        await this.op(ctx, 'createBucket', async () => void (await this.bucket(ctx)));
      else if (r < 88) await this.kms(ctx);
      else await this.op(ctx, 'put', () => this.put(ctx));
    }
  }

  /** After verification: buckets whose create was in flight and that exist are this worker's too. */
  private adopt(ledger: Ledger): void {
    const mine = [...ledger.buckets.values()].filter((b) => b.acked && b.name.startsWith(`crash-w${this.index}-`));
    this.buckets.splice(0, this.buckets.length, ...this.base, ...mine.map((b) => b.name));
    const k = this.rootKey;
    if (k && k.bucket === undefined) k.bucket = mine.find((b) => b.keyCrn === k.crn)?.name;
  }

  /** Drop the upload and root key once verification found them finished. */
  private forgetFinished(): void {
    const u = this.upload;
    if (u && (u.completeAcked || u.abortAcked || (!u.createAcked && u.uploadId === undefined))) this.upload = undefined;
    if (this.rootKey && this.rootKey.versions > 1) this.rootKey = undefined;
  }

  private async op(ctx: CycleContext, kind: string, fn: () => Promise<void>): Promise<void> {
    ctx.current.set(this.index, kind);
    try {
      await fn();
    } finally {
      ctx.current.delete(this.index);
    }
  }

  /** True on an acknowledgement; a refusal or a dead connection while no kill was under way is recorded. */
  private settled<T>(ctx: CycleContext, what: string, o: Outcome<T>): o is { kind: 'ok'; value: T } {
    if (o.kind === 'ok') return true;
    if (!ctx.stopped()) ctx.ledger.unexpected.push(`worker ${this.index} ${what}: ${describeOutcome(o)}`);
    return false;
  }

  private label(): string {
    return `${this.rng.seed}/w${this.index}/op${this.seq++}`;
  }

  private size(): number {
    const r = this.rng.next();
    if (r < 0.1) return 0;
    if (r < 0.7) return this.rng.int(1, 64 * KiB);
    if (r < 0.95) return this.rng.int(64 * KiB, MiB);
    return this.rng.int(MiB, 4 * MiB);
  }

  private target(): { bucket: string; key: string } {
    const bucket = this.rng.pick(this.buckets);
    // Base buckets get six keys per worker, the others two: verification reads them all after every crash.
    const keys = bucket.startsWith('crash-base') ? 6 : 2;
    return { bucket, key: `w${this.index}/k${this.rng.int(0, keys - 1)}` };
  }

  private async put(ctx: CycleContext): Promise<void> {
    const { bucket, key } = this.target();
    const data = new SeededData(this.label(), this.size());
    const body = data.bytes();
    const w = ctx.ledger.begin(bucket, key, { present: true, md5: data.md5(), size: data.size, etag: '' });
    const o = await s3.putObject(ctx.s3, bucket, key, body);
    if (this.settled(ctx, `PUT ${bucket}/${key}`, o))
      w.ack({ present: true, md5: data.md5(), size: data.size, etag: o.value });
  }

  private async del(ctx: CycleContext): Promise<void> {
    const { bucket, key } = this.target();
    const w = ctx.ledger.begin(bucket, key, ABSENT);
    if (this.settled(ctx, `DELETE ${bucket}/${key}`, await s3.deleteObject(ctx.s3, bucket, key))) w.ack();
  }

  private async delMany(ctx: CycleContext): Promise<void> {
    const bucket = this.rng.pick(this.buckets);
    const keys = [...new Set(Array.from({ length: this.rng.int(2, 4) }, () => this.target().key))];
    const ws = keys.map((k) => ctx.ledger.begin(bucket, k, ABSENT));
    const o = await s3.deleteObjects(ctx.s3, bucket, keys);
    if (this.settled(ctx, `DeleteObjects ${bucket} ${keys.join(',')}`, o)) for (const w of ws) w.ack();
  }

  private async copy(ctx: CycleContext): Promise<void> {
    const { bucket, key: from } = this.target();
    const src = ctx.ledger.entry(bucket, from).committed;
    const to = this.target().key;
    if (!src.present || to === from) return this.put(ctx);
    const w = ctx.ledger.begin(bucket, to, { ...src, etag: '' });
    const o = await s3.copyObject(ctx.s3, bucket, from, to);
    if (this.settled(ctx, `CopyObject ${bucket}/${from} -> ${to}`, o)) w.ack({ ...src, etag: o.value });
  }

  private async multipart(ctx: CycleContext): Promise<void> {
    const u = this.upload;
    if (!u) return this.op(ctx, 'createUpload', () => this.createUpload(ctx));
    if (!u.createAcked) return; // in flight at a kill and not found again: forgotten next round
    const next = u.parts.size + 1;
    if (next <= u.plan.length) return this.op(ctx, 'uploadPart', () => this.uploadPart(ctx, u, next));
    if (this.rng.chance(0.1)) return this.op(ctx, 'abortUpload', () => this.abort(ctx, u));
    return this.op(ctx, 'completeUpload', () => this.complete(ctx, u));
  }

  private async createUpload(ctx: CycleContext): Promise<void> {
    const { bucket, key } = this.target();
    // Mostly one small part; sometimes two, the first of the 5 MiB minimum.
    const two = this.rng.chance(0.2);
    const plan = two
      ? [
          { label: this.label(), size: 5 * MiB },
          { label: this.label(), size: this.rng.int(1, 256 * KiB) },
        ]
      : [{ label: this.label(), size: this.rng.int(1, 512 * KiB) }];
    const u: NonNullable<Worker['upload']> = {
      bucket,
      key,
      createAcked: false,
      parts: new Map(),
      completeAcked: false,
      abortStarted: false,
      abortAcked: false,
      plan,
      labels: new Map(plan.map((p, i) => [i + 1, p])),
    };
    this.upload = u;
    ctx.ledger.uploads.push(u);
    const o = await s3.createUpload(ctx.s3, bucket, key);
    if (this.settled(ctx, `CreateMultipartUpload ${bucket}/${key}`, o)) {
      u.uploadId = o.value;
      u.createAcked = true;
    }
  }

  private async uploadPart(ctx: CycleContext, u: NonNullable<Worker['upload']>, n: number): Promise<void> {
    const p = u.plan[n - 1]!;
    const data = new SeededData(p.label, p.size);
    const part = { md5: data.md5(), size: p.size, acked: false };
    u.parts.set(n, part);
    const o = await s3.uploadPart(ctx.s3, u.bucket, u.key, u.uploadId!, n, data.bytes());
    if (this.settled(ctx, `UploadPart ${n} ${u.bucket}/${u.key}`, o)) part.acked = true;
  }

  private async complete(ctx: CycleContext, u: NonNullable<Worker['upload']>): Promise<void> {
    const h = createHash('md5');
    for (const p of u.plan) for (const piece of new SeededData(p.label, p.size).pieces()) h.update(piece);
    const parts = [...u.parts.entries()].map(([partNumber, p]) => ({ partNumber, etag: p.md5 }));
    const etag = multipartEtag(parts.map((p) => p.etag));
    const size = u.plan.reduce((n, p) => n + p.size, 0);
    const state: ObjState = { present: true, md5: h.digest('hex'), size, etag };
    u.completion = state;
    const w = ctx.ledger.begin(u.bucket, u.key, state);
    const o = await s3.completeUpload(ctx.s3, u.bucket, u.key, u.uploadId!, parts);
    if (this.settled(ctx, `CompleteMultipartUpload ${u.bucket}/${u.key}`, o)) {
      w.ack();
      u.completeAcked = true;
    }
  }

  private async abort(ctx: CycleContext, u: NonNullable<Worker['upload']>): Promise<void> {
    u.abortStarted = true;
    const o = await s3.abortUpload(ctx.s3, u.bucket, u.key, u.uploadId!);
    if (this.settled(ctx, `AbortMultipartUpload ${u.bucket}/${u.key}`, o)) u.abortAcked = true;
  }

  private async bucket(ctx: CycleContext, keyCrn?: string): Promise<string> {
    const name = `crash-w${this.index}-${keyCrn ? 'kp' : 'b'}${this.seq++}`;
    const entry = { name, acked: false, ...(keyCrn ? { keyCrn } : {}) };
    ctx.ledger.buckets.set(name, entry);
    if (!keyCrn) this.ownBuckets++;
    if (this.settled(ctx, `CreateBucket ${name}`, await s3.createBucket(ctx.s3, name, keyCrn))) {
      entry.acked = true;
      this.buckets.push(name);
    }
    return name;
  }

  /** Root key lifecycle: create a key, put a Key Protect bucket on it, rotate it (once: Key Protect allows one an hour). */
  private async kms(ctx: CycleContext): Promise<void> {
    const k = this.rootKey;
    if (!k) {
      if (this.rootKeysMade >= this.maxRootKeys) return;
      this.rootKeysMade++;
      return this.op(ctx, 'createKey', async () => {
        const o = await ctx.kp.createKey(`crash-w${this.index}-${this.seq++}`);
        if (!this.settled(ctx, 'create root key', o)) return;
        this.rootKey = { ...o.value, versions: 1, rotatePending: false, createdAt: Date.now() };
        ctx.ledger.rootKeys.push(this.rootKey);
      });
    }
    if (k.bucket === undefined) {
      return this.op(ctx, 'createBucket', async () => {
        const name = await this.bucket(ctx, k.crn);
        if (ctx.ledger.buckets.get(name)?.acked) k.bucket = name;
      });
    }
    if (k.rotatePending) return;
    return this.op(ctx, 'rotateKey', async () => {
      k.rotatePending = true;
      const o = await ctx.kp.rotate(k.id);
      if (!this.settled(ctx, `rotate ${k.id}`, o)) return;
      k.versions++;
      k.rotatePending = false;
      k.rotatedAt = Date.now();
    });
  }
}
