/**
 * CPU of a whole configuration, for the cluster bench: the user + system time
 * (/proc) of every process that serves a request, summed. On a machine shared
 * with other work this is steadier than wall time, and it answers "where does
 * a request's cost go": embedded is one process; a gateway request also runs in
 * the KMS, the data tier and PostgreSQL. PostgreSQL's share is that of the
 * backends serving the configuration's database (their process title names it),
 * so its background writers are left out and a backend that exits between two
 * samples loses its time: a lower bound.
 */
import { readdir, readFile } from 'node:fs/promises';

/** USER_HZ: the unit of /proc/<pid>/stat times on Linux. */
const CLOCK_TICKS = 100;

/** CPU seconds `pid` has used so far; undefined when it is gone or there is no /proc. */
export async function pidCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // After the parenthesised command name (which may hold spaces): utime is field 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Pids of the PostgreSQL backends connected to database `db` ("postgres: <user> <db> <client> <state>"). */
export async function backendPids(db: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        try {
          const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8');
          if (cmd.startsWith('postgres: ') && cmd.split(' ')[2] === db) out.push(Number(e));
        } catch {
          // Gone meanwhile.
        }
      }),
  );
  return out;
}

/** CPU seconds used so far by the processes `pids()` names now; undefined without /proc. */
export type CpuProbe = () => Promise<number | undefined>;

export function processesCpu(pids: () => Promise<number[]>): CpuProbe {
  return async () => {
    const times = await Promise.all((await pids()).map(pidCpuSeconds));
    if (times.length === 0 || times.every((t) => t === undefined)) return undefined;
    return times.reduce<number>((a, t) => a + (t ?? 0), 0);
  };
}
