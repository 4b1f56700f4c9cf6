/**
 * Bucket policy evaluation.
 *
 * (The first version reads no policy: every request is None; the evaluator is being built.)
 */
import type { AccessRequest, PolicyEffect } from './types.js';

/** The verdict of a bucket's policy (its JSON text, or undefined for none) on one request. */
export function evaluateBucketPolicy(policy: string | undefined, req: AccessRequest): PolicyEffect {
  void policy;
  void req;
  return 'None';
}
