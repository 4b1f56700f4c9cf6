/**
 * The bench's phases. Each repetition returns one figure (MB/s, ops/s or keys/s)
 * and the work it did (MiB, operations, keys) for one server; bench.ts alternates the servers repetition by repetition. Every
 * GET is checked against what was last written under its key (SHA-256 of the
 * body, status and length), so a server that answers wrongly fails the run
 * instead of looking fast.
 */
import { randomBytes } from 'node:crypto';
import { MiB, PatternContent, sha256Hex } from './content.js';
import type { LeanS3Client } from './leanClient.js';
import type { LimitId, PhaseId } from './stats.js';

export const BIG = 64 * MiB;
export const SMALL = 4096;
export const LIST_KEYS = 2000;

export interface BenchSizes {
  /** Random 1 MiB ranges per repetition. */
  ranges: number;
  /** 4 KiB operations per repetition. */
  smallOps: number;
  /** Full listings of LIST_KEYS keys per repetition. */
  listings: number;
  /** Size of the "64 MiB" objects (default BIG; the bench's own tests use less). */
  bigBytes?: number;
}

/** One server as the phases see it: a client, its bench bucket, and what was written there. */
export class Subject {
  /** Key -> content last written (PUT acknowledged). */
  readonly big = new Map<string, PatternContent>();
  readonly small = new Map<string, string>();
  private readonly hashes = new Map<PatternContent, string>();

  constructor(
    readonly name: string,
    readonly client: LeanS3Client,
    readonly bucket: string,
  ) {}

  expectedSha(c: PatternContent): string {
    let h = this.hashes.get(c);
    if (h === undefined) this.hashes.set(c, (h = c.sha256()));
    return h;
  }
}

export interface Phase {
  id: PhaseId;
  name: string;
  unit: string;
  limit?: LimitId;
  /** Untimed preparation, once per server. */
  setup?(s: Subject): Promise<void>;
  /** One timed repetition; resolves with the figure. */
  rep(s: Subject, r: number): Promise<RepResult>;
}

/** One repetition: the figure (units per second) and the units of work done. */
export interface RepResult {
  perSecond: number;
  units: number;
}

function rate(units: number, t0: bigint): RepResult {
  return { perSecond: units / (Number(process.hrtime.bigint() - t0) / 1e9), units };
}

/** Run `n` tasks, `inFlight` at a time. */
async function pool(n: number, inFlight: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, inFlight) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

function verify(
  what: string,
  got: { status: number; bytes: number; sha256: string },
  status: number,
  bytes: number,
  sha: string,
): void {
  if (got.status !== status || got.bytes !== bytes || got.sha256 !== sha) {
    throw new Error(
      `${what}: got status ${got.status}, ${got.bytes} bytes, sha256 ${got.sha256}; expected ${status}, ${bytes}, ${sha}`,
    );
  }
}

async function putBig(s: Subject, key: string, c: PatternContent): Promise<void> {
  await s.client.putObject(s.bucket, key, c.stream());
  s.big.set(key, c);
}

async function getBig(s: Subject, key: string): Promise<void> {
  const c = s.big.get(key);
  if (c === undefined) throw new Error(`${s.name}: ${key} was never written`);
  const sha = s.expectedSha(c);
  verify(`${s.name} GET ${key}`, await s.client.getObject(s.bucket, key), 200, c.length, sha);
}

const bigKey = (i: number) => `big/${i}`;

export function phases(block: Buffer, sizes: BenchSizes): Phase[] {
  // A new seed for every PUT, so a GET proves the latest write is what is served.
  let seed = 0;
  const big = sizes.bigBytes ?? BIG;
  const putStreams =
    (streams: number): Phase['rep'] =>
    async (s) => {
      const contents = Array.from({ length: streams }, () => new PatternContent(block, ++seed, big));
      const t0 = process.hrtime.bigint();
      await Promise.all(contents.map((c, i) => putBig(s, bigKey(i), c)));
      return rate((streams * big) / MiB, t0);
    };
  const getStreams =
    (streams: number): Phase['rep'] =>
    async (s) => {
      // Hash the expected contents before the clock starts.
      for (let i = 0; i < streams; i++) s.expectedSha(s.big.get(bigKey(i))!);
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: streams }, (_, i) => getBig(s, bigKey(i))));
      return rate((streams * big) / MiB, t0);
    };
  // Only the objects a phase reads: a one-stream GET needs one.
  const ensureBig = (n: number) => async (s: Subject) => {
    for (let i = 0; i < n; i++)
      if (!s.big.has(bigKey(i))) await putBig(s, bigKey(i), new PatternContent(block, ++seed, big));
  };

  return [
    { id: 'put64x1', name: 'PUT 64 MiB x1', unit: 'MB/s', limit: 'md5', rep: putStreams(1) },
    { id: 'put64x4', name: 'PUT 64 MiB x4', unit: 'MB/s', limit: 'md5', rep: putStreams(4) },
    {
      id: 'get64x1',
      name: 'GET 64 MiB x1',
      unit: 'MB/s',
      limit: 'aesGcmDecrypt',
      setup: ensureBig(1),
      rep: getStreams(1),
    },
    {
      id: 'get64x4',
      name: 'GET 64 MiB x4',
      unit: 'MB/s',
      limit: 'aesGcmDecrypt',
      setup: ensureBig(4),
      rep: getStreams(4),
    },
    {
      id: 'range1m',
      name: 'GET 1 MiB ranges x4',
      unit: 'MB/s',
      limit: 'aesGcmDecrypt',
      setup: ensureBig(4),
      async rep(s) {
        const ranges = Array.from({ length: sizes.ranges }, (_, i) => {
          const key = bigKey(i % 4);
          const c = s.big.get(key)!;
          const start = Math.floor(Math.random() * (c.length - MiB + 1));
          const end = start + MiB - 1;
          return { key, start, end, sha: sha256Hex(c.slice(start, end)) };
        });
        const t0 = process.hrtime.bigint();
        await pool(ranges.length, 4, async (i) => {
          const { key, start, end, sha } = ranges[i];
          verify(
            `${s.name} GET ${key} bytes=${start}-${end}`,
            await s.client.getObject(s.bucket, key, { start, end }),
            206,
            MiB,
            sha,
          );
        });
        return rate(ranges.length, t0);
      },
    },
    {
      id: 'put4kx16',
      name: 'PUT 4 KiB x16 in flight',
      unit: 'ops/s',
      async rep(s) {
        const bodies = Array.from({ length: sizes.smallOps }, () => randomBytes(SMALL));
        const t0 = process.hrtime.bigint();
        await pool(bodies.length, 16, async (i) => {
          await s.client.putObject(s.bucket, `small/${i}`, bodies[i]);
          s.small.set(`small/${i}`, sha256Hex(bodies[i]));
        });
        return rate(bodies.length, t0);
      },
    },
    {
      id: 'get4kx16',
      name: 'GET 4 KiB x16 in flight',
      unit: 'ops/s',
      async setup(s) {
        await pool(sizes.smallOps, 16, async (i) => {
          if (s.small.has(`small/${i}`)) return;
          const b = randomBytes(SMALL);
          await s.client.putObject(s.bucket, `small/${i}`, b);
          s.small.set(`small/${i}`, sha256Hex(b));
        });
      },
      async rep(s) {
        const t0 = process.hrtime.bigint();
        await pool(sizes.smallOps, 16, async (i) => {
          const key = `small/${i}`;
          verify(`${s.name} GET ${key}`, await s.client.getObject(s.bucket, key), 200, SMALL, s.small.get(key)!);
        });
        return rate(sizes.smallOps, t0);
      },
    },
    {
      id: 'list2000',
      name: `LIST ${LIST_KEYS} keys, 1000/page`,
      unit: 'keys/s',
      async setup(s) {
        await pool(
          LIST_KEYS,
          16,
          async (i) => void (await s.client.putObject(s.bucket, listKey(i), Buffer.from(listKey(i)))),
        );
      },
      async rep(s) {
        const expected = Array.from({ length: LIST_KEYS }, (_, i) => listKey(i));
        const t0 = process.hrtime.bigint();
        for (let n = 0; n < sizes.listings; n++) {
          const { keys, pages } = await s.client.listAll(s.bucket, { prefix: 'list/', maxKeys: 1000 });
          if (pages !== 2 || keys.length !== LIST_KEYS || keys.some((k, i) => k !== expected[i])) {
            throw new Error(
              `${s.name} LIST: ${keys.length} keys in ${pages} pages, not the ${LIST_KEYS} written in order in 2`,
            );
          }
        }
        return rate(sizes.listings * LIST_KEYS, t0);
      },
    },
  ];
}

/** Zero-padded so that the listing order is the numeric order. */
export function listKey(i: number): string {
  return `list/k-${String(i).padStart(5, '0')}`;
}
