import type { ObjectRecord } from './records.js';

/**
 * `records` without delete markers, at most `limit` of them: the plain listing
 * of current versions for the stores whose range scans cannot filter. Stopping
 * early closes the source (its iterator is returned with this one).
 */
export async function* withoutMarkers(
  records: AsyncIterable<ObjectRecord>,
  limit: number,
): AsyncGenerator<ObjectRecord> {
  if (limit <= 0) return;
  let n = 0;
  for await (const r of records) {
    if (r.deleteMarker) continue;
    yield r;
    if (++n >= limit) return;
  }
}
