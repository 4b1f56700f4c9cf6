/**
 * IPv4 and IPv6 CIDR ranges and address matching, for the KMS's network
 * policies (allowedIP, allowedNetwork) and its trusted proxies. Every address
 * is compared as 16 bytes: an IPv4 address (or range) is its IPv4-mapped IPv6
 * form (::ffff:a.b.c.d), so a client that reaches a dual-stack listener as
 * ::ffff:10.0.0.1 matches 10.0.0.0/8 as it should.
 */
import { isIP } from 'node:net';

export interface Cidr {
  /** 16 bytes. */
  base: Buffer;
  /** Prefix length over the 16 bytes (an IPv4 /24 is 96 + 24). */
  bits: number;
  /** As written. */
  text: string;
}

/** An address as 16 bytes, or undefined when it is not an IP address. */
export function addressBytes(ip: string): Buffer | undefined {
  const s = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const v = isIP(s.split('%')[0] ?? '');
  if (v === 4) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...s.split('.').map(Number)]);
  if (v !== 6) return undefined;
  const plain = s.split('%')[0] as string; // a zone id (fe80::1%eth0) is not part of the address
  const halves = plain.split('::');
  const groups = (part: string | undefined): number[] => {
    if (!part) return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const b = g.split('.').map(Number) as [number, number, number, number];
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const all = halves.length === 2 ? [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail] : head;
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** A CIDR range ("10.0.0.0/8", "fd00::/8") or a single address; throws a message naming what is wrong. */
export function parseCidr(text: string): Cidr {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  const addr = m?.[1];
  const v = addr ? isIP(addr) : 0;
  const base = addr && v ? addressBytes(addr) : undefined;
  if (!m || !base) throw new Error(`not an IPv4 or IPv6 address or CIDR range: ${JSON.stringify(text)}`);
  const max = v === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) throw new Error(`prefix /${prefix} is longer than ${max} bits in ${JSON.stringify(text)}`);
  const bits = v === 4 ? 96 + prefix : prefix;
  return { base: mask(base, bits), bits, text: text.trim() };
}

function mask(b: Buffer, bits: number): Buffer {
  const out = Buffer.from(b);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = (out[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export function inCidr(ip: Buffer, range: Cidr): boolean {
  return mask(ip, range.bits).equals(range.base);
}

/** A list of ranges that answers "is this address in any of them". */
export class CidrSet {
  readonly ranges: readonly Cidr[];
  constructor(ranges: readonly string[]) {
    this.ranges = ranges.map(parseCidr);
  }
  has(ip: string | undefined): boolean {
    const b = ip === undefined ? undefined : addressBytes(ip);
    return b !== undefined && this.ranges.some((r) => inCidr(b, r));
  }
}

/** Loopback, RFC 1918 and RFC 4193 (unique local) ranges: Coffer's default private networks. */
export const PRIVATE_RANGES: readonly string[] = Object.freeze([
  '127.0.0.0/8',
  '::1/128',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
]);
