import { describe, expect, it, vi } from 'vitest';
import { BlobLeases } from '../../../src/services/blobLeases.js';

describe('BlobLeases', () => {
  it('deletes at once when nobody reads the blob', async () => {
    const l = new BlobLeases();
    const del = vi.fn(async () => undefined);
    await l.deleteWhenFree('a', del);
    expect(del).toHaveBeenCalledTimes(1);
  });

  it('defers the delete until the last reader releases, then runs it once', async () => {
    const l = new BlobLeases();
    const r1 = l.acquire(['a', 'b']);
    const r2 = l.acquire(['a']);
    const del = vi.fn(async () => undefined);
    await l.deleteWhenFree('a', del);
    expect(del).not.toHaveBeenCalled();
    r1();
    r1(); // idempotent: must not release r2's hold
    expect(del).not.toHaveBeenCalled();
    r2();
    expect(del).toHaveBeenCalledTimes(1);
    expect(l.held).toBe(0);
  });
});
