/**
 * The bench's pure helpers: medians, ratios, the targets the performance issue
 * sets, and the table. No I/O, so they are unit-tested on their own.
 */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no samples');
  if (xs.some((x) => !Number.isFinite(x))) throw new RangeError(`median of a non-finite sample: ${xs.join(', ')}`);
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** a / b, or undefined when either side is missing or b is not a positive number. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return undefined;
  return a / b;
}

export type PhaseId = 'put64x1' | 'put64x4' | 'get64x1' | 'get64x4' | 'range1m' | 'put4kx16' | 'get4kx16' | 'list2000';

/** The machine limit a phase is compared with: PUTs hash every byte with MD5, GETs decrypt every byte. */
export type LimitId = 'md5' | 'aesGcmDecrypt';

export interface PhaseResult {
  id: PhaseId;
  name: string;
  unit: string;
  coffer: number;
  s3rver: number;
  limit?: LimitId;
  /** Median server CPU (all threads) per unit of work, in cpuUnitOf(unit); absent without /proc. */
  cofferCpu?: number;
  s3rverCpu?: number;
}

/** How server CPU is shown for a phase measured in `unit`: its label and how many work units it is per. */
export function cpuUnitOf(unit: string): { label: string; per: number } {
  if (unit === 'MB/s') return { label: 'ms/MiB', per: 1 };
  if (unit === 'keys/s') return { label: 'ms/1000 keys', per: 1000 };
  return { label: `ms/${unit.replace(/s\/s$/, '')}`, per: 1 };
}

export interface MachineLimits {
  md5: number;
  aesGcmEncrypt: number;
  aesGcmDecrypt: number;
}

export interface Target {
  phase: PhaseId;
  /** Compared with s3rver's figure, or with a machine limit. */
  against: 's3rver' | LimitId;
  min: number;
}

/** The targets of the performance issue, as ratios measured in the same run. */
export const TARGETS: readonly Target[] = [
  { phase: 'put64x1', against: 'md5', min: 0.6 },
  { phase: 'put64x4', against: 's3rver', min: 1.4 },
  { phase: 'get64x1', against: 's3rver', min: 1.5 },
  { phase: 'get64x1', against: 'aesGcmDecrypt', min: 0.35 },
  { phase: 'range1m', against: 's3rver', min: 1.5 },
  { phase: 'put4kx16', against: 's3rver', min: 2 },
  { phase: 'get4kx16', against: 's3rver', min: 2 },
  { phase: 'list2000', against: 's3rver', min: 3 },
];

export interface TargetOutcome extends Target {
  /** The measured ratio; undefined when the phase did not run. */
  value?: number;
  met: boolean;
}

export function evaluateTargets(
  phases: readonly PhaseResult[],
  limits: MachineLimits,
  targets: readonly Target[] = TARGETS,
): TargetOutcome[] {
  return targets.map((t) => {
    const p = phases.find((x) => x.id === t.phase);
    const base = p === undefined ? undefined : t.against === 's3rver' ? p.s3rver : limits[t.against];
    const value = ratio(p?.coffer, base);
    return { ...t, value, met: value !== undefined && value >= t.min };
  });
}

/** Figures for display: three significant digits, no exponent, '-' for missing. */
export function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Left-aligned first column, right-aligned others, two spaces between columns. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  for (const r of all)
    if (r.length !== header.length) throw new RangeError(`row has ${r.length} cells, header ${header.length}`);
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The phase table: phase, Coffer, s3rver, Coffer/s3rver, Coffer/machine limit. `other` renames the s3rver column (A/B runs). */
export function phaseTable(phases: readonly PhaseResult[], limits: MachineLimits, other = 's3rver'): string {
  const rows = phases.map((p) => [
    `${p.name} (${p.unit})`,
    fmt(p.coffer),
    fmt(p.s3rver),
    fmt(ratio(p.coffer, p.s3rver)),
    p.limit === undefined ? '-' : `${fmt(ratio(p.coffer, limits[p.limit]))} x ${p.limit === 'md5' ? 'MD5' : 'GCM-dec'}`,
  ]);
  return formatTable(['phase', 'Coffer', other, 'ratio', 'vs machine limit'], rows);
}

/** Server CPU per unit of work (lower is better), when it was measured. */
export function cpuTable(phases: readonly PhaseResult[], other = 's3rver'): string | undefined {
  const rows = phases
    .filter((p) => p.cofferCpu !== undefined || p.s3rverCpu !== undefined)
    .map((p) => [
      `${p.name} (${cpuUnitOf(p.unit).label})`,
      fmt(p.cofferCpu),
      fmt(p.s3rverCpu),
      fmt(ratio(p.cofferCpu, p.s3rverCpu)),
    ]);
  return rows.length === 0 ? undefined : formatTable(['server CPU, all threads', 'Coffer', other, 'ratio'], rows);
}

export function targetLines(outcomes: readonly TargetOutcome[], phases: readonly PhaseResult[]): string[] {
  return outcomes.map((o) => {
    const name = phases.find((p) => p.id === o.phase)?.name ?? o.phase;
    const against = o.against === 's3rver' ? 's3rver' : o.against === 'md5' ? 'MD5' : 'AES-GCM decrypt';
    return `${o.met ? 'MET    ' : 'NOT MET'}  ${name}: ${fmt(o.value)} x ${against} (target >= ${o.min})`;
  });
}
