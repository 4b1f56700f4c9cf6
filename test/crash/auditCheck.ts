/**
 * The audit log after a crash: the entries of acknowledged KMS calls (root
 * key creates and rotations) that it lacks. The log is appended from a queue
 * without fsync today, so a kill can lose the newest entries: the crash run
 * counts them, and fails on them only when asked (strictAudit), for when the
 * log is made durable before the call is acknowledged.
 */
import type { Ledger } from './ledger.js';

export function auditGaps(ledger: Ledger, audit: ReadonlyArray<Record<string, unknown>>): string[] {
  const has = (key: string, actions: string[]) =>
    audit.some((e) => e.key === key && e.outcome === 'success' && actions.includes(String(e.action)));
  const gaps: string[] = [];
  for (const k of ledger.rootKeys) {
    if (!has(k.id, ['createKey'])) gaps.push(`no audit entry for the acknowledged creation of root key ${k.id}`);
    if (k.rotatedAt !== undefined && !has(k.id, ['keyAction', 'rotate', 'rotateKey']))
      gaps.push(`no audit entry for the acknowledged rotation of root key ${k.id}`);
  }
  return gaps;
}
