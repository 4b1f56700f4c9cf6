/** `coffer migrate` through the command dispatcher, against a real PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../../src/cli/output.js';
import { run } from '../../../src/cli/run.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

function io(env: NodeJS.ProcessEnv = {}): Io & { text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), env, text: () => out, errors: () => err };
}

describe('coffer migrate', () => {
  it('applies the schema once (COFFER_META_URL or --meta-url), then has nothing to do', async () => {
    const url = await server.createDatabase();
    const first = io({ COFFER_META_URL: url });
    expect(await run(['migrate'], first)).toBe(0);
    expect(first.text()).toMatch(/^schema migrated from version 0 to 4 \(applied 1, 2, 3, 4\)\n$/);
    const again = io();
    expect(await run(['migrate', '--meta-url', url], again)).toBe(0);
    expect(again.text()).toBe('schema is at version 4, nothing to do\n');
    expect(again.text() + first.text()).not.toContain(url);
  });

  it('no database, a bad URL, an unreachable server: exit 2, 2, 1 with one line each', async () => {
    const none = io();
    expect(await run(['migrate'], none)).toBe(2);
    expect(none.errors()).toMatch(/no metadata database: set COFFER_META_URL/);
    const bad = io();
    expect(await run(['migrate', '--meta-url', 'mysql://u:pw@x/db'], bad)).toBe(2);
    expect(bad.errors()).toMatch(/--meta-url: must be a postgres/);
    expect(bad.errors()).not.toContain('pw@');
    const down = io();
    expect(await run(['migrate', '--meta-url', 'postgres://coffer:s3cret@127.0.0.1:1/x'], down)).toBe(1);
    expect(down.errors()).toMatch(/^coffer: migration failed: .*ECONNREFUSED/);
    expect(down.errors()).not.toContain('s3cret');
    expect(down.errors().trim().split('\n')).toHaveLength(1);
  });

  it('is listed in the usage', async () => {
    const help = io();
    expect(await run(['help'], help)).toBe(0);
    expect(help.text()).toContain('coffer migrate [--meta-url URL]');
  });
});
