import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIFECYCLE_PROGRESS_FILE, fileProgress } from '../../../src/server/lifecycleProgress.js';
import { createLogger, type Logger } from '../../../src/util/logger.js';

let dir: string;
const warnings: string[] = [];
const log: Logger = { ...createLogger('silent'), warn: (m: string) => void warnings.push(m) } as Logger;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-lcp-'));
  warnings.length = 0;
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('fileProgress', () => {
  it('is empty before anything was saved, and reads back what was saved (0600, no temp file left)', async () => {
    const p = fileProgress(dir, log);
    expect(await p.load()).toEqual({});
    const state = { abc: { phase: 'objects' as const, after: 'photos/2026/x.jpg' } };
    await p.save(state);
    expect(await fileProgress(dir, log).load()).toEqual(state);
    expect((await stat(join(dir, LIFECYCLE_PROGRESS_FILE))).mode & 0o777).toBe(0o600);
    await expect(stat(join(dir, `${LIFECYCLE_PROGRESS_FILE}.tmp`))).rejects.toThrow();
    await p.save({});
    expect(JSON.parse(await readFile(join(dir, LIFECYCLE_PROGRESS_FILE), 'utf8'))).toEqual({});
    expect(warnings).toEqual([]);
  });

  it('a damaged file is no failure: passes start again from the beginning, with a warning', async () => {
    await writeFile(join(dir, LIFECYCLE_PROGRESS_FILE), '{"abc": {"pha');
    expect(await fileProgress(dir, log).load()).toEqual({});
    await writeFile(join(dir, LIFECYCLE_PROGRESS_FILE), '[1, 2]');
    expect(await fileProgress(dir, log).load()).toEqual({});
    expect(warnings).toHaveLength(2);
  });
});
