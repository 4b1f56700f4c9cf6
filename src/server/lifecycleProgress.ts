/**
 * The lifecycle worker's progress (services/lifecycleWorker.ts), kept in a file
 * of the data dir so a restart continues a pass where it stopped. It names
 * bucket uids and the last key handled: what the metadata store holds in
 * clear anyway. Written whole to a temporary file, fsynced and renamed over
 * the old one, so a crash leaves the previous or the new state, never half.
 * Unreadable state is not fatal: the pass starts again from the beginning.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LifecycleProgress, LifecycleProgressState } from '../services/lifecycleWorker.js';
import { fsyncDir } from '../storage/durableFs.js';
import type { Logger } from '../util/logger.js';

export const LIFECYCLE_PROGRESS_FILE = 'lifecycle-progress.json';

export function fileProgress(dataDir: string, log: Logger): LifecycleProgress {
  const path = join(dataDir, LIFECYCLE_PROGRESS_FILE);
  let last = '{}';
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
          log.warn('lifecycle progress unreadable; passes start from the beginning', { err: (e as Error).message });
        return {};
      }
      try {
        const v: unknown = JSON.parse(text);
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        last = text;
        return v as LifecycleProgressState;
      } catch (e) {
        log.warn('lifecycle progress damaged; passes start from the beginning', { err: (e as Error).message });
        return {};
      }
    },
    async save(state) {
      const text = JSON.stringify(state);
      if (text === last) return;
      const tmp = `${path}.tmp`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      await fsyncDir(dirname(path));
      last = text;
    },
  };
}
