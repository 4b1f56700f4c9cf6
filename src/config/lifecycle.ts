/** The lifecycle worker's settings (services/lifecycleWorker.ts). */
import type { Config } from '../config.js';
import type { Names } from './values.js';
import { int } from './values.js';

/**
 * COFFER_LIFECYCLE_DAY_SECONDS: how long "a day" of a lifecycle rule lasts
 * (86400; tests shorten it, as RGW's lifecycle debug interval does).
 * COFFER_LIFECYCLE_SCAN_SECONDS: seconds between the worker's passes over the
 * buckets that have rules (default 3600; 0 = no worker).
 * COFFER_LIFECYCLE_RATE: versions examined or removed per second (default 200; 0 = unlimited).
 */
export function lifecycleOf(
  raw: Record<string, unknown>,
  { name }: Names,
): Pick<Config, 'lifecycleDaySeconds' | 'lifecycleScanSeconds' | 'lifecycleRate'> {
  return {
    lifecycleDaySeconds: int(raw.lifecycleDaySeconds ?? 86_400, name('lifecycleDaySeconds'), 1, 86_400),
    lifecycleScanSeconds: int(raw.lifecycleScanSeconds ?? 3600, name('lifecycleScanSeconds'), 0, 7 * 86_400),
    lifecycleRate: int(raw.lifecycleRate ?? 200, name('lifecycleRate'), 0, 1_000_000),
  };
}
