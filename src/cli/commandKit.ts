/**
 * The shared shape of the smaller client command families (accounts, S3 keys,
 * identities, instances, key rings, policies, import tokens): a table of
 * subcommands, each with its positional arguments and flags, dispatched with
 * the same parsing, `--help`, usage errors (exit 2) and API client as
 * keysCommand.ts and iamCommand.ts build by hand.
 */
import { CLIENT_OPTIONS, CliError, flag, parse, UsageError, type OptionSpec, type Parsed } from './args.js';
import { clientFrom, type ApiClient } from './client.js';
import { json, type Io } from './output.js';

export interface Subcommand {
  /** `<id> [--flag X]`: what follows the subcommand in the usage line. */
  args: string;
  /** Number of positional arguments: exact, or [min, max]. */
  positionals?: number | [number, number];
  options?: OptionSpec;
  run(p: Parsed, api: ApiClient, io: Io): Promise<void>;
}

export interface Family {
  /** `coffer kms key-rings`: the words before the subcommand. */
  prefix: string;
  usage: string;
  commands: Record<string, Subcommand>;
}

/** Runs `argv` (the subcommand first) against a family; 0 on success, errors as CliError. */
export async function runFamily(f: Family, argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(f.usage + '\n');
    return cmd === undefined ? 2 : 0;
  }
  const sub = Object.prototype.hasOwnProperty.call(f.commands, cmd) ? f.commands[cmd] : undefined;
  if (!sub) throw new UsageError(`unknown command "${f.prefix.replace(/^coffer /, '')} ${cmd}"\n\n${f.usage}`);
  const [min, max] =
    typeof sub.positionals === 'number' ? [sub.positionals, sub.positionals] : (sub.positionals ?? [0, 0]);
  const p = parse(
    rest,
    { ...CLIENT_OPTIONS, ...sub.options },
    { min, max, usage: `${f.prefix} ${cmd} ${sub.args}`.trimEnd() },
  );
  if (flag(p, 'help')) {
    io.out(f.usage + '\n');
    return 0;
  }
  await sub.run(p, clientFrom(p, io), io);
  return 0;
}

/** The API's JSON with --json, else the human text. */
export function print(io: Io, p: Parsed, value: unknown, human: () => string): void {
  io.out(flag(p, 'json') ? json(value) : human());
}

/** A required string flag. */
export function need(p: Parsed, name: string, usage: string): string {
  const v = p.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required\nusage: ${usage}`);
  return v;
}

/** `on`/`off` (also true/false, enable/disable) as a boolean. */
export function onOff(v: string | undefined, what: string): boolean {
  if (v === 'on' || v === 'true' || v === 'enable' || v === 'enabled') return true;
  if (v === 'off' || v === 'false' || v === 'disable' || v === 'disabled') return false;
  throw new UsageError(`${what} must be on or off`);
}

export function one<T>(body: { resources?: T[] } | undefined): T {
  const r = body?.resources?.[0];
  if (!r) throw new CliError('the KMS answered without a resource');
  return r;
}

export const iso = (ms: number | undefined): string | undefined =>
  typeof ms === 'number' ? new Date(ms).toISOString() : undefined;

export const enc = encodeURIComponent;
