/**
 * Length-prefixed framing, as in encryption.md: lp(x) = uint32-BE byte length ‖ bytes.
 * Framing every field is what makes concatenations unambiguous, e.g. the AAD list
 * ["ab", "c"] must not authenticate as ["a", "bc"]. (src/crypto/kdf.ts has the same
 * helper; kms keeps its own so that the KMS core does not depend on the data path.)
 */
export function lp(x: Buffer | string): Buffer {
  const bytes = typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
  if (bytes.length > 0xffffffff) throw new RangeError('lp: value longer than 2^32-1 bytes');
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

/** lp() of every part, concatenated. */
export function lpAll(parts: ReadonlyArray<Buffer | string>): Buffer {
  return Buffer.concat(parts.map((p) => lp(p)));
}
