/** The bytes a GET/HEAD serves: a Range header, or one part by ?partNumber= (S3's rules for each). */
import type { ObjectRecord } from '../meta/records.js';
import { parseRange } from './conditions.js';
import { DomainError } from './errors.js';

export function servedRange(
  rec: ObjectRecord,
  partNumber: number | undefined,
  rangeHeader: string | undefined,
): { range?: { start: number; end: number }; partsCount?: number } {
  let range: { start: number; end: number } | undefined;
  let partsCount: number | undefined;
  if (partNumber !== undefined) {
    partsCount = rec.parts?.length ?? 1;
    if (partNumber < 1 || partNumber > partsCount)
      throw new DomainError('InvalidRange', 'The requested partnumber is not satisfiable', {
        ActualObjectSize: rec.size,
      });
    if (rec.parts) {
      let off = 0;
      for (let i = 0; i < partNumber - 1; i++) off += rec.parts[i].size;
      const sz = rec.parts[partNumber - 1].size;
      range = { start: off, end: off + sz - 1 };
    } else if (rec.size > 0) {
      range = { start: 0, end: rec.size - 1 };
    }
  } else {
    range = parseRange(rangeHeader, rec.size);
  }
  return { range, partsCount };
}
