/**
 * A small seeded PRNG (mulberry32 over a 32-bit FNV-1a hash of the seed text):
 * the same seed gives the same sequence, so a failing crash run can be repeated
 * with COFFER_CRASH_SEED. Not for cryptography.
 */
export class Prng {
  private state: number;

  constructor(readonly seed: string) {
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) {
      h ^= seed.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    this.state = h;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A child generator whose sequence depends only on this seed and `label`. */
  fork(label: string): Prng {
    return new Prng(`${this.seed}/${label}`);
  }
}
