/** The parsing pieces every group of settings shares: the error type and the value checks. */
import type { Config } from '../config.js';
import { parseCidr } from '../util/cidr.js';

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** How a setting is named in an error: by where it was read from, and by its environment variable when it was not set. */
export interface Names {
  name(k: keyof Config): string;
  env(k: keyof Config): string;
}

export function int(raw: unknown, name: string, min: number, max: number): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

export function str(raw: unknown, name: string): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') throw new ConfigError(name, 'must be a string');
  return raw;
}

/** A list setting: comma-separated in the environment, an array in the config file. */
export function list(raw: unknown, setting: string): string[] | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
  if (!Array.isArray(items) || !items.every((i) => typeof i === 'string' && i !== ''))
    throw new ConfigError(setting, 'must be a comma-separated list (or an array), none empty');
  return items as string[];
}

export function cidrs(raw: unknown, setting: string): readonly string[] | undefined {
  const items = list(raw, setting);
  if (!items) return undefined;
  for (const c of items) {
    try {
      parseCidr(c);
    } catch (e) {
      throw new ConfigError(setting, (e as Error).message);
    }
  }
  return Object.freeze(items);
}
