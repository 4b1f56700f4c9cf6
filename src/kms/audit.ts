/**
 * The KMS audit log: one JSON line per key action - every REST call on a key
 * and every wrap/unwrap/rewrap the embedded gateway makes - appended to
 * `<dataDir>/kms-audit.log` (created 0600). Entries are built from named fields
 * only (who, instance, key, version, action, outcome, correlation id), so key
 * material, DEKs, tokens and API keys cannot reach the file by accident.
 *
 * Appends are queued, not awaited by the caller: an audit write must not add a
 * disk round trip to every wrap. flush() waits for the queue (tests, shutdown).
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseKeyCrn } from '../keys/crn.js';
import { KmsError } from '../keys/errors.js';
import type {
  GeneratedDataKey,
  KeyCaller,
  KeyEvent,
  KeyProvider,
  KeyState,
  RegistrationRequest,
  UnwrappedDataKey,
} from '../keys/KeyProvider.js';

export interface AuditEntry {
  /** RFC 3339. */
  time: string;
  /** Who acted: `iam:<identity id>` (REST) or `tenant:<account id>` (embedded gateway). */
  identity: string;
  /** The tenant the gateway acted for, when it did. */
  tenant?: string;
  instance?: string;
  key?: string;
  /** Key version used (wrap: the newest; unwrap: the one that had wrapped). */
  version?: string;
  action: string;
  outcome: 'success' | 'failure';
  status?: number;
  reason?: string;
  correlationId?: string;
  via: 'api' | 'embedded';
}

export type AuditInput = Omit<AuditEntry, 'time'>;

const MAX_FIELD = 256;
const FIELDS: ReadonlyArray<keyof AuditEntry> = [
  'time',
  'identity',
  'tenant',
  'instance',
  'key',
  'version',
  'action',
  'outcome',
  'status',
  'reason',
  'correlationId',
  'via',
];

/** Keeps strings short and printable: an attacker-chosen correlation id must not forge log lines. */
function clean(v: unknown): unknown {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  return v.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, MAX_FIELD);
}

export function formatAuditLine(e: AuditEntry): string {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = clean(e[f]);
    if (v !== undefined) out[f] = v;
  }
  return JSON.stringify(out) + '\n';
}

export interface AuditSink {
  record(e: AuditInput): void;
}

export class AuditLog implements AuditSink {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    private readonly now: () => number,
    private readonly onError: (e: Error) => void,
  ) {}

  static async open(path: string, opts: { now?: () => number; onError?: (e: Error) => void } = {}): Promise<AuditLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const fh = await open(path, 'a', 0o600);
    // An existing file keeps its mode on open: tighten it.
    await fh.chmod(0o600);
    return new AuditLog(fh, opts.now ?? Date.now, opts.onError ?? (() => undefined));
  }

  record(e: AuditInput): void {
    if (this.closed) return;
    const line = formatAuditLine({ time: new Date(this.now()).toISOString(), ...e });
    // Each link catches its own failure, so the queue itself never rejects.
    this.queue = this.queue.then(() => this.fh.appendFile(line)).catch((err: unknown) => this.onError(err as Error));
  }

  flush(): Promise<void> {
    return this.queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.fh.close();
  }
}

export interface AuditQuery {
  /** Only entries at or after this time (ms or RFC 3339). */
  since?: number | string;
  key?: string;
  instance?: string;
  identity?: string;
  action?: string;
  outcome?: 'success' | 'failure';
  /** The newest `limit` matching entries. */
  limit?: number;
}

/** Reads the audit log (for `coffer kms audit`); skips lines that are not entries. A missing file is an empty log. */
export async function readAuditLog(path: string, q: AuditQuery = {}): Promise<AuditEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const since = q.since === undefined ? undefined : typeof q.since === 'number' ? q.since : Date.parse(q.since);
  const out: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      continue;
    }
    if (typeof e !== 'object' || e === null || typeof e.time !== 'string' || typeof e.action !== 'string') continue;
    if (since !== undefined && !(Date.parse(e.time) >= since)) continue;
    if (q.key !== undefined && e.key !== q.key) continue;
    if (q.instance !== undefined && e.instance !== q.instance) continue;
    if (q.identity !== undefined && e.identity !== q.identity) continue;
    if (q.action !== undefined && e.action !== q.action) continue;
    if (q.outcome !== undefined && e.outcome !== q.outcome) continue;
    out.push(e);
  }
  return q.limit !== undefined && q.limit >= 0 ? out.slice(Math.max(0, out.length - q.limit)) : out;
}

function failure(e: unknown): { status?: number; reason?: string } {
  return e instanceof KmsError ? { status: e.status, reason: e.reason } : { reason: 'INTERNAL_ERR' };
}

/**
 * A KeyProvider decorator that audits every call the gateway makes (embedded
 * mode): the tenant, the key from the CRN, the version, and the outcome.
 */
export class AuditingKeyProvider implements KeyProvider {
  constructor(
    private readonly inner: KeyProvider,
    private readonly audit: AuditSink,
  ) {}

  private async run<T>(
    caller: KeyCaller,
    crn: string | undefined,
    action: string,
    fn: () => Promise<T>,
    version: (r: T) => string | undefined,
  ): Promise<T> {
    const base: AuditInput = {
      identity: `tenant:${caller.tenant}`,
      tenant: caller.tenant,
      action,
      outcome: 'success',
      via: 'embedded',
    };
    if (caller.requestId !== undefined) base.correlationId = caller.requestId;
    if (crn !== undefined) {
      try {
        const p = parseKeyCrn(crn);
        base.instance = p.instanceId;
        base.key = p.keyId;
      } catch {
        // A malformed CRN is audited without instance and key.
      }
    }
    try {
      const r = await fn();
      const v = version(r);
      this.audit.record(v === undefined ? base : { ...base, version: v });
      return r;
    } catch (e) {
      this.audit.record({ ...base, outcome: 'failure', ...failure(e) });
      throw e;
    }
  }

  defaultRootKeyCrn(caller: KeyCaller): Promise<string> {
    return this.inner.defaultRootKeyCrn(caller);
  }

  generateDataKey(caller: KeyCaller, rootKeyCrn: string, aad: string[]): Promise<GeneratedDataKey> {
    return this.run(
      caller,
      rootKeyCrn,
      'wrap',
      () => this.inner.generateDataKey(caller, rootKeyCrn, aad),
      (r) => r.keyVersion,
    );
  }

  unwrap(caller: KeyCaller, rootKeyCrn: string, wrapped: string, aad: string[]): Promise<UnwrappedDataKey> {
    return this.run(
      caller,
      rootKeyCrn,
      'unwrap',
      () => this.inner.unwrap(caller, rootKeyCrn, wrapped, aad),
      (r) => r.keyVersion,
    );
  }

  rewrap(
    caller: KeyCaller,
    rootKeyCrn: string,
    wrapped: string,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }> {
    return this.run(
      caller,
      rootKeyCrn,
      'rewrap',
      () => this.inner.rewrap(caller, rootKeyCrn, wrapped, aad),
      (r) => r.keyVersion,
    );
  }

  /** Forwarded only when the inner provider has it (an optional KeyProvider method). */
  get wrapDataKey(): KeyProvider['wrapDataKey'] {
    const inner = this.inner;
    if (!inner.wrapDataKey) return undefined;
    return (caller, rootKeyCrn, plaintext, aad) =>
      this.run(
        caller,
        rootKeyCrn,
        'wrap',
        () => inner.wrapDataKey!(caller, rootKeyCrn, plaintext, aad),
        (r) => r.keyVersion,
      );
  }

  getKeyState(caller: KeyCaller, rootKeyCrn: string): Promise<KeyState> {
    return this.run(
      caller,
      rootKeyCrn,
      'getKeyState',
      () => this.inner.getKeyState(caller, rootKeyCrn),
      () => undefined,
    );
  }

  register(caller: KeyCaller, rootKeyCrn: string, reg: RegistrationRequest): Promise<void> {
    return this.run(
      caller,
      rootKeyCrn,
      'createRegistration',
      () => this.inner.register(caller, rootKeyCrn, reg),
      () => reg.keyVersion,
    );
  }

  unregister(caller: KeyCaller, rootKeyCrn: string, resourceCrn: string): Promise<void> {
    return this.run(
      caller,
      rootKeyCrn,
      'deleteRegistration',
      () => this.inner.unregister(caller, rootKeyCrn, resourceCrn),
      () => undefined,
    );
  }

  onKeyEvent(listener: (event: KeyEvent) => void): void {
    this.inner.onKeyEvent?.(listener);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
