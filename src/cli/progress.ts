/**
 * How `coffer heal` and `coffer scrub` report a pass: a progress bar redrawn in
 * place on stderr when stderr is a terminal, plain progress lines every few
 * seconds when it is not (a log file should not fill with carriage returns),
 * and with --json one JSON object per line on stdout: `progress` events, a
 * `blob` event for each blob found damaged, and a final `summary` with the
 * per-drive counts. Without --json the summary is a table on stdout.
 */
import type { ScrubProgress, ScrubSummary } from '../storage/erasure/scrub.js';
import type { BlobCheck } from '../storage/erasure/shardHealer.js';
import { table, type Io } from './output.js';

export interface Reporter {
  progress(p: ScrubProgress): void;
  trouble(c: BlobCheck): void;
  summary(s: ScrubSummary, extra: Record<string, unknown>): void;
}

export interface ReporterOptions {
  json: boolean;
  /** stderr is a terminal. */
  tty: boolean;
  /** "heal" or "scrub". */
  verb: string;
  now?: () => number;
}

const BAR = 30;

export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

function counts(p: ScrubProgress): { healed: number; bad: number; unrecoverable: number } {
  let healed = 0;
  let bad = 0;
  let unrecoverable = 0;
  for (const d of p.drives) {
    healed += d.healed;
    bad += d.missing + d.corrupt;
    unrecoverable += d.unrecoverable;
  }
  return { healed, bad, unrecoverable };
}

/** One progress line: a bar when the total is known, counts either way. */
export function progressLine(p: ScrubProgress, verb: string, bar: boolean): string {
  const c = counts(p);
  const of = p.total !== undefined ? `${p.done}/${p.total}` : `${p.done}`;
  const tail = `${of} blobs, ${bytesText(p.bytesRead)} read, ${c.bad} bad shards, ${c.healed} healed, ${c.unrecoverable} unrecoverable`;
  if (!bar || p.total === undefined) return `${verb}: ${tail}`;
  const f = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
  const filled = Math.round(f * BAR);
  return `${verb} [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${String(Math.floor(f * 100)).padStart(3)}% ${tail}`;
}

export function createReporter(io: Io, o: ReporterOptions): Reporter {
  const now = o.now ?? Date.now;
  // Redraws of the bar at most 10 a second; plain lines and JSON events every 2 s.
  const every = o.json || !o.tty ? 2000 : 100;
  let last = -Infinity;
  let drawn = false;
  return {
    progress(p) {
      const t = now();
      if (t - last < every && p.done !== p.total) return;
      last = t;
      if (o.json) {
        io.out(
          JSON.stringify({ type: 'progress', done: p.done, total: p.total ?? null, bytesRead: p.bytesRead }) + '\n',
        );
      } else if (o.tty) {
        io.err(`\r\x1b[2K${progressLine(p, o.verb, true)}`);
        drawn = true;
      } else {
        io.err(progressLine(p, o.verb, false) + '\n');
      }
    },
    trouble(c) {
      const shards = c.shards.map((state, i) => ({ drive: i, state, reason: c.reasons.get(i) }));
      if (o.json) {
        io.out(
          JSON.stringify({
            type: 'blob',
            id: c.id,
            unrecoverable: c.unrecoverable,
            healed: c.healed,
            unhealed: c.unhealed,
            shards: shards.filter((s) => s.state !== 'ok'),
          }) + '\n',
        );
      } else if (c.unrecoverable) {
        if (drawn) io.err('\r\x1b[2K');
        io.err(`${o.verb}: blob ${c.id} is unrecoverable (fewer than k good shards)\n`);
      }
    },
    summary(s, extra) {
      if (o.json) {
        io.out(JSON.stringify({ type: 'summary', ...extra, ...s }) + '\n');
        return;
      }
      if (drawn) io.err('\r\x1b[2K');
      const b = s.blobs;
      io.out(
        `${o.verb} ${s.complete ? 'finished' : 'interrupted (safe to rerun)'}: ${b.checked} blobs checked, ${b.ok} ok, ` +
          `${b.healed} healed, ${b.degraded} degraded, ${b.unrecoverable} unrecoverable` +
          (b.unreferenced ? `, ${b.unreferenced} unreferenced skipped` : '') +
          `; ${bytesText(s.bytesRead)} read\n`,
      );
      io.out(
        table(s.drives, [
          { header: 'DRIVE', value: (d) => d.index },
          { header: 'PATH', value: (d) => d.path },
          { header: 'CHECKED', value: (d) => d.checked },
          { header: 'OK', value: (d) => d.ok },
          { header: 'MISSING', value: (d) => d.missing },
          { header: 'CORRUPT', value: (d) => d.corrupt },
          { header: 'HEALED', value: (d) => d.healed },
          { header: 'UNRECOVERABLE', value: (d) => d.unrecoverable },
        ]),
      );
    },
  };
}
