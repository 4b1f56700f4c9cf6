/**
 * A throwaway PostgreSQL server for tests and the cluster bench: `initdb` in a temp dir, started on a
 * free loopback port with its Unix socket in that dir, one fresh database per
 * `createDatabase()`, stopped and removed by `stop()` (call it in afterAll) and,
 * should the test process die first, by a process 'exit' hook or, when it is
 * killed by a signal, by a watchdog shell that outlives it.
 *
 * PostgreSQL refuses to run as root, and CI runs as root: then the cluster is
 * owned by, and every server program runs as, an unprivileged user (the
 * `postgres` system user the distribution package creates, else `nobody`) via
 * `runuser`. The programs are found on PATH or in the distribution's versioned
 * directories (Debian's /usr/lib/postgresql/<major>/bin), newest first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://user@127.0.0.1:port/postgres */
  adminUrl: string;
  /** Create an empty database and return its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const USER = 'coffer';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Directory holding initdb and pg_ctl: PATH first, then the versioned install dirs, newest first. */
export function findPgBinDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'initdb')) && executable(join(dir, 'pg_ctl'))) return dir;
  }
  for (const root of ['/usr/lib/postgresql']) {
    let versions: string[];
    try {
      versions = readdirSync(root);
    } catch {
      continue;
    }
    versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    for (const v of versions) {
      const dir = join(root, v, 'bin');
      if (executable(join(dir, 'initdb')) && executable(join(dir, 'pg_ctl'))) return dir;
    }
  }
  return undefined;
}

/** Name of an unprivileged user to run the server as when we are root. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { name, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root, and neither a "postgres" nor a "nobody" user exists to run PostgreSQL as');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], runAs: string | undefined): Promise<void> {
  const [file, argv] = runAs ? ['runuser', ['-u', runAs, '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`)),
    );
  });
}

export interface PostgresOptions {
  /**
   * fsync and synchronous commit as PostgreSQL ships them (the bench: a PUT then
   * pays for a durable commit as it would in production). Default off: tests
   * throw the cluster away and do not test PostgreSQL's durability.
   */
  durable?: boolean;
}

/** Start a private PostgreSQL server. Throws when PostgreSQL is not installed. */
export async function startPostgres(options: PostgresOptions = {}): Promise<TestPostgres> {
  const bin = findPgBinDir();
  if (!bin)
    throw new Error(
      'PostgreSQL (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin: run scripts/install-test-deps.sh',
    );
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'coffer-pg-'));
  const data = join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const pgCtl = join(bin, 'pg_ctl');
  let state: 'initdb' | 'starting' | 'running' | 'stopped' = 'initdb';
  let watchdog: ChildProcess | undefined;
  const stopSync = () => {
    watchdog?.kill();
    if (state === 'starting' || state === 'running') {
      // Also after a failed or interrupted start: pg_ctl stop is harmless when no server came up.
      const argv = ['-D', data, '-m', 'immediate', '-w', 'stop'];
      spawnSync(user ? 'runuser' : pgCtl, user ? ['-u', user.name, '--', pgCtl, ...argv] : argv, { stdio: 'ignore' });
    }
    state = 'stopped';
    rmSync(dir, { recursive: true, force: true });
  };
  // If the process exits without stop() (a crash, Ctrl-C in the bench), do not leave a server behind. While
  // pg_ctl start is under way the server may not be stoppable yet: the watchdog below stops it once we are gone.
  const onExit = () => {
    if (state !== 'starting') stopSync();
  };
  process.once('exit', onExit);
  // A process killed by a signal runs no 'exit' hook (test runners end their workers that way): a
  // watchdog outside it stops the server and removes the dir once this process is gone.
  const as = user ? `runuser -u ${user.name} -- ` : '';
  watchdog = spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${as}"${pgCtl}" -D "${data}" -m immediate -w stop >/dev/null 2>&1; rm -rf "${dir}"`,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  try {
    // Trust auth on loopback and a private socket dir: nothing else on the machine can reach it.
    await run(
      join(bin, 'initdb'),
      ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      user?.name,
    );
    const port = await freePort();
    // fsync off unless asked: the cluster is thrown away after the run (the store's own durability is PostgreSQL's, not ours to test).
    const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=${options.durable ? 'on' : 'off'} -c max_connections=200`;
    state = 'starting';
    await run(pgCtl, ['-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start'], user?.name);
    state = 'running';
    const adminUrl = `postgres://${USER}@127.0.0.1:${port}/postgres`;
    let n = 0;
    return {
      adminUrl,
      async createDatabase() {
        const name = `coffer_test_${process.pid}_${++n}`;
        const c = new pg.Client({ connectionString: adminUrl });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        return `postgres://${USER}@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        process.off('exit', onExit);
        stopSync();
      },
    };
  } catch (e) {
    process.off('exit', onExit);
    stopSync();
    throw e;
  }
}
