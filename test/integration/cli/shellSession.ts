/**
 * What readmeWalkthrough.test.ts needs to run a README shell block as a reader
 * would paste it: the block's lines (between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->`), and one long-lived bash that runs them one at a time,
 * so variables and exports carry from line to line, with each line's stdout,
 * stderr and exit status kept apart.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BlockLine {
  /** The line as the README has it. */
  text: string;
  /** `# refused: TEXT`: the line must fail and print TEXT. */
  refused?: string;
}

/** The shell lines of the fenced block between the markers (comment-only and blank lines dropped). */
export async function readmeBlock(readme: string, name: string): Promise<BlockLine[]> {
  const s = await readFile(readme, 'utf8');
  const start = s.indexOf(`<!-- ${name}:start -->`);
  const end = s.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`README has no ${name} markers`);
  const fence = /```sh\n([\s\S]*?)```/.exec(s.slice(start, end));
  if (!fence?.[1]) throw new Error(`no sh block between the ${name} markers`);
  return fence[1]
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((text) => {
      const m = /\s#\s*refused:\s*(.+)$/.exec(text);
      return m?.[1] ? { text, refused: m[1].trim() } : { text };
    });
}

export interface LineResult {
  code: number;
  out: string;
  err: string;
}

export class ShellSession {
  private readonly bash: ChildProcessWithoutNullStreams;
  private buffered = '';
  private waiting?: (chunk: string) => void;
  private n = 0;

  constructor(
    private readonly cwd: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.bash = spawn('/bin/bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.bash.stdout.on('data', (b: Buffer) => {
      this.buffered += b.toString();
      this.waiting?.(this.buffered);
    });
    this.bash.stderr.on('data', () => undefined);
  }

  /** Runs one line in the session (stdin closed for it); resolves with its own output. */
  async run(line: string, timeoutMs = 60_000): Promise<LineResult> {
    const i = ++this.n;
    const out = join(this.cwd, `.line-${i}.out`);
    const err = join(this.cwd, `.line-${i}.err`);
    const marker = `__line_${i}_done__`;
    // The newline before `}` keeps a trailing comment from swallowing it.
    this.bash.stdin.write(`{ ${line}\n} </dev/null >'${out}' 2>'${err}'; echo "${marker} $?"\n`);
    const code = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`line ${i} did not finish: ${line}`)), timeoutMs);
      const check = (text: string) => {
        const m = new RegExp(`${marker} (\\d+)`).exec(text);
        if (!m) return;
        clearTimeout(timer);
        this.waiting = undefined;
        this.buffered = '';
        resolve(Number(m[1]));
      };
      this.waiting = check;
      check(this.buffered);
    });
    return { code, out: await readFile(out, 'utf8'), err: await readFile(err, 'utf8') };
  }

  close(): void {
    this.bash.stdin.end();
    this.bash.kill('SIGTERM');
  }
}
