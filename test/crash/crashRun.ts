/**
 * One seeded crash run: a server on a fresh data dir (one drive or an erasure
 * set of four), a few workers running the mixed workload, and `killPoints`
 * times: SIGKILL after a seeded random delay, inspect the disk, restart, verify
 * against the ledger. At the end a clean stop must leave no orphan blob and no
 * temp file. Throws with the seed (COFFER_CRASH_SEED) on the first crash not
 * survived, so the run can be repeated.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditGaps } from './auditCheck.js';
import { inspectDisk, type DiskState } from './diskCheck.js';
import { KpClient } from './kpOps.js';
import { Ledger } from './ledger.js';
import { must } from './outcome.js';
import { Prng } from './prng.js';
import * as s3 from './s3Ops.js';
import { startServer, type RunningServer, type ServerLayout } from './serverProcess.js';
import { verify } from './verify.js';
import { Worker, type CycleContext } from './worker.js';

export const BASE_BUCKETS = ['crash-base-a', 'crash-base-b'];

export interface CrashRunOptions {
  seed: string;
  drives: 1 | 4;
  killPoints: number;
  workers?: number;
  /** Range of the seeded delay between the start of the workload and the kill. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Root keys each worker creates and rotates at most (default 6). */
  rootKeysPerWorker?: number;
  /** Fail when an acknowledged KMS call has no audit entry after a crash (default true: the audit log fsyncs each entry before the call is answered). */
  strictAudit?: boolean;
}

export interface CrashRunReport {
  seed: string;
  drives: number;
  killPoints: number;
  /** Operation kinds in flight at the kills, summed over the run. */
  interrupted: Record<string, number>;
  acked: ReturnType<Ledger['acked']>;
  /** Orphan blobs and temp files the crashes left for the start-up sweep. */
  orphansLeft: number;
  tempsLeft: number;
  /** Acknowledged KMS calls whose audit entry a crash lost. */
  auditLost: number;
}

class CrashFailure extends Error {}

export async function crashRun(o: CrashRunOptions): Promise<CrashRunReport> {
  const root = await mkdtemp(join(tmpdir(), 'coffer-crash-'));
  const layout: ServerLayout = {
    dataDir: join(root, 'data'),
    ...(o.drives === 4 ? { drives: [1, 2, 3, 4].map((i) => join(root, `drive${i}`)) } : {}),
  };
  // COFFER_PARITY defaults to half the drives: 4 drives are k=2 data + m=2 parity.
  const quorum = o.drives === 4 ? 2 : 1;
  const rng = new Prng(o.seed);
  const ledger = new Ledger();
  const workers = Array.from(
    { length: o.workers ?? 3 },
    (_, i) => new Worker(i, rng.fork(`w${i}`), BASE_BUCKETS, o.rootKeysPerWorker),
  );
  const report: CrashRunReport = {
    seed: o.seed,
    drives: o.drives,
    killPoints: o.killPoints,
    interrupted: {},
    acked: ledger.acked(),
    orphansLeft: 0,
    tempsLeft: 0,
    auditLost: 0,
  };
  let server: RunningServer | undefined;
  let cycle = -1;
  const fail = (what: string, problems: string[]): never => {
    throw new CrashFailure(
      `crash run failed (repeat with COFFER_CRASH_SEED=${o.seed}, ${o.drives} drive(s)) at kill point ${cycle}: ${what}\n  ` +
        problems.slice(0, 25).join('\n  ') +
        (problems.length > 25 ? `\n  ... and ${problems.length - 25} more` : '') +
        (server ? `\nserver stderr: ${server.stderr().slice(-2000)}` : ''),
    );
  };
  try {
    server = await startServer(layout);
    for (const b of BASE_BUCKETS) {
      must(await s3.createBucket(server.s3, b), `create ${b}`);
      ledger.buckets.set(b, { name: b, acked: true });
    }
    let prev: DiskState | undefined;
    for (cycle = 0; cycle < o.killPoints; cycle++) {
      if (cycle > 0) server = await startServer(layout);
      const kp = await KpClient.connect(server.kmsUrl);
      if (cycle > 0) {
        const problems = await verify(server.s3, kp, ledger);
        if (problems.length) fail('the restarted server does not hold what was acknowledged', problems);
      }
      let stopped = false;
      const ctx: CycleContext = { s3: server.s3, kp, ledger, stopped: () => stopped, current: new Map() };
      const runs = workers.map((w) => w.run(ctx));
      await new Promise((r) => setTimeout(r, rng.int(o.minDelayMs ?? 40, o.maxDelayMs ?? 400)));
      stopped = true;
      for (const kind of ctx.current.values()) report.interrupted[kind] = (report.interrupted[kind] ?? 0) + 1;
      await server.kill();
      await Promise.all(runs);
      if (ledger.unexpected.length) fail('requests failed before the kill', ledger.unexpected);
      const disk = await inspectDisk(layout, quorum, root);
      const problems = [...disk.problems, ...sweptSince(prev, disk)];
      const gaps = auditGaps(ledger, disk.audit);
      report.auditLost = gaps.length;
      if (o.strictAudit !== false) problems.push(...gaps);
      if (problems.length) fail('the data dir after the kill', problems);
      report.orphansLeft += disk.orphans.length;
      report.tempsLeft += disk.temps.length;
      prev = disk;
    }
    cycle = o.killPoints;
    server = await startServer(layout);
    const problems = await verify(server.s3, await KpClient.connect(server.kmsUrl), ledger);
    if (problems.length) fail('the restarted server does not hold what was acknowledged', problems);
    const code = await server.stop();
    if (code !== 0) fail('clean stop', [`exit code ${code}`]);
    const disk = await inspectDisk(layout, quorum, root);
    const left = [...disk.orphans.map((id) => `orphan blob ${id}`), ...disk.temps.map((t) => `temp file ${t}`)];
    problems.push(...disk.problems, ...sweptSince(prev, disk), ...left);
    if (problems.length) fail('the data dir after the last restart and a clean stop', problems);
    report.acked = ledger.acked();
    return report;
  } finally {
    await server?.kill().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
}

/** The orphans and temp files of the previous crash must be gone: the restart's sweep removed them. */
function sweptSince(prev: DiskState | undefined, now: DiskState): string[] {
  if (!prev) return [];
  const temps = new Set(now.temps);
  return [
    ...prev.orphans.filter((id) => now.blobs.has(id)).map((id) => `orphan blob ${id} survived the start-up sweep`),
    ...prev.temps.filter((t) => temps.has(t)).map((t) => `temp file ${t} survived the start-up sweep`),
  ];
}
