/**
 * The README's list of client commands (the first block of "The `coffer`
 * command") against the built CLI: every `coffer kms ...` and `coffer iam ...`
 * command it names, each alternative after ` | ` included, is one the CLI
 * knows (`--help` exits 0 with its usage, where an unknown one exits 2), and
 * every family the CLI's help names is in the README.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli } from './runCli.js';

/** Words of a command up to its first argument, flag or placeholder. */
function words(segment: string): string[] {
  const out: string[] = [];
  for (const w of segment.trim().split(/\s+/)) {
    if (!/^[a-z][a-z0-9-]*$/.test(w)) break;
    out.push(w);
  }
  return out;
}

async function readmeCommands(): Promise<string[][]> {
  const s = await readFile(join(process.cwd(), 'README.md'), 'utf8');
  const section = s.slice(s.indexOf('### The `coffer` command'));
  const block = /```\n([\s\S]*?)```/.exec(section)![1]!;
  const commands: string[][] = [];
  for (const line of block.split('\n')) {
    if (!/^coffer (kms|iam) /.test(line)) continue;
    const [first, ...alternatives] = line.split(/\s{2,}/)[0]!.split(' | ');
    const head = words(first!).slice(1);
    if (head.length < 2) continue; // `coffer kms` alone is the server
    commands.push(head);
    // `create <id> | list | delete <id>`: siblings of the first subcommand.
    for (const alt of alternatives) {
      const w = words(alt);
      if (w.length) commands.push([...head.slice(0, -1), ...w]);
    }
  }
  return commands;
}

describe('README command list', () => {
  beforeAll(() => assertBuilt());

  it('names only commands the CLI has', async () => {
    const commands = await readmeCommands();
    expect(commands.length).toBeGreaterThan(40);
    const failures: string[] = [];
    for (let i = 0; i < commands.length; i += 8) {
      const batch = commands.slice(i, i + 8);
      const runs = await Promise.all(batch.map((c) => cli([...c, '--help'])));
      runs.forEach((r, j) => {
        if (r.code !== 0 || r.out === '')
          failures.push(`coffer ${batch[j]!.join(' ')} --help: exit ${r.code} ${r.err}`);
      });
    }
    expect(failures).toEqual([]);
  });

  it("has every family of the CLI's help", async () => {
    const help = (await cli(['help'])).out;
    const s = await readFile(join(process.cwd(), 'README.md'), 'utf8');
    const families = new Set<string>();
    for (const m of help.matchAll(/^coffer kms ([a-z-]+)/gm)) families.add(`coffer kms ${m[1]}`);
    for (const m of help.matchAll(/^ {2}([a-z-]+) (?:create|grant|list)/gm)) families.add(`coffer iam ${m[1]}`);
    expect(families.size).toBeGreaterThan(10);
    for (const f of families) expect(s, f).toContain(f);
  });
});
