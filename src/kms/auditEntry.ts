/**
 * What one audit entry holds, and the sink that makes it durable. Entries are
 * built from named fields only (who, what, on what, outcome, status, request
 * id, source IP), so key material, DEKs, tokens and API keys cannot reach the
 * log by accident; a field outside this list is dropped when the line is made.
 */

export interface AuditEntry {
  /** RFC 3339, when the call was answered. */
  time: string;
  /** Position in the chain, 1 for the first entry ever (set by the log). */
  seq?: number;
  /** Who acted: `iam:<identity id>`, `tenant:<account id>` (embedded gateway) or `unauthenticated`. */
  identity: string;
  /** The tenant the gateway acted for, when it did. */
  tenant?: string;
  /** The IAM account acted on or acted in (IAM calls). */
  account?: string;
  instance?: string;
  key?: string;
  /** Key version used (wrap: the newest; unwrap: the one that had wrapped). */
  version?: string;
  /** The IAM resource acted on: an identity, API key id, access key id, policy, authorization. Never a secret. */
  target?: string;
  /** The call's own name: `disable`, `rotate`, `createKey`, `exchangeApiKey`, `createPolicy`, `wrap`, ... */
  action: string;
  outcome: 'success' | 'failure';
  status?: number;
  reason?: string;
  /** The request id (`correlation-id` on the KMS API, `transaction-id` on IAM, the S3 request id embedded). */
  correlationId?: string;
  /** The client's address as the socket saw it. */
  sourceIp?: string;
  via: 'api' | 'embedded' | 'iam';
  /** The previous entry's hash (64 zeros before the first entry). */
  prev?: string;
  /** SHA-256 over `prev` and this line's bytes without the hash (auditChain.ts). */
  hash?: string;
}

/** What a caller hands the log: the log adds the time and the chain. */
export type AuditInput = Omit<AuditEntry, 'time' | 'seq' | 'prev' | 'hash'>;

export interface AuditSink {
  /**
   * Appends the entry; resolves once it is durable (fsynced). A call is
   * answered only after its entry resolved: a rejection means the call must
   * not be acknowledged.
   */
  record(e: AuditInput): Promise<void>;
}

export const MAX_FIELD = 256;

/** The fields of a line, in the order they are written (`hash` is appended by the chain). */
export const FIELDS: ReadonlyArray<keyof AuditEntry> = [
  'time',
  'seq',
  'identity',
  'tenant',
  'account',
  'instance',
  'key',
  'version',
  'target',
  'action',
  'outcome',
  'status',
  'reason',
  'correlationId',
  'sourceIp',
  'via',
  'prev',
];

/** Keeps strings short and printable: an attacker-chosen correlation id must not forge log lines. */
function clean(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  return v.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, MAX_FIELD);
}

/** The JSON object of an entry (known fields only, in FIELDS order), without the hash and without a newline. */
export function formatAuditBody(e: AuditEntry): string {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = clean(e[f]);
    if (v !== undefined) out[f] = v;
  }
  return JSON.stringify(out);
}

/** The plain line of an entry (no chain): what the log wrote before it was chained. */
export function formatAuditLine(e: AuditEntry): string {
  return formatAuditBody(e) + '\n';
}

/** True when a parsed line looks like an entry (it may still fail the chain). */
export function isAuditEntry(v: unknown): v is AuditEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.time === 'string' && typeof e.action === 'string';
}
