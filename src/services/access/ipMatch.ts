/**
 * IP addresses against CIDR blocks, IPv4 and IPv6 (aws:SourceIp with
 * IpAddress / NotIpAddress). An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as
 * Node reports IPv4 peers on a dual-stack socket) counts as its IPv4 address.
 */
import { isIP } from 'node:net';

function v4Bytes(ip: string): number[] | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

function v6Bytes(ip: string): number[] | undefined {
  if (isIP(ip) !== 6) return undefined;
  let head = ip;
  let tail4: number[] = [];
  const lastColon = ip.lastIndexOf(':');
  if (ip.slice(lastColon + 1).includes('.')) {
    const v4 = v4Bytes(ip.slice(lastColon + 1));
    if (!v4) return undefined;
    tail4 = v4;
    head = ip.slice(0, lastColon + 1) + '0:0';
  }
  const [l, r] = head.includes('::') ? head.split('::') : [head, undefined];
  const left = l ? l.split(':') : [];
  const right = r !== undefined && r !== '' ? r.split(':') : [];
  const fill = r !== undefined ? 8 - left.length - right.length : 0;
  const groups = [...left, ...Array<string>(fill).fill('0'), ...right];
  if (groups.length !== 8) return undefined;
  const bytes = groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail4.length) bytes.splice(12, 4, ...tail4);
  return bytes;
}

/** The address as bytes: 4 for IPv4 (also IPv4-mapped IPv6), 16 for IPv6. */
export function ipBytes(ip: string): number[] | undefined {
  const v4 = v4Bytes(ip);
  if (v4) return v4;
  const v6 = v6Bytes(ip);
  if (!v6) return undefined;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

function parseCidr(cidr: string): { bytes: number[]; bits: number } | undefined {
  const [addr, len] = cidr.split('/');
  const bytes = ipBytes(addr ?? '');
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (len === undefined) return { bytes, bits: max };
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  return { bytes, bits: Number(len) };
}

export function isCidr(s: string): boolean {
  return parseCidr(s) !== undefined;
}

/** The prefix length of a CIDR block (a bare address: the full length), or undefined if it is none. */
export function cidrBits(s: string): { bits: number; family: 4 | 6 } | undefined {
  const c = parseCidr(s);
  return c ? { bits: c.bits, family: c.bytes.length === 4 ? 4 : 6 } : undefined;
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const a = ipBytes(ip);
  const c = parseCidr(cidr);
  if (!a || !c || a.length !== c.bytes.length) return false;
  for (let bit = 0; bit < c.bits; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((a[i]! & mask) !== (c.bytes[i]! & mask)) return false;
  }
  return true;
}
