/**
 * The built CLI (`dist/src/cli/main.js`) as a child process for cluster tests.
 * One implementation with the cluster bench (scripts/cluster/processes.ts):
 * started with only the environment given (plus PATH), its output collected,
 * a banner line awaited, and stopped with SIGTERM (SIGKILL after 10 s).
 */
import {
  banner as bannerWithin,
  builtPath,
  startCli,
  stopCli,
  type CliProcess,
} from '../../scripts/cluster/processes.js';

export { startCli, stopCli, type CliProcess };

export const CLI = builtPath('src/cli/main.js');

/** The first group of `pattern` in the process's stdout, once it appears (a minute: cluster tests start many). */
export function banner(p: CliProcess, pattern: RegExp, what: string, ms = 60_000): Promise<string> {
  return bannerWithin(p, pattern, what, ms);
}
