/**
 * The metadata backup format: JSON lines (one JSON object per line, UTF-8,
 * "\n"), so that a backup can be streamed, checked, and read by eye.
 *
 *   {"type":"coffer-backup","format":1,"createdAt":..,"instanceId":..,"stores":[..],"files":[..]}
 *   {"s":"<store>","k":"<base64 key>","v":"<base64 value>"}     one per LevelDB entry, raw
 *   {"f":"<file name>","d":"<base64 content>"}                  one per small file of the data dir
 *   {"type":"end","entries":N,"files":M,"sha256":"<hex>"}
 *
 * The trailer's sha256 covers every byte before its line, and its counts every
 * record: a truncated or altered backup is refused, never half restored.
 *
 * What it holds is what the stores hold: key material sealed under the master
 * key, API keys as HMACs, S3 secrets sealed. Never the master key, and no blob
 * data (the ciphertext stays on the drives, backed up by copying them).
 */
import { createHash, type Hash } from 'node:crypto';
import { STORE_NAMES, type StoreName } from '../dataDir.js';

export const BACKUP_FORMAT = 1;
export const BACKUP_FILE = 'coffer-backup.jsonl';
/** Files of the data dir that go into a backup (small, secrets in them sealed). */
export const BACKUP_FILES = ['root-credentials.json'] as const;
/** A line longer than this is not one we wrote. */
const MAX_LINE_BYTES = 256 << 20;

export interface BackupHeader {
  type: 'coffer-backup';
  format: number;
  createdAt: string;
  instanceId: string;
  stores: StoreName[];
  files: string[];
}

export type BackupRecord =
  { kind: 'entry'; store: StoreName; key: Buffer; value: Buffer } | { kind: 'file'; name: string; data: Buffer };

export class BackupFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFormatError';
  }
}

/** Builds the lines, hashing them as they go. */
export class BackupWriter {
  private readonly hash = createHash('sha256');
  private entries = 0;
  private files = 0;

  header(h: Omit<BackupHeader, 'type' | 'format'>): Buffer {
    return this.line({ type: 'coffer-backup', format: BACKUP_FORMAT, ...h });
  }

  entry(store: StoreName, key: Buffer, value: Buffer): Buffer {
    this.entries++;
    return this.line({ s: store, k: key.toString('base64'), v: value.toString('base64') });
  }

  file(name: string, data: Buffer): Buffer {
    this.files++;
    return this.line({ f: name, d: data.toString('base64') });
  }

  /** The last line; nothing may follow it. */
  end(): Buffer {
    const sha256 = this.hash.digest('hex');
    return Buffer.from(JSON.stringify({ type: 'end', entries: this.entries, files: this.files, sha256 }) + '\n');
  }

  private line(o: unknown): Buffer {
    const b = Buffer.from(JSON.stringify(o) + '\n');
    this.hash.update(b);
    return b;
  }
}

/**
 * Reads a backup chunk by chunk: `push` returns the records completed by a
 * chunk, `finish` checks that the trailer came and matched. Throws
 * BackupFormatError on anything that is not a well-formed, complete backup.
 */
export class BackupReader {
  private readonly hash: Hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineNo = 0;
  private entries = 0;
  private files = 0;
  private done = false;
  header?: BackupHeader;

  push(chunk: Buffer): BackupRecord[] {
    const out: BackupRecord[] = [];
    let start = 0;
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, start)) {
      this.pending.push(chunk.subarray(start, i + 1));
      const line = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      start = i + 1;
      const r = this.line(line);
      if (r) out.push(r);
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > MAX_LINE_BYTES) throw this.error('a line is too long');
    }
    return out;
  }

  finish(): BackupHeader {
    if (this.pendingBytes > 0 || !this.done || !this.header)
      throw new BackupFormatError('the backup is incomplete (its end record is missing): it was cut off');
    return this.header;
  }

  private line(line: Buffer): BackupRecord | undefined {
    this.lineNo++;
    if (this.done) throw this.error('data after the end record');
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw this.error('not JSON');
    }
    if (typeof o !== 'object' || o === null) throw this.error('not a JSON object');
    if (this.lineNo === 1) {
      this.hash.update(line);
      this.header = parseHeader(o, (m) => this.error(m));
      return undefined;
    }
    if (o.type === 'end') {
      const sha = this.hash.digest('hex');
      if (o.sha256 !== sha) throw this.error('checksum mismatch: the backup was altered or damaged');
      if (o.entries !== this.entries || o.files !== this.files) throw this.error('record counts do not match');
      this.done = true;
      return undefined;
    }
    this.hash.update(line);
    if (typeof o.s === 'string') {
      if (!this.header!.stores.includes(o.s as StoreName)) throw this.error(`entry of an undeclared store '${o.s}'`);
      if (typeof o.k !== 'string' || typeof o.v !== 'string') throw this.error('entry without k and v');
      this.entries++;
      return { kind: 'entry', store: o.s as StoreName, key: b64(o.k), value: b64(o.v) };
    }
    if (typeof o.f === 'string') {
      if (!this.header!.files.includes(o.f)) throw this.error(`undeclared file '${o.f}'`);
      if (typeof o.d !== 'string') throw this.error('file without d');
      this.files++;
      return { kind: 'file', name: o.f, data: b64(o.d) };
    }
    throw this.error('unknown record');
  }

  private error(m: string): BackupFormatError {
    return new BackupFormatError(`not a valid Coffer backup (line ${this.lineNo}): ${m}`);
  }
}

function b64(s: string): Buffer {
  return Buffer.from(s, 'base64');
}

function parseHeader(o: Record<string, unknown>, error: (m: string) => Error): BackupHeader {
  if (o.type !== 'coffer-backup') throw error('the first line is not a Coffer backup header');
  if (typeof o.format !== 'number' || o.format > BACKUP_FORMAT)
    throw error(`format ${String(o.format)}; this Coffer reads format ${BACKUP_FORMAT} (a newer version wrote it)`);
  const stores = o.stores;
  if (!Array.isArray(stores) || !stores.every((s) => (STORE_NAMES as readonly unknown[]).includes(s)))
    throw error('the header names unknown stores');
  const files = o.files;
  if (!Array.isArray(files) || !files.every((f) => (BACKUP_FILES as readonly unknown[]).includes(f)))
    throw error('the header names unknown files');
  if (typeof o.instanceId !== 'string' || typeof o.createdAt !== 'string') throw error('the header is incomplete');
  return {
    type: 'coffer-backup',
    format: o.format,
    createdAt: o.createdAt,
    instanceId: o.instanceId,
    stores: stores as StoreName[],
    files: files as string[],
  };
}
