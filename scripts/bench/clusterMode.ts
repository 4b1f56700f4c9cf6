/**
 * `npm run bench -- --cluster [--quick] [--tier=s3rver|coffer]`: what scale-out
 * costs and buys on this machine. In one run it starts a throwaway PostgreSQL
 * (initdb, fsync on: a PUT pays for a durable commit as in production), the data
 * tier (s3rver, a second embedded Coffer, or both), per tier one KMS and three
 * gateways (scripts/cluster/topology.ts, each on its own database), and an
 * embedded single-process Coffer; then drives 4 KiB and 64 MiB PUT and GET
 * through the embedded server, through gateway 1 alone and through all three
 * gateways (round robin per request), the subjects taking turns repetition by
 * repetition so a burst of load from elsewhere hits all alike. Every GET is
 * verified against what was written, through whichever gateway wrote it.
 *
 * Everything it starts is registered in `servers` (bench.ts stops those on
 * SIGINT/SIGTERM and exit); PostgreSQL stops itself when this process exits
 * (scripts/cluster/postgres.ts). On the normal path and on errors it stops
 * them in order: gateways, KMS, tiers, the embedded server, PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../cluster/postgres.js';
import { stopCli, type CliProcess } from '../cluster/processes.js';
import { startCluster, type Cluster, type DataTier } from '../cluster/topology.js';
import { MiB } from './content.js';
import { backendPids, processesCpu, type CpuProbe } from './clusterCpu.js';
import { LeanS3Client, type S3Endpoint } from './leanClient.js';
import { phases, Subject, type BenchSizes, type Phase } from './phases.js';
import { RoundRobinS3Client } from './roundRobin.js';
import { startCoffer, startS3rver, type RunningServer } from './servers.js';
import { cpuUnitOf, median } from './stats.js';

export const CLUSTER_PHASES = ['put64x1', 'get64x1', 'put4kx16', 'get4kx16'] as const;
export const TIERS = ['s3rver', 'coffer'] as const;
export type TierKind = (typeof TIERS)[number];
const GATEWAYS = 3;
const TIER_BUCKET = 'coffer-data';
/**
 * 503s (SlowDown, ServiceUnavailable) retried per request, with jittered
 * backoff, as S3 SDKs retry them; every retry is counted and reported with the
 * phase. A request still refused after these fails the run.
 */
const RETRIES_503 = 4;
const CLIENT = { retries503: RETRIES_503 };

export interface ClusterBenchOptions {
  runs: number;
  sizes: BenchSizes;
  tiers: readonly TierKind[];
  /** Phase ids to run (default: all of CLUSTER_PHASES). */
  only?: readonly string[];
  /** Everything started is pushed here, for the caller's signal and exit handlers. */
  servers: RunningServer[];
  clients: LeanS3Client[];
}

export interface ClusterRow {
  id: string;
  name: string;
  unit: string;
  embedded: number;
  /** Per tier: through gateway 1 alone, and through the three in turn. */
  tiers: Partial<Record<TierKind, { oneGateway: number; threeGateways: number }>>;
  /** 503 answers retried during the phase (setup included), per subject that had any. */
  retried503: Record<string, number>;
  /**
   * Median CPU of every process of the configuration (clusterCpu.ts) per unit
   * of work (stats.ts cpuUnitOf: ms per MiB or per operation), by subject name;
   * absent without /proc.
   */
  cpu: Record<string, number>;
}

export interface ClusterBenchResult {
  runs: number;
  tiers: TierKind[];
  rows: ClusterRow[];
  machine: { cores: number; cpu: string; memoryGiB: number; node: string; postgres: string };
  /** Requests the round-robin client sent to each gateway, per tier. */
  spread: Partial<Record<TierKind, number[]>>;
  /** Exit codes of every gateway and KMS after the SIGTERM at the end (0: a clean shutdown). */
  exitCodes: (number | null | undefined)[];
  /** The throwaway PostgreSQL's admin URL (stopped by the time this resolves). */
  postgresUrl: string;
}

const endpointOf = (url: string, accessKeyId: string, secretAccessKey: string): S3Endpoint => ({
  host: '127.0.0.1',
  port: Number(new URL(url).port),
  region: 'us-east-1',
  accessKeyId,
  secretAccessKey,
});

/** A CLI process as the bench's stop-everything list sees it. */
function asServer(name: string, p: CliProcess, dataDir: string): RunningServer {
  return {
    name,
    // Not driven through this entry (the subjects have their own clients); the port is not known yet at spawn.
    endpoint: endpointOf('http://127.0.0.1:0', '', ''),
    dataDir,
    child: p.child,
    stop: async () => void (await stopCli(p)),
  };
}

/** The data tier: a server in its own process, its bucket created, as the gateways' COFFER_DATA_S3_* see it. */
async function startTier(
  kind: TierKind,
  servers: RunningServer[],
  clients: LeanS3Client[],
): Promise<DataTier & { pid?: number }> {
  const srv = kind === 's3rver' ? await startS3rver() : await startCoffer([], undefined, 'coffer tier');
  servers.push(srv);
  const admin = new LeanS3Client(srv.endpoint);
  clients.push(admin);
  await admin.createBucket(TIER_BUCKET);
  const e = srv.endpoint;
  return {
    endpoint: `http://${e.host}:${e.port}`,
    bucket: TIER_BUCKET,
    accessKeyId: e.accessKeyId,
    secretAccessKey: e.secretAccessKey,
    region: e.region,
    pid: srv.child.pid,
  };
}

/**
 * Every subject `runs` times, taking turns (the order reversed every other
 * repetition, so none always runs on a warmer or busier machine); the median
 * figure and median CPU per unit of each.
 */
async function measure(
  phase: Phase,
  subjects: Subject[],
  probes: CpuProbe[],
  runs: number,
): Promise<{ figures: number[]; cpu: (number | undefined)[] }> {
  for (const s of subjects) await phase.setup?.(s);
  const samples = subjects.map(() => [] as number[]);
  const cpu = subjects.map(() => [] as number[]);
  const { per } = cpuUnitOf(phase.unit);
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? [...subjects.keys()] : [...subjects.keys()].reverse();
    for (const i of order) {
      const c0 = await probes[i]();
      const { perSecond, units } = await phase.rep(subjects[i], r);
      const c1 = await probes[i]();
      samples[i].push(perSecond);
      if (c0 !== undefined && c1 !== undefined) cpu[i].push(((c1 - c0) * 1000 * per) / units);
    }
  }
  process.stderr.write(
    `${phase.name}: ${subjects.map((s, i) => `${s.name} ${samples[i].map((x) => x.toFixed(0)).join(' ')}`).join(' | ')} ${phase.unit}\n`,
  );
  return { figures: samples.map(median), cpu: cpu.map((c) => (c.length === runs ? median(c) : undefined)) };
}

export async function runClusterBench(o: ClusterBenchOptions): Promise<ClusterBenchResult> {
  const { servers, clients } = o;
  const dir = await mkdtemp(join(tmpdir(), 'coffer-bench-cluster-'));
  // Ctrl-C ends the process without running the finally below (bench.ts stops the processes first).
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const clusters: Cluster[] = [];
  const started = servers.length;
  let db: TestPostgres | undefined;
  let exitCodes: (number | null | undefined)[] = [];
  try {
    db = await startPostgres({ durable: true });
    const embedded = await startCoffer([], undefined, 'embedded');
    servers.push(embedded);
    const subjects = [new Subject('embedded', track(clients, new LeanS3Client(embedded.endpoint, CLIENT)), 'bench')];
    const own = (pid: number | undefined) => (pid === undefined ? [] : [pid]);
    const probes: CpuProbe[] = [processesCpu(async () => own(embedded.child.pid))];
    const spread: ClusterBenchResult['spread'] = {};
    for (const kind of o.tiers) {
      const tier = await startTier(kind, servers, clients);
      const rootUser = `BENCHROOT${kind.toUpperCase()}`;
      const rootPassword = randomBytes(24).toString('hex');
      const metaUrl = await db.createDatabase();
      const cluster = await startCluster({
        metaUrl,
        tier,
        gateways: GATEWAYS,
        dir: join(dir, kind),
        rootUser,
        rootPassword,
        rootApiKey: randomBytes(24).toString('hex'),
        gatewayApiKey: randomBytes(24).toString('hex'),
        onSpawn: (p, name, dataDir) => servers.push(asServer(`${name} (${kind})`, p, dataDir)),
      });
      clusters.push(cluster);
      const eps = cluster.gatewayUrls.map((u) => endpointOf(u, rootUser, rootPassword));
      const rr = track(clients, new RoundRobinS3Client(eps, CLIENT));
      subjects.push(
        // One namespace behind all gateways: each subject its own bucket, so neither overwrites the other's keys.
        new Subject(`1 gateway (${kind})`, track(clients, new LeanS3Client(eps[0], CLIENT)), 'bench-1gw'),
        new Subject(`${GATEWAYS} gateways (${kind})`, rr, 'bench-3gw'),
      );
      spread[kind] = rr.sent;
      // Both subjects of a tier: its gateways, KMS, tier server and database backends.
      const dbName = new URL(metaUrl).pathname.slice(1);
      const probe = processesCpu(async () => [
        ...[cluster.kms, ...cluster.gateways].flatMap((p) => own(p.child.pid)),
        ...own(tier.pid),
        ...(await backendPids(dbName)),
      ]);
      probes.push(probe, probe);
    }
    for (const s of subjects) await s.client.createBucket(s.bucket);

    const block = randomBytes(MiB);
    const wanted = phases(block, o.sizes).filter(
      (p) => (CLUSTER_PHASES as readonly string[]).includes(p.id) && (!o.only || o.only.includes(p.id)),
    );
    const rows: ClusterRow[] = [];
    for (const p of wanted) {
      const before = subjects.map((s) => s.client.retried503);
      const { figures: m, cpu } = await measure(p, subjects, probes, o.runs);
      const retried503: Record<string, number> = {};
      subjects.forEach((s, i) => {
        const n = s.client.retried503 - before[i];
        if (n > 0) retried503[s.name] = n;
      });
      const cpuBy: Record<string, number> = {};
      subjects.forEach((s, i) => cpu[i] !== undefined && (cpuBy[s.name] = cpu[i]));
      const row: ClusterRow = {
        id: p.id,
        name: p.name,
        unit: p.unit,
        embedded: m[0],
        tiers: {},
        retried503,
        cpu: cpuBy,
      };
      o.tiers.forEach((kind, t) => (row.tiers[kind] = { oneGateway: m[1 + 2 * t], threeGateways: m[2 + 2 * t] }));
      rows.push(row);
    }
    const result: Omit<ClusterBenchResult, 'exitCodes'> = {
      runs: o.runs,
      tiers: [...o.tiers],
      rows,
      machine: {
        cores: availableParallelism(),
        cpu: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        postgres: await serverVersion(db.adminUrl),
      },
      spread: Object.fromEntries(Object.entries(spread).map(([k, v]) => [k, [...v]])),
      postgresUrl: db.adminUrl,
    };
    exitCodes = await stopInOrder();
    return { ...result, exitCodes };
  } catch (e) {
    // What the processes said is the clue to a failed request (a 503, a refused start).
    for (const [k, c] of clusters.entries())
      for (const [i, p] of [c.kms, ...c.gateways].entries()) {
        const tail = p.err().trim().split('\n').slice(-5).join('\n');
        if (tail) process.stderr.write(`--- ${i === 0 ? 'kms' : `gateway ${i}`} (${o.tiers[k]}) stderr:\n${tail}\n`);
      }
    throw e;
  } finally {
    await stopInOrder();
    process.off('exit', removeDir);
    await rm(dir, { recursive: true, force: true });
  }

  async function stopInOrder(): Promise<(number | null | undefined)[]> {
    for (const c of clients) c.close();
    const codes: (number | null | undefined)[] = [];
    for (const c of clusters) codes.push(...(await c.stop()));
    // Then the tiers and the embedded server (idempotent: the cluster processes are stopped already).
    await Promise.allSettled(servers.slice(started).map((s) => s.stop()));
    await db?.stop();
    return codes;
  }
}

function track<C extends LeanS3Client>(clients: LeanS3Client[], c: C): C {
  clients.push(c);
  return c;
}

async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return String((await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v);
  } finally {
    await c.end();
  }
}
