/**
 * Proves the audit log's chain (`coffer kms audit verify`): walks every file
 * oldest first, line by line, and checks that each entry's hash is right, that
 * its prev is the entry before's hash and its seq one more; that the chain
 * starts at the first entry ever (seq 1 after 64 zeros), so no file or line is
 * missing at the start; and that it reaches the head file's seq and hash, so
 * no whole lines were cut off the end. Names the first broken line.
 *
 * Lines written before the log was chained (no hash) are counted, and allowed
 * only before the first chained entry.
 */
import { basename } from 'node:path';
import { GENESIS, parseAuditLine, type ChainHead } from './auditChain.js';
import { logFiles, readHead, readLines } from './auditFiles.js';

export interface AuditVerifyResult {
  ok: boolean;
  /** Files read (those that exist). */
  files: string[];
  /** Chained entries. */
  entries: number;
  /** Entries from before the log was chained. */
  unchained: number;
  /** The newest entry's seq and hash (what the next entry will name as prev). */
  last: ChainHead;
  /** The first problem: the file (its name), the 1-based line, and what is wrong. */
  broken?: { file: string; line: number; problem: string };
  /** Found but not a break (e.g. no head file to check the end against). */
  warnings: string[];
}

export async function verifyAuditLog(path: string): Promise<AuditVerifyResult> {
  const r: AuditVerifyResult = {
    ok: true,
    files: [],
    entries: 0,
    unchained: 0,
    last: { seq: 0, hash: GENESIS },
    warnings: [],
  };
  const fail = (file: string, line: number, problem: string): AuditVerifyResult => {
    r.ok = false;
    r.broken = { file: basename(file), line, problem };
    return r;
  };
  const head = await readHead(path);
  let chained = false;
  for (const file of await logFiles(path)) {
    let seen = false;
    for await (const line of readLines(file)) {
      if (!seen) {
        seen = true;
        r.files.push(basename(file));
      }
      if (!line.terminated) return fail(file, line.lineNo, 'the line is cut short (the file was truncated)');
      if (line.overlong) return fail(file, line.lineNo, 'the line is too long to be an entry');
      const p = parseAuditLine(line.text);
      if (p.kind === 'invalid') return fail(file, line.lineNo, `not a valid entry (${p.why})`);
      if (p.kind === 'plain') {
        if (chained) return fail(file, line.lineNo, 'an entry without a hash inside the chain');
        r.unchained++;
        continue;
      }
      if (!p.hashOk) return fail(file, line.lineNo, 'the hash does not match the line (the entry was edited)');
      if (!chained && (p.seq !== 1 || p.prev !== GENESIS))
        return fail(file, line.lineNo, `the chain starts at seq ${p.seq}: earlier entries or files are missing`);
      if (chained && p.prev !== r.last.hash)
        return fail(
          file,
          line.lineNo,
          `prev does not name the entry before (seq ${r.last.seq}): an entry was deleted, inserted or moved`,
        );
      if (chained && p.seq !== r.last.seq + 1) return fail(file, line.lineNo, `seq ${p.seq} follows seq ${r.last.seq}`);
      if (head !== undefined && p.seq === head.seq && p.hash !== head.hash)
        return fail(file, line.lineNo, `seq ${p.seq} is not the entry the head file recorded: the log was rewritten`);
      chained = true;
      r.entries++;
      r.last = { seq: p.seq, hash: p.hash };
    }
  }
  if (head === undefined) {
    r.warnings.push('no readable head file: whole entries cut off the end would not be noticed');
  } else if (head.seq > r.last.seq) {
    r.ok = false;
    r.broken = {
      file: basename(path),
      line: 0,
      problem: `the log ends at seq ${r.last.seq} but the head records seq ${head.seq}: entries were cut off the end`,
    };
  }
  // A head behind the log is normal after a power loss: it is written without fsync.
  return r;
}
