/**
 * `npm run bench -- --drives [--quick]`: what erasure coding costs. Three
 * configurations of Coffer in one run, each in its own process: one drive (the
 * plain layout), four drives 2+2, and the same four-drive server after one
 * drive's directory is removed (GETs then rebuild a quarter of every stripe from
 * parity). PUT/GET 64 MiB and 4 KiB, as ratios to the single-drive figures
 * measured alongside them: the servers take turns repetition by repetition, so
 * a burst of load from elsewhere hits all alike.
 *
 * The four-drive server runs with the periodic scrub off
 * (COFFER_SCRUB_INTERVAL_SECONDS=0) so no background pass competes with the
 * measurement; the heal queue skips shards of the missing drive.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from './content.js';
import { LeanS3Client } from './leanClient.js';
import { phases, Subject, type BenchSizes, type Phase } from './phases.js';
import { startCoffer, type RunningServer } from './servers.js';
import { fmt, formatTable, median, ratio } from './stats.js';

const PHASES = ['put64x1', 'get64x1', 'put4kx16', 'get4kx16'] as const;
const GETS = ['get64x1', 'get4kx16'];

interface Row {
  id: string;
  name: string;
  unit: string;
  oneDrive: number;
  fourDrives: number;
  /** Single-drive figure measured alongside the degraded one, and the degraded one. */
  oneDriveAgain?: number;
  oneMissing?: number;
}

async function measure(phase: Phase, subjects: Subject[], runs: number): Promise<number[]> {
  for (const s of subjects) await phase.setup?.(s);
  const samples = subjects.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? [...subjects.keys()] : [...subjects.keys()].reverse();
    for (const i of order) samples[i].push((await phase.rep(subjects[i], r)).perSecond);
  }
  process.stderr.write(
    `${phase.name}: ${subjects.map((s, i) => `${s.name} ${samples[i].map((x) => x.toFixed(0)).join(' ')}`).join(' | ')} ${phase.unit}\n`,
  );
  return samples.map(median);
}

export async function runDrivesBench(
  quick: boolean,
  runs: number,
  sizes: BenchSizes,
  servers: RunningServer[],
  clients: LeanS3Client[],
): Promise<void> {
  const one = await startCoffer([], undefined, '1 drive');
  servers.push(one);
  const drives = (scratch: string) => [0, 1, 2, 3].map((i) => join(scratch, `drive${i}`));
  let fourDirs: string[] = [];
  const four = await startCoffer([], undefined, '4 drives 2+2', (scratch) => {
    fourDirs = drives(scratch);
    return { COFFER_DRIVES: fourDirs.join(','), COFFER_PARITY: '2', COFFER_SCRUB_INTERVAL_SECONDS: '0' };
  });
  servers.push(four);
  const subjects = [one, four].map((srv) => {
    const client = new LeanS3Client(srv.endpoint);
    clients.push(client);
    return new Subject(srv.name, client, 'bench');
  });
  for (const s of subjects) await s.client.createBucket(s.bucket);

  const all = phases(randomBytes(MiB), sizes).filter((p) => (PHASES as readonly string[]).includes(p.id));
  const rows: Row[] = [];
  for (const p of all) {
    const [a, b] = await measure(p, subjects, runs);
    rows.push({ id: p.id, name: p.name, unit: p.unit, oneDrive: a, fourDrives: b });
  }
  // One drive gone (its directory removed under the running server): every GET reconstructs.
  await rm(fourDirs[3], { recursive: true, force: true });
  subjects[1] = Object.assign(Object.create(Subject.prototype) as Subject, subjects[1], {
    name: '4 drives, one missing',
  });
  for (const p of all.filter((x) => GETS.includes(x.id))) {
    const [a, b] = await measure(p, subjects, runs);
    Object.assign(
      rows.find((r) => r.id === p.id)!,
      { oneDriveAgain: a, oneMissing: b },
    );
  }

  console.log(
    `\nCoffer on drives: medians of ${runs} repetitions${quick ? ' (--quick)' : ''}, each configuration in its own process, node ${process.version}`,
  );
  console.log(
    formatTable(
      ['phase', 'unit', '1 drive', '4 drives 2+2', 'ratio', '1 drive (again)', '4 drives, 1 missing', 'ratio'],
      rows.map((r) => [
        r.name,
        r.unit,
        fmt(r.oneDrive),
        fmt(r.fourDrives),
        fmt(ratio(r.fourDrives, r.oneDrive)),
        fmt(r.oneDriveAgain),
        fmt(r.oneMissing),
        fmt(ratio(r.oneMissing, r.oneDriveAgain)),
      ]),
    ),
  );
  console.log(
    JSON.stringify({
      bench: 'coffer-drives',
      node: process.version,
      runs,
      quick,
      phases: rows.map((r) => ({
        ...r,
        fourDrivesRatio: ratio(r.fourDrives, r.oneDrive) ?? null,
        oneMissingRatio: ratio(r.oneMissing, r.oneDriveAgain) ?? null,
      })),
    }),
  );
}
