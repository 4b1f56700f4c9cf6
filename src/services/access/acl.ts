/**
 * The ACL model: which permissions an ACL gives a principal.
 *
 * (The first version knows only the owner; ACL grants are being built.)
 */
import type { AccessControlList, AclPermission, RequestPrincipal } from './types.js';

/**
 * Does `acl` give `principal` (null: anonymous) `permission`? With no ACL
 * stored, only `owner` holds anything (FULL_CONTROL).
 */
export function aclAllows(
  acl: AccessControlList | undefined,
  owner: string,
  principal: RequestPrincipal | null,
  permission: AclPermission,
): boolean {
  void acl;
  void permission;
  return principal !== null && principal.accountId === owner;
}
