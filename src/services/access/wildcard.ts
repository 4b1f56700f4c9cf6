/**
 * IAM's wildcard matching: `*` any run of characters (none included), `?`
 * exactly one; everything else literal. Actions compare case-insensitively,
 * resources and StringLike values case-sensitively.
 */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  // Iterative glob match with backtracking to the last `*`: linear in practice, no regex built from input.
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star !== -1) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}
