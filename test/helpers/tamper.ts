/**
 * Tamper tests: reach into a gateway's data dir (LevelDB records, blob files)
 * and check what a GET of a tampered object delivers.
 */
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RawResponse } from './rawS3.js';

/** Where FsBlobStore keeps blob `id` (two levels of two-hex-digit shards). */
export function blobPath(dataDir: string, id: string): string {
  return join(dataDir, 'blobs', id.slice(0, 2), id.slice(2, 4), id);
}

/** Replace `length` bytes at `offset` of a file, fsynced. */
export async function overwrite(path: string, offset: number, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Exchange the contents of two files. */
export async function swapFiles(a: string, b: string): Promise<void> {
  const [x, y] = await Promise.all([readFile(a), readFile(b)]);
  await Promise.all([writeFile(a, y), writeFile(b, x)]);
}

/** An error response sent before any object byte: 500 InternalError naming an integrity failure. */
export function expectIntegrityError(res: RawResponse, what: string): void {
  expect(res.status, `${what}: status (body ${res.text().slice(0, 200)})`).toBe(500);
  if (res.body.length > 0) {
    expect(res.text(), what).toContain('<Code>InternalError</Code>');
    expect(res.text(), what).toContain('integrity check');
  }
}

/**
 * The body went out under a 200/206 but the connection died short of its
 * Content-Length, and every byte that did arrive is authentic (`authentic` is
 * the plaintext of the requested range).
 */
export function expectDiedShort(res: RawResponse, authentic: Buffer, what: string): void {
  const declared = Number(res.headers['content-length'] ?? NaN);
  expect([200, 206], `${what}: status`).toContain(res.status);
  expect(declared, `${what}: Content-Length`).toBe(authentic.length);
  expect(res.complete, `${what}: the body must not look complete`).toBe(false);
  expect(res.body.length, `${what}: bytes received`).toBeLessThan(authentic.length);
  expect(
    res.body.equals(authentic.subarray(0, res.body.length)),
    `${what}: received bytes are a prefix of the real object`,
  ).toBe(true);
}

/** Never a complete 2xx body: either an error response, or one that died short with only authentic bytes. */
export function expectRefused(res: RawResponse, authentic: Buffer, what: string): void {
  if (res.status >= 200 && res.status < 300) expectDiedShort(res, authentic, what);
  else expectIntegrityError(res, what);
}
