/**
 * What the KMS API handlers share: the dependencies (the KMS core: service,
 * key rings, instance policies, import tokens; IAM; audit) and the per-request view (caller, instance,
 * headers Key Protect defines, query, body).
 */
import type { Context } from 'koa';
import type { KeyAuthorizer } from '../../identity/keyAuthorizer.js';
import type { AuditSink } from '../audit.js';
import type { KmsService } from '../kmsService.js';
import type { InstanceRecord } from '../records.js';
import type { AccessControl } from '../../iam/accessControl.js';
import type { IamService } from '../../iam/iamService.js';
import type { Caller } from '../../identity/caller.js';
import type { Logger } from '../../util/logger.js';
import type { ImportTokens } from '../importTokens.js';
import type { InstancePolicies } from '../instancePolicies.js';
import type { KeyRings } from '../keyRings.js';
import type { Network } from './network.js';
import type { Json, Query } from './schema.js';

export interface KmsApiDeps {
  service: KmsService;
  iam: IamService;
  access: AccessControl;
  /** Decides for a gateway acting for a tenant (split mode), as in embedded mode. */
  authorizer: KeyAuthorizer;
  keyRings: KeyRings;
  policies: InstancePolicies;
  importTokens: ImportTokens;
  audit: AuditSink;
  log: Logger;
  now: () => number;
  /** Client addresses for the allowedIP / allowedNetwork instance policies. */
  network: Network;
}

export interface ApiRequest {
  deps: KmsApiDeps;
  ctx: Context;
  caller: Caller;
  instance: InstanceRecord;
  correlationId: string;
  /** `prefer: return=minimal|representation`, when sent. */
  prefer?: 'minimal' | 'representation';
  /** `x-kms-key-ring`, when sent. */
  keyRing?: string;
  /** A gateway service identity acting for this tenant account (`x-coffer-tenant`). */
  tenant?: string;
  /** Path parameters, URL-decoded. */
  params: Record<string, string>;
  query: Query;
  body: Json | undefined;
  /** Set by authorize(); the route wrapper refuses to answer a request no handler authorized. */
  authorized: boolean;
  /** Filled by handlers for the audit entry. */
  audit: { key?: string; version?: string };
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (r: ApiRequest) => Promise<Reply>;

/** The identity string audit entries and `createdBy` fields carry. */
export function actor(r: ApiRequest): string {
  return r.caller.identity.id;
}
