/**
 * The memory phases: the server's resident set (VmRSS of its process, read from
 * /proc by the bench, so the server needs no debug endpoint) while 8 clients
 * each upload a 1 GiB object at once (the peak), and how much a GET of a 1 GiB
 * object grows it (peak during the GET minus the level just before). A store
 * that streams holds a few segments per request whatever the object size; one
 * that buffers shows the object size here. Each GET is verified like the others.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { MiB, PatternContent } from './content.js';
import type { Subject } from './phases.js';

export const MEM_OBJECT = 1024 * MiB;
export const MEM_CLIENTS = 8;
/** Sampling period of VmRSS; short enough to catch a peak that lasts a few segments' time. */
const SAMPLE_MS = 20;

export type MemoryId = 'memPut8x1g' | 'memGet1g';

export interface MemoryResult {
  id: MemoryId;
  name: string;
  /** Peak RSS (memPut8x1g) or RSS growth (memGet1g), MiB; the median over the repetitions. */
  coffer: number;
  other?: number;
}

/** VmRSS of a process in MiB, or undefined where there is no /proc (or the process is gone). */
export async function rssMiB(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `work` while sampling the process's RSS; resolves with the highest sample and the one before the work. */
async function peakDuring(child: ChildProcess, work: () => Promise<void>): Promise<{ before: number; peak: number }> {
  const before = await rssMiB(child.pid);
  if (before === undefined) throw new Error('no /proc: the memory phases need Linux');
  let peak = before;
  let running = true;
  const sampler = (async () => {
    while (running) {
      const r = await rssMiB(child.pid);
      if (r !== undefined && r > peak) peak = r;
      await new Promise((res) => setTimeout(res, SAMPLE_MS));
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await sampler;
  }
  const after = await rssMiB(child.pid);
  return { before, peak: Math.max(peak, after ?? 0) };
}

let seed = 1_000_000;
const memKey = (i: number) => `mem/${i}`;

/** 8 x 1 GiB at once: the peak RSS in MiB. Leaves the objects for memGet1g. */
export async function memPut(s: Subject, child: ChildProcess, block: Buffer): Promise<number> {
  const contents = Array.from({ length: MEM_CLIENTS }, () => new PatternContent(block, ++seed, MEM_OBJECT));
  const { peak } = await peakDuring(child, async () => {
    await Promise.all(
      contents.map(async (c, i) => {
        await s.client.putObject(s.bucket, memKey(i), c.stream());
        s.big.set(memKey(i), c);
      }),
    );
  });
  return peak;
}

/** One GET of a 1 GiB object: RSS growth in MiB over the level before it. */
export async function memGet(s: Subject, child: ChildProcess, r: number): Promise<number> {
  const key = memKey(r % MEM_CLIENTS);
  const c = s.big.get(key);
  if (c === undefined) throw new Error(`${s.name}: ${key} was never written`);
  const sha = s.expectedSha(c);
  const { before, peak } = await peakDuring(child, async () => {
    const got = await s.client.getObject(s.bucket, key);
    if (got.status !== 200 || got.bytes !== c.length || got.sha256 !== sha)
      throw new Error(`${s.name} GET ${key}: got ${got.status}, ${got.bytes} bytes, sha256 ${got.sha256}`);
  });
  return peak - before;
}

/** The memory targets of the performance issue (MiB, at most). */
export const MEMORY_TARGETS: Readonly<Record<MemoryId, number>> = { memPut8x1g: 256, memGet1g: 64 };

export function memoryLines(results: readonly MemoryResult[], other: string): string[] {
  return results.map((m) => {
    const max = MEMORY_TARGETS[m.id];
    const o = m.other === undefined ? '' : `, ${other} ${m.other.toFixed(0)} MiB`;
    return `${m.coffer <= max ? 'MET    ' : 'NOT MET'}  ${m.name}: ${m.coffer.toFixed(0)} MiB${o} (target <= ${max} MiB)`;
  });
}
