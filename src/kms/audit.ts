/**
 * The KMS audit log: one hash-chained JSON line per call - every Key Protect
 * REST call, every IAM call, and every wrap/unwrap/rewrap the embedded gateway
 * makes - in `<dataDir>/kms-audit.log` (0600) and its rotated predecessors.
 * This module gathers the parts: the entry (auditEntry.ts), the chain
 * (auditChain.ts), the writer (auditLog.ts), the reader (auditReader.ts), the
 * verifier (auditVerify.ts) and the gateway's decorator (auditKeyProvider.ts).
 */
export { formatAuditLine, type AuditEntry, type AuditInput, type AuditSink } from './auditEntry.js';
export { chainLine, GENESIS, parseAuditLine, type ChainHead } from './auditChain.js';
export { AuditLog, DEFAULT_AUDIT_MAX_BYTES, type AuditFile, type AuditFs, type AuditLogOptions } from './auditLog.js';
export { readAuditLog, type AuditQuery } from './auditReader.js';
export { verifyAuditLog, type AuditVerifyResult } from './auditVerify.js';
export { AuditingKeyProvider, auditUnavailable } from './auditKeyProvider.js';
