/**
 * Length-prefixed framing (encryption.md): lp(x) = uint32-BE byte length ‖ bytes.
 * Framing every field makes concatenations unambiguous: the AAD list ["ab", "c"]
 * must not authenticate as ["a", "bc"]. One definition, shared with the data path.
 */
import { lp } from '../crypto/kdf.js';

export { lp };

/** lp() of every part, concatenated. */
export function lpAll(parts: ReadonlyArray<Buffer | string>): Buffer {
  return Buffer.concat(parts.map((p) => lp(p)));
}
