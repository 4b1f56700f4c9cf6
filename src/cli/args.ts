/**
 * Command-line parsing for `coffer`: node:util's parseArgs (strict: an unknown
 * flag is an error, not silently ignored), plus the errors every command
 * shares. A UsageError exits 2, any other CliError 1.
 */
import { parseArgs } from 'node:util';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Flags common to every client command. */
export const CLIENT_OPTIONS: OptionSpec = {
  url: { type: 'string' },
  apikey: { type: 'string' },
  instance: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export function parse(
  argv: string[],
  options: OptionSpec,
  positionals: { min?: number; max?: number; usage: string },
): Parsed {
  let out: Parsed;
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    out = { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]}\nusage: ${positionals.usage}`);
  }
  if (out.values.help) return out;
  const n = out.positionals.length;
  if (n < (positionals.min ?? 0) || n > (positionals.max ?? 0)) throw new UsageError(`usage: ${positionals.usage}`);
  return out;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** A positive integer flag. */
export function int(p: Parsed, name: string, max = 1_000_000): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max)
    throw new UsageError(`--${name} must be an integer from 1 to ${max}`);
  return Number(v);
}
