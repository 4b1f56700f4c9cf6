/**
 * Directories that hold secrets or ciphertext are private to the service user:
 * created 0700, and tightened if they already exist more open (LevelDB creates
 * its directories with the process umask, typically 0755).
 */
import { chmod, mkdir } from 'node:fs/promises';

export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}
