/** Common-prefix rules shared by the plain and the versions listing. */

/**
 * True when `after` is itself a common prefix under `prefix` (it extends the
 * prefix and its first delimiter after the prefix is its last character). The
 * prefix itself is not: resuming at a folder-marker object "dir/" with prefix
 * "dir/" must list the folder.
 */
export function isCommonPrefix(after: string, prefix: string, delimiter: string): boolean {
  if (after.length <= prefix.length || !after.startsWith(prefix) || !after.endsWith(delimiter)) return false;
  return after.indexOf(delimiter, prefix.length) === after.length - delimiter.length;
}
