/**
 * After a restart, the multipart uploads: one acknowledged as created is still
 * listed (with every acknowledged part) unless its Complete or Abort was
 * acknowledged; a Complete in flight either finished (upload gone, object is
 * the assembled one) or did not (upload listed, object untouched), never half;
 * an upload whose create was in flight may appear once and is adopted; no
 * other upload appears.
 */
import type { RawEndpoint } from '../helpers/rawS3.js';
import { matches, type Ledger, type ObjState, type UploadEntry } from './ledger.js';
import { describeOutcome } from './outcome.js';
import * as s3 from './s3Ops.js';

export async function verifyUploads(
  ep: RawEndpoint,
  ledger: Ledger,
  seen: Map<string, ObjState>,
  problems: string[],
): Promise<void> {
  const listed = new Map<string, { key: string; uploadId: string }>();
  for (const b of ledger.buckets.values()) {
    if (!b.acked) continue;
    const o = await s3.listUploads(ep, b.name);
    if (o.kind !== 'ok') {
      problems.push(`ListMultipartUploads ${b.name}: ${describeOutcome(o)}`);
      continue;
    }
    for (const u of o.value) listed.set(u.uploadId, { key: `${b.name}/${u.key}`, uploadId: u.uploadId });
  }
  const known = new Set<string>();
  for (const u of ledger.uploads) {
    if (u.uploadId !== undefined) known.add(u.uploadId);
  }
  for (const u of ledger.uploads) {
    const id = `${u.bucket}/${u.key}`;
    if (u.uploadId === undefined) {
      if (u.createAcked) continue;
      // The create was in flight: at most one upload nobody knows may have appeared for the key.
      const found = [...listed.values()].filter((l) => l.key === id && !known.has(l.uploadId));
      if (found.length > 1) problems.push(`${found.length} uploads appeared for one unacknowledged create of ${id}`);
      if (found.length >= 1) {
        u.uploadId = found[0]!.uploadId;
        u.createAcked = true;
        known.add(u.uploadId);
      }
      continue;
    }
    const isListed = listed.has(u.uploadId);
    if (u.completeAcked || u.abortAcked) {
      if (isListed) problems.push(`upload ${u.uploadId} of ${id} was completed or aborted but is still listed`);
      continue;
    }
    if (u.completion && u.abortStarted === false) {
      // Complete was in flight: exactly one of "still open" and "object is the assembled one".
      const done = matches(seen.get(id) ?? { present: false }, u.completion);
      if (done === isListed) {
        problems.push(`upload ${u.uploadId} of ${id}: complete in flight left listed=${isListed}, assembled=${done}`);
      }
      if (!isListed) u.completeAcked = true;
      else u.completion = undefined;
      continue;
    }
    if (u.abortStarted) {
      if (!isListed) u.abortAcked = true;
      else u.abortStarted = false;
      continue;
    }
    if (!isListed) {
      problems.push(`upload ${u.uploadId} of ${id} was acknowledged as created but is not listed`);
      continue;
    }
    await verifyParts(ep, u, problems);
  }
  for (const l of listed.values()) {
    if (!known.has(l.uploadId)) problems.push(`upload ${l.uploadId} of ${l.key} is listed but no request created it`);
  }
}

async function verifyParts(ep: RawEndpoint, u: UploadEntry, problems: string[]): Promise<void> {
  const o = await s3.listParts(ep, u.bucket, u.key, u.uploadId!);
  if (o.kind !== 'ok') {
    problems.push(`ListParts ${u.uploadId}: ${describeOutcome(o)}`);
    return;
  }
  const parts = new Map(o.value.map((p) => [p.partNumber, p]));
  for (const [n, p] of [...u.parts]) {
    const got = parts.get(n);
    if (got && (got.etag !== p.md5 || got.size !== p.size)) {
      problems.push(`part ${n} of ${u.uploadId}: got ${got.etag}/${got.size}, want ${p.md5}/${p.size}`);
    }
    if (!got && p.acked) problems.push(`part ${n} of ${u.uploadId} was acknowledged but is not listed`);
    if (got) p.acked = true;
    else u.parts.delete(n);
  }
  for (const n of parts.keys()) {
    if (!u.parts.has(n)) problems.push(`part ${n} of ${u.uploadId} is listed but was never sent`);
  }
}
