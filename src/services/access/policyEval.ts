/**
 * Bucket policy evaluation: which statements apply to a request, and the
 * verdict they give. A statement applies when its principal, action,
 * resource and every condition clause match; an applying Deny wins over any
 * Allow (IAM's evaluation logic, restricted to one resource policy).
 */
import { clauseHolds } from './conditions.js';
import { parsePolicy, type BucketPolicy, type PolicyPrincipal, type PolicyStatement } from './policyDocument.js';
import type { AccessRequest, PolicyEffect, RequestPrincipal } from './types.js';
import { wildcardMatch } from './wildcard.js';

function principalMatches(p: PolicyPrincipal, who: RequestPrincipal | null): boolean {
  if (p === '*') return true;
  return who !== null && p.accounts.includes(who.accountId);
}

function actionMatches(patterns: string[], action: string): boolean {
  return patterns.some((p) => p === '*' || wildcardMatch(p, action, true));
}

/** The ARN of what a request acts on: the bucket, or a key in it. */
export function resourceArn(bucket: string, key?: string): string {
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}

function resourceMatches(patterns: string[], arn: string): boolean {
  return patterns.some((p) => p === '*' || wildcardMatch(p, arn));
}

export function statementApplies(s: PolicyStatement, req: AccessRequest): boolean {
  if (s.principal && !principalMatches(s.principal, req.principal)) return false;
  if (s.notPrincipal && principalMatches(s.notPrincipal, req.principal)) return false;
  if (s.action && !actionMatches(s.action, req.action)) return false;
  if (s.notAction && actionMatches(s.notAction, req.action)) return false;
  const arn = resourceArn(req.bucket, req.key);
  if (s.resource && !resourceMatches(s.resource, arn)) return false;
  if (s.notResource && resourceMatches(s.notResource, arn)) return false;
  return s.conditions.every((c) => clauseHolds(c.operator, c.key, c.values, req.conditions));
}

/** The verdict of a parsed policy on one request. */
export function evaluatePolicy(policy: BucketPolicy, req: AccessRequest): PolicyEffect {
  let verdict: PolicyEffect = 'None';
  for (const s of policy.statements) {
    if (!statementApplies(s, req)) continue;
    if (s.effect === 'Deny') return 'Deny';
    verdict = 'Allow';
  }
  return verdict;
}

/** The verdict of a bucket's policy (its JSON text, or undefined for none) on one request. */
export function evaluateBucketPolicy(policy: string | undefined, req: AccessRequest): PolicyEffect {
  if (policy === undefined) return 'None';
  return evaluatePolicy(parsePolicy(policy, req.bucket), req);
}
