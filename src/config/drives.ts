/** The blob drives (erasure coding) and the background healer. */
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Names } from './values.js';
import { ConfigError, int } from './values.js';

/** `drives` and `parity`, validated; {} when no drives are configured. */
export function drivesOf(
  rawDrives: unknown,
  rawParity: unknown,
  drivesName: string,
  parityName: string,
): Pick<Config, 'drives' | 'parity'> {
  const list = typeof rawDrives === 'string' ? rawDrives.split(',').map((d) => d.trim()) : rawDrives;
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    if (rawParity !== undefined && rawParity !== null) throw new ConfigError(parityName, 'needs drives to be set');
    return {};
  }
  if (!Array.isArray(list) || !list.every((d) => typeof d === 'string' && d !== '')) {
    throw new ConfigError(drivesName, 'must be a comma-separated list (or an array) of directories, none empty');
  }
  const drives = list.map((d: string) => resolve(d));
  if (new Set(drives).size !== drives.length) throw new ConfigError(drivesName, 'names the same directory twice');
  const n = drives.length;
  if (n > 32) throw new ConfigError(drivesName, `at most 32 drives, got ${n}`);
  const parity =
    rawParity === undefined || rawParity === null
      ? n >= 2
        ? Math.max(1, Math.floor(n / 2))
        : 0
      : int(rawParity, parityName, 0, n - 1);
  return { drives: Object.freeze(drives), parity };
}

/** The background healer's settings, present exactly when drives are configured. */
export function healerOf(
  raw: Record<string, unknown>,
  { name }: Names,
  drives: boolean,
): Pick<Config, 'healRateMiBps' | 'scrubIntervalSeconds'> {
  const set = (v: unknown) => v !== undefined && v !== null;
  if (!drives) {
    for (const k of ['healRateMiBps', 'scrubIntervalSeconds'] as const)
      if (set(raw[k])) throw new ConfigError(name(k), 'needs drives to be set');
    return {};
  }
  return {
    healRateMiBps: int(raw.healRateMiBps ?? 16, name('healRateMiBps'), 0, 100_000),
    scrubIntervalSeconds: int(raw.scrubIntervalSeconds ?? 86_400, name('scrubIntervalSeconds'), 0, 365 * 86_400),
  };
}
