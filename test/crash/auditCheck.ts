/**
 * The audit log after a crash: the entries of acknowledged KMS calls (root
 * key creates and rotations) that it lacks. Each entry is fsynced before its
 * call is answered, so an acknowledged call's entry must survive a kill: the
 * crash run fails on a gap (strictAudit, on by default; off only to measure).
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
