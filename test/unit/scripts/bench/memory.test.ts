import { describe, expect, it } from 'vitest';
import { MEMORY_TARGETS, memoryLines, rssMiB } from '../../../../scripts/bench/memory.js';

describe('bench memory phases', () => {
  it('reads the resident set of a live process from /proc, and nothing for no process', async () => {
    const rss = await rssMiB(process.pid);
    // This process holds at least its own V8 heap, and far less than the machine.
    expect(rss).toBeGreaterThan(process.memoryUsage().heapUsed / 1024 / 1024);
    expect(rss).toBeLessThan(64 * 1024);
    expect(await rssMiB(undefined)).toBeUndefined();
  });

  it('holds the issue targets: 256 MiB peak for 8 uploads, 64 MiB growth for a GET', () => {
    expect(MEMORY_TARGETS).toEqual({ memPut8x1g: 256, memGet1g: 64 });
  });

  it('says MET at or under the target and NOT MET above it, with the other server when measured', () => {
    const lines = memoryLines(
      [
        { id: 'memPut8x1g', name: 'put', coffer: 256, other: 300.4 },
        { id: 'memGet1g', name: 'get', coffer: 64.5 },
      ],
      'baseline',
    );
    expect(lines).toEqual([
      'MET      put: 256 MiB, baseline 300 MiB (target <= 256 MiB)',
      'NOT MET  get: 65 MiB (target <= 64 MiB)',
    ]);
  });
});
