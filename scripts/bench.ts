/**
 * `npm run bench [-- --quick] [-- --phases=put64x1,get64x1] [-- --drives] [-- --cluster]`: Coffer next to
 * s3rver, driven by the same lean client (scripts/bench/leanClient.ts), plus
 * this machine's one-core MD5 and AES-256-GCM rates, all measured in one run so
 * the ratios survive a noisy, shared machine.
 *
 * Each server runs in its own process (Coffer through its real entry point) on
 * 127.0.0.1 and an ephemeral port; both are stopped at the end, on error and on
 * SIGINT/SIGTERM. The servers take turns repetition by repetition, so a burst of
 * load from elsewhere hits both alike. Prints the table (medians of BENCH_RUNS,
 * default 5, at least 3), whether each target of the performance issue is met,
 * and a final JSON line.
 *
 * BENCH_SERVER_ARGS: extra node flags for the Coffer process, e.g. --cpu-prof.
 * --drives: the erasure-coding mode instead (scripts/bench/drivesMode.ts): one
 * drive vs four drives 2+2 vs four with one missing, as ratios to one drive.
 * --cluster [--tier=s3rver|coffer]: the scale-out mode instead (both tiers
 * unless --tier or --quick, which keeps to s3rver)
 * (scripts/bench/clusterMode.ts): embedded vs 1 gateway vs 3 gateways on a
 * throwaway PostgreSQL and an S3 data tier, as ratios to embedded.
 * Memory phases (memPut8x1g: peak server RSS while 8 clients each PUT 1 GiB at
 * once; memGet1g: RSS growth during a 1 GiB GET): after the others in a full
 * run; with --quick only when named in --phases (they move 8 GiB per server).
 * --baseline=<other build>/dist/src/main.js: A/B mode, that build takes
 * s3rver's place (its column and ratios), so a change is measured against the
 * code before it in one interleaved run instead of two runs minutes apart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { diskWriteFsync, machineLimits } from './bench/baselines.js';
import { runClusterBench, TIERS, type TierKind } from './bench/clusterMode.js';
import { clusterJson, clusterTable } from './bench/clusterReport.js';
import { runDrivesBench } from './bench/drivesMode.js';
import { MiB } from './bench/content.js';
import { LeanS3Client } from './bench/leanClient.js';
import { MEM_CLIENTS, memGet, memoryLines, memPut, type MemoryResult } from './bench/memory.js';
import { phases, Subject, type BenchSizes } from './bench/phases.js';
import { cpuSeconds, startCoffer, startS3rver, type RunningServer } from './bench/servers.js';
import {
  cpuTable,
  cpuUnitOf,
  evaluateTargets,
  median,
  phaseTable,
  TARGETS,
  targetLines,
  type PhaseResult,
} from './bench/stats.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--phases='))
  ?.slice('--phases='.length)
  .split(',');
const baselineArg = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
// Absolute: the server runs with its data dir as working directory.
const baseline = baselineArg === undefined ? undefined : resolve(baselineArg);
const OTHER = baseline ? 'baseline' : 's3rver';
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? (quick ? 3 : 5)));
const SIZES: BenchSizes = quick
  ? { ranges: 16, smallOps: 200, listings: 2 }
  : { ranges: 48, smallOps: 600, listings: 5 };

const servers: RunningServer[] = [];
const clients: LeanS3Client[] = [];

async function stopAll(): Promise<void> {
  for (const c of clients) c.close();
  await Promise.allSettled(servers.map((s) => s.stop()));
}

// A killed bench must not leave servers behind: signal -> stop them, then exit;
// any other exit -> SIGTERM them synchronously (their data dirs are in tmp).
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void stopAll().finally(() => process.exit(130)));
}
process.once('exit', () => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGTERM');
});

async function cluster(): Promise<void> {
  const tierArg = args.find((a) => a.startsWith('--tier='))?.slice('--tier='.length);
  if (tierArg !== undefined && !(TIERS as readonly string[]).includes(tierArg))
    throw new Error(`--tier must be one of ${TIERS.join(', ')}`);
  // Both tiers double the gateways to drive; --quick keeps to s3rver to stay under 3 minutes.
  const tiers: readonly TierKind[] = tierArg !== undefined ? [tierArg as TierKind] : quick ? ['s3rver'] : TIERS;
  const r = await runClusterBench({ runs: RUNS, sizes: SIZES, tiers, only, servers, clients });
  const m = r.machine;
  console.log(
    `\nCoffer embedded vs gateways on PostgreSQL ${m.postgres} (fsync on) + an S3 data tier: medians of ${r.runs} repetitions${quick ? ' (--quick)' : ''}, node ${m.node}`,
  );
  console.log(
    `machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, shared by the client, every server process and PostgreSQL`,
  );
  console.log(clusterTable(r));
  console.log(JSON.stringify(clusterJson(r, quick)));
}

async function main(): Promise<void> {
  if (args.includes('--drives')) return runDrivesBench(quick, RUNS, SIZES, servers, clients);
  if (args.includes('--cluster')) return cluster();
  const extra = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
  servers.push(await startCoffer(extra));
  servers.push(baseline ? await startCoffer(extra, baseline, OTHER) : await startS3rver());
  const subjects = servers.map((srv) => {
    const client = new LeanS3Client(srv.endpoint);
    clients.push(client);
    return new Subject(srv.name, client, 'bench');
  });
  const childOf = new Map(subjects.map((s, i) => [s, servers[i].child]));
  for (const s of subjects) await s.client.createBucket(s.bucket);

  const limits = machineLimits(RUNS);
  const scratch = await mkdtemp(join(tmpdir(), 'coffer-bench-disk-'));
  const disk = await diskWriteFsync(scratch, RUNS).finally(() => rm(scratch, { recursive: true, force: true }));

  const block = randomBytes(MiB);
  const results: PhaseResult[] = [];
  for (const phase of phases(block, SIZES)) {
    if (only && !only.includes(phase.id)) continue;
    for (const s of subjects) await phase.setup?.(s);
    const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const cpu = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const { per } = cpuUnitOf(phase.unit);
    for (let r = 0; r < RUNS; r++) {
      // Alternate who goes first, so neither always runs on a warmer (or busier) machine.
      const order = r % 2 === 0 ? subjects : [...subjects].reverse();
      for (const s of order) {
        const c0 = await cpuSeconds(childOf.get(s)!);
        const { perSecond, units } = await phase.rep(s, r);
        const c1 = await cpuSeconds(childOf.get(s)!);
        samples.get(s.name)!.push(perSecond);
        if (c0 !== undefined && c1 !== undefined) cpu.get(s.name)!.push(((c1 - c0) * 1000 * per) / units);
      }
    }
    const cpuMedian = (name: string) => (cpu.get(name)!.length === RUNS ? median(cpu.get(name)!) : undefined);
    const result: PhaseResult = {
      id: phase.id,
      name: phase.name,
      unit: phase.unit,
      coffer: median(samples.get('coffer')!),
      s3rver: median(samples.get(OTHER)!),
      limit: phase.limit,
      cofferCpu: cpuMedian('coffer'),
      s3rverCpu: cpuMedian(OTHER),
    };
    results.push(result);
    process.stderr.write(
      `${phase.name}: coffer ${samples
        .get('coffer')!
        .map((x) => x.toFixed(0))
        .join(' ')} | ${OTHER} ${samples
        .get(OTHER)!
        .map((x) => x.toFixed(0))
        .join(' ')} ${phase.unit}\n`,
    );
  }

  const memory = await runMemory(subjects, childOf, block);

  // The targets are ratios to s3rver and the machine; an A/B run has no s3rver.
  const outcomes = baseline
    ? []
    : evaluateTargets(results, limits).filter((o) => results.some((p) => p.id === o.phase));
  console.log(
    `\nCoffer vs ${baseline ? `baseline ${baseline}` : 's3rver'}: medians of ${RUNS} repetitions${quick ? ' (--quick)' : ''}, each server in its own process, node ${process.version}`,
  );
  console.log(
    `machine, one core: MD5 ${limits.md5.toFixed(0)} MB/s, AES-256-GCM encrypt ${limits.aesGcmEncrypt.toFixed(0)} MB/s, decrypt ${limits.aesGcmDecrypt.toFixed(0)} MB/s; new file write+fsync ${disk.toFixed(0)} MB/s`,
  );
  console.log(phaseTable(results, limits, OTHER));
  const cpuLines = cpuTable(results, OTHER);
  if (cpuLines !== undefined) console.log(`\n${cpuLines}`);
  console.log(baseline ? '\ntargets: not evaluated in A/B mode' : '\ntargets:');
  for (const l of targetLines(outcomes, results)) console.log(`  ${l}`);
  if (memory.length > 0) console.log(`\nserver RSS (VmRSS), MiB:`);
  for (const l of memoryLines(memory, OTHER)) console.log(`  ${l}`);
  console.log(
    JSON.stringify({
      bench: baseline ? 'coffer-vs-baseline' : 'coffer-vs-s3rver',
      node: process.version,
      runs: RUNS,
      quick,
      machine: { ...limits, diskWriteFsync: disk },
      phases: results,
      memory,
      targets: outcomes.map((o) => ({
        phase: o.phase,
        against: o.against,
        min: o.min,
        value: o.value ?? null,
        met: o.met,
      })),
      allTargetsMet: outcomes.length === TARGETS.length && outcomes.every((o) => o.met),
    }),
  );
}

/** The memory phases, when selected: Coffer and the other server take turns as in the timed phases. */
async function runMemory(
  subjects: Subject[],
  childOf: Map<Subject, RunningServer['child']>,
  block: Buffer,
): Promise<MemoryResult[]> {
  const wantGet = only ? only.includes('memGet1g') : !quick;
  const wantPut = wantGet || (only ? only.includes('memPut8x1g') : !quick);
  if (!wantPut) return [];
  const puts = new Map<Subject, number>();
  const gets = new Map<Subject, number[]>(subjects.map((s) => [s, []]));
  // One 8 GiB round per server: the peak hardly varies, the time it takes does.
  for (const s of subjects) puts.set(s, await memPut(s, childOf.get(s)!, block));
  if (wantGet) {
    for (let r = 0; r < RUNS; r++) {
      for (const s of r % 2 === 0 ? subjects : [...subjects].reverse())
        gets.get(s)!.push(await memGet(s, childOf.get(s)!, r));
    }
  }
  const [coffer, other] = subjects;
  process.stderr.write(
    `memory: PUT 8x1 GiB peak RSS coffer ${puts.get(coffer)!.toFixed(0)} | ${OTHER} ${puts.get(other)!.toFixed(0)} MiB; ` +
      `GET 1 GiB RSS growth coffer ${gets
        .get(coffer)!
        .map((x) => x.toFixed(0))
        .join(' ')} | ${OTHER} ${gets
        .get(other)!
        .map((x) => x.toFixed(0))
        .join(' ')} MiB\n`,
  );
  const out: MemoryResult[] = [
    {
      id: 'memPut8x1g',
      name: `PUT 1 GiB x${MEM_CLIENTS} at once, peak RSS`,
      coffer: puts.get(coffer)!,
      other: puts.get(other),
    },
  ];
  if (wantGet)
    out.push({
      id: 'memGet1g',
      name: 'GET 1 GiB, RSS growth',
      coffer: median(gets.get(coffer)!),
      other: median(gets.get(other)!),
    });
  return out;
}

main()
  .then(stopAll)
  .catch(async (e: unknown) => {
    console.error(e);
    await stopAll();
    process.exit(1);
  });
