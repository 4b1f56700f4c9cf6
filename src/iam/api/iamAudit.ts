/**
 * Auditing of IAM calls (token exchanges and the /iam/v1 management API) into
 * the KMS audit log: who (the caller's identity, or `unauthenticated`), the
 * call's name, the account and resource it touched (ids only: an API key's id,
 * never the key; no token), the outcome and status, the request id
 * (`transaction-id`, IBM IAM's request header, echoed; a new UUID when absent)
 * and the source address. A call is answered only after its entry is durable;
 * when it cannot be, the call is answered 503 instead.
 */
import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';
import type { AuditInput, AuditSink } from '../../kms/auditEntry.js';
import { IamError } from '../errors.js';
import { iamErrorOf } from './http.js';

export const TRANSACTION_HEADER = 'transaction-id';
const PRINTABLE = /^[\x21-\x7e]{1,128}$/;

/** The request id: `transaction-id` as sent (printable, short), else a new UUID; echoed on the response. */
export function transactionIdOf(ctx: Context): string {
  const sent = ctx.get(TRANSACTION_HEADER);
  const id = PRINTABLE.test(sent) ? sent : randomUUID();
  ctx.set(TRANSACTION_HEADER, id);
  return id;
}

export interface IamCallAudit {
  identity: string;
  action: string;
  account?: string;
  instance?: string;
  target?: string;
}

/** Makes the call's entry durable; the call fails with the returned error if it could not be. */
export async function auditIamCall(
  audit: AuditSink,
  ctx: Context,
  transactionId: string,
  call: IamCallAudit,
  failure: unknown,
  failed: boolean,
): Promise<IamError | undefined> {
  const e: AuditInput = {
    identity: call.identity,
    action: call.action,
    outcome: failed ? 'failure' : 'success',
    correlationId: transactionId,
    via: 'iam',
  };
  if (call.account !== undefined) e.account = call.account;
  if (call.instance !== undefined) e.instance = call.instance;
  if (call.target !== undefined) e.target = call.target;
  if (ctx.ip) e.sourceIp = ctx.ip;
  if (failed) {
    const { status, errorCode } = iamErrorOf(failure);
    e.status = status;
    e.reason = errorCode;
  }
  try {
    await audit.record(e);
    return undefined;
  } catch {
    return new IamError(503, 'AUDIT_UNAVAILABLE', 'The audit log is unavailable: the call was not acknowledged');
  }
}
