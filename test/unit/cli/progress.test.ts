import { describe, expect, it } from 'vitest';
import { bytesText, createReporter, progressLine } from '../../../src/cli/progress.js';
import type { Io } from '../../../src/cli/output.js';
import type { ScrubProgress, ScrubSummary } from '../../../src/storage/erasure/scrub.js';

const drive = (index: number, over: Partial<ScrubSummary['drives'][number]> = {}) => ({
  index,
  path: `/d${index}`,
  checked: 4,
  ok: 4,
  missing: 0,
  corrupt: 0,
  healed: 0,
  unrecoverable: 0,
  ...over,
});
const progress = (done: number, total?: number): ScrubProgress => ({
  done,
  total,
  bytesRead: 3 * 1024 * 1024,
  drives: [drive(0, { missing: 1, healed: 1 }), drive(1)],
});
const summary: ScrubSummary = {
  repair: true,
  complete: true,
  blobs: { checked: 4, ok: 3, degraded: 0, healed: 1, unrecoverable: 0, unreferenced: 2, recent: 0 },
  bytesRead: 1000,
  drives: [drive(0, { missing: 1, healed: 1 }), drive(1)],
};

function capture(): Io & { outText: () => string; errText: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), env: {}, outText: () => out, errText: () => err };
}

describe('progress reporting', () => {
  it('draws a bar when the total is known, counts otherwise', () => {
    expect(progressLine(progress(2, 4), 'heal', true)).toMatch(
      /^heal \[#{15}\.{15}\] {2}50% 2\/4 blobs, 3\.0 MiB read, 1 bad shards, 1 healed, 0 unrecoverable$/,
    );
    expect(progressLine(progress(2), 'scrub', true)).toBe(
      'scrub: 2 blobs, 3.0 MiB read, 1 bad shards, 1 healed, 0 unrecoverable',
    );
    expect(bytesText(512)).toBe('512 B');
    expect(bytesText(1536)).toBe('1.5 KiB');
  });

  it('on a terminal redraws in place on stderr; elsewhere prints plain lines, throttled but always the last', () => {
    let t = 0;
    const tty = capture();
    const r = createReporter(tty, { json: false, tty: true, verb: 'heal', now: () => t });
    r.progress(progress(1, 4));
    t += 10;
    r.progress(progress(2, 4)); // within 100 ms: skipped
    t += 200;
    r.progress(progress(4, 4));
    expect(tty.errText().split('\r\x1b[2K').filter(Boolean)).toHaveLength(2);
    expect(tty.errText()).not.toContain('\n');

    const plain = capture();
    const p = createReporter(plain, { json: false, tty: false, verb: 'scrub', now: () => t });
    p.progress(progress(1, 4));
    p.progress(progress(2, 4));
    p.progress(progress(4, 4));
    expect(plain.errText()).not.toContain('\r');
    expect(plain.errText().trim().split('\n')).toHaveLength(2);
    p.summary(summary, {});
    expect(plain.outText()).toMatch(
      /heal|scrub finished: 4 blobs checked, 3 ok, 1 healed, 0 degraded, 0 unrecoverable, 2 unreferenced skipped/,
    );
    expect(plain.outText()).toMatch(/DRIVE {2}PATH {2}CHECKED/);
  });

  it('--json: one object per line on stdout, nothing on stderr', () => {
    const io = capture();
    const r = createReporter(io, { json: true, tty: true, verb: 'heal', now: () => 0 });
    r.progress(progress(4, 4));
    r.trouble({
      id: 'a'.repeat(32),
      shards: ['missing', 'ok'],
      reasons: new Map([[0, 'missing']]),
      healed: [0],
      unhealed: [],
      unrecoverable: false,
      bytesRead: 0,
    });
    r.summary(summary, { k: 1, m: 1 });
    const lines = io
      .outText()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(['progress', 'blob', 'summary']);
    expect(lines[1]).toMatchObject({ healed: [0], shards: [{ drive: 0, state: 'missing', reason: 'missing' }] });
    expect(lines[2]).toMatchObject({ k: 1, m: 1, complete: true, drives: [{ index: 0, healed: 1 }, { index: 1 }] });
    expect(io.errText()).toBe('');
  });
});
