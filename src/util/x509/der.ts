/**
 * The few DER (ASN.1 distinguished encoding) constructors an X.509 certificate
 * needs: tag-length-value, INTEGER, OBJECT IDENTIFIER, strings, times, BIT
 * STRING. Only what certificate.ts writes; nothing here parses.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: `tag` is the whole identifier octet (context tags: 0xa0 | n constructed, 0x80 | n primitive). */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Buffer[]): Buffer => tlv(TAG.SET, ...items);

/** A non-negative INTEGER from big-endian bytes (or a small number): minimal, with a 0x00 when the top bit is set. */
export function integer(v: Buffer | number): Buffer {
  let b = v;
  if (typeof b === 'number') {
    const hex = b.toString(16);
    b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  }
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  return tlv(TAG.INTEGER, (b[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => Number(a));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  const push = (n: number) => {
    const groups: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  };
  push((arcs[0] as number) * 40 + (arcs[1] as number));
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Buffer.from(out));
}

export const utf8 = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const octets = (b: Buffer): Buffer => tlv(TAG.OCTET_STRING, b);
export const boolTrue = (): Buffer => tlv(TAG.BOOLEAN, Buffer.from([0xff]));

/** A BIT STRING of whole bytes (a signature, a public key). */
export const bitString = (b: Buffer): Buffer => tlv(TAG.BIT_STRING, Buffer.from([0]), b);

/**
 * A named-bit BIT STRING (keyUsage) from bit numbers (0 = the first, most
 * significant bit); DER drops trailing zero bits and says how many are unused.
 */
export function namedBits(bits: number[]): Buffer {
  const last = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(last / 8) + 1);
  for (const n of bits) bytes[n >> 3] = (bytes[n >> 3] as number) | (0x80 >> (n & 7));
  return tlv(TAG.BIT_STRING, Buffer.from([7 - (last & 7)]), bytes);
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always UTC, whole seconds. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  return d.getUTCFullYear() < 2050
    ? tlv(TAG.UTC_TIME, Buffer.from(digits.slice(2)))
    : tlv(TAG.GENERALIZED_TIME, Buffer.from(digits));
}
