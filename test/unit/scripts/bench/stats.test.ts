import { describe, expect, it } from 'vitest';
import {
  cpuTable,
  cpuUnitOf,
  evaluateTargets,
  fmt,
  formatTable,
  median,
  phaseTable,
  ratio,
  TARGETS,
  targetLines,
  type MachineLimits,
  type PhaseResult,
} from '../../../../scripts/bench/stats.js';

const limits: MachineLimits = { md5: 700, aesGcmEncrypt: 1400, aesGcmDecrypt: 1600 };

function phase(id: PhaseResult['id'], coffer: number, s3rver: number, limit?: PhaseResult['limit']): PhaseResult {
  return { id, name: id, unit: 'MB/s', coffer, s3rver, limit };
}

describe('median', () => {
  it('is the middle sample of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([9])).toBe(9);
  });
  it('is the mean of the two middle samples of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it('refuses no samples and non-finite samples', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => median([1, Number.NaN, 2])).toThrow(RangeError);
    expect(() => median([1, Infinity])).toThrow(RangeError);
  });
});

describe('ratio', () => {
  it('divides', () => {
    expect(ratio(300, 200)).toBe(1.5);
  });
  it('is undefined for a missing side or a non-positive base', () => {
    expect(ratio(undefined, 2)).toBeUndefined();
    expect(ratio(2, undefined)).toBeUndefined();
    expect(ratio(2, 0)).toBeUndefined();
    expect(ratio(2, -1)).toBeUndefined();
    expect(ratio(Number.NaN, 1)).toBeUndefined();
  });
});

describe('evaluateTargets', () => {
  it('compares with s3rver or with the machine limit the target names', () => {
    const out = evaluateTargets([phase('put64x1', 420, 100), phase('get64x1', 500, 400)], limits);
    const put = out.find((o) => o.phase === 'put64x1')!;
    expect(put.value).toBeCloseTo(0.6); // 420 / MD5 700, not 420 / s3rver
    expect(put.met).toBe(true);
    const vsS3 = out.find((o) => o.phase === 'get64x1' && o.against === 's3rver')!;
    expect(vsS3.value).toBeCloseTo(1.25);
    expect(vsS3.met).toBe(false);
    const vsGcm = out.find((o) => o.phase === 'get64x1' && o.against === 'aesGcmDecrypt')!;
    expect(vsGcm.value).toBeCloseTo(500 / 1600);
    expect(vsGcm.met).toBe(false);
  });
  it('counts a phase that did not run as not met', () => {
    const out = evaluateTargets([], limits);
    expect(out).toHaveLength(TARGETS.length);
    expect(out.every((o) => !o.met && o.value === undefined)).toBe(true);
  });
  it('meets a target exactly at its minimum', () => {
    const [o] = evaluateTargets([phase('list2000', 300, 100)], limits, [
      { phase: 'list2000', against: 's3rver', min: 3 },
    ]);
    expect(o.met).toBe(true);
  });
});

describe('fmt', () => {
  it('keeps about three significant digits and shows missing figures as -', () => {
    expect(fmt(1234.6)).toBe('1235');
    expect(fmt(12.345)).toBe('12.3');
    expect(fmt(0.456)).toBe('0.46');
    expect(fmt(undefined)).toBe('-');
    expect(fmt(Number.NaN)).toBe('-');
  });
});

describe('formatTable', () => {
  it('pads the first column on the right and the others on the left, under a rule', () => {
    const t = formatTable(
      ['phase', 'a', 'b'],
      [
        ['x', '1', '22'],
        ['longer', '333', '4'],
      ],
    );
    expect(t.split('\n')).toEqual(['phase     a   b', '------  ---  --', 'x         1  22', 'longer  333   4']);
  });
  it('refuses a row with the wrong number of cells', () => {
    expect(() => formatTable(['a', 'b'], [['1']])).toThrow(RangeError);
  });
});

describe('phaseTable and targetLines', () => {
  it('shows both figures, their ratio and the ratio to the limit', () => {
    const lines = phaseTable([phase('put64x1', 350, 200, 'md5'), phase('list2000', 9000, 3000)], limits).split('\n');
    expect(lines[0]).toMatch(/^phase\s+Coffer\s+s3rver\s+ratio\s+vs machine limit$/);
    expect(lines[2]).toMatch(/^put64x1 \(MB\/s\)\s+350\s+200\s+1\.75\s+0\.50 x MD5$/);
    expect(lines[3]).toMatch(/^list2000 \(MB\/s\)\s+9000\s+3000\s+3\.00\s+-$/);
  });
  it('says MET or NOT MET per target', () => {
    const phases = [phase('list2000', 9000, 3000), phase('put4kx16', 100, 100)];
    const lines = targetLines(
      evaluateTargets(phases, limits).filter((o) => o.phase === 'list2000' || o.phase === 'put4kx16'),
      phases,
    );
    expect(lines).toEqual([
      'NOT MET  put4kx16: 1.00 x s3rver (target >= 2)',
      'MET      list2000: 3.00 x s3rver (target >= 3)',
    ]);
  });
});

describe('server CPU figures', () => {
  it('are per MiB, per op, or per 1000 keys', () => {
    expect(cpuUnitOf('MB/s')).toEqual({ label: 'ms/MiB', per: 1 });
    expect(cpuUnitOf('ops/s')).toEqual({ label: 'ms/op', per: 1 });
    expect(cpuUnitOf('keys/s')).toEqual({ label: 'ms/1000 keys', per: 1000 });
  });
  it('are tabled only for phases that measured them, with Coffer / other as the ratio', () => {
    const measured = { ...phase('put4kx16', 300, 400), unit: 'ops/s', cofferCpu: 3, s3rverCpu: 1.5 };
    const lines = cpuTable([measured, phase('list2000', 1, 1)], 'baseline')!.split('\n');
    expect(lines[0]).toMatch(/^server CPU, all threads\s+Coffer\s+baseline\s+ratio$/);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^put4kx16 \(ms\/op\)\s+3\.00\s+1\.50\s+2\.00$/);
    expect(cpuTable([phase('list2000', 1, 1)])).toBeUndefined();
  });
});
