/**
 * The vocabulary of S3 access control (ACLs, bucket policies, public access
 * block) shared by the ACL model (acl.ts), the policy evaluator (policyEval.ts)
 * and the decision that combines them (authorize.ts).
 */

export type {
  AccessControlList,
  AclGrant,
  AclGrantee,
  AclPermission,
  ObjectOwnership,
  PublicAccessBlock,
} from '../../meta/accessRecords.js';

/** Who asks: an authenticated Coffer account, or null for an anonymous (unsigned) request. */
export interface RequestPrincipal {
  accountId: string;
}

/**
 * One request as policy evaluation sees it. `action` is the IAM action name
 * (s3:GetObject, s3:ListBucket, ...); `conditions` holds the request's values
 * of the condition keys (aws:SourceIp, aws:SecureTransport, s3:prefix, ...),
 * each as the list of strings the key has for this request.
 */
export interface AccessRequest {
  principal: RequestPrincipal | null;
  action: string;
  bucket: string;
  key?: string;
  conditions: Record<string, string[]>;
}

/** A policy's verdict: an explicit Deny wins over everything, Allow grants, None is silence. */
export type PolicyEffect = 'Allow' | 'Deny' | 'None';
