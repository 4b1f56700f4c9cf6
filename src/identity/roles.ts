/**
 * Key Protect's service roles (key-protect.md 5). The IAM core grants them
 * (access policies, service-to-service authorizations) and the KMS asks for
 * them, so they live below both.
 */
export type KmsRole = 'Reader' | 'ReaderPlus' | 'Writer' | 'Manager' | 'KeyPurge';

export const KMS_ROLES: readonly KmsRole[] = ['Reader', 'ReaderPlus', 'Writer', 'Manager', 'KeyPurge'];

export function isKmsRole(x: unknown): x is KmsRole {
  return typeof x === 'string' && (KMS_ROLES as readonly string[]).includes(x);
}

/**
 * Roles are additive Reader < ReaderPlus < Writer < Manager; KeyPurge stands
 * alone (not even a Manager may purge without it).
 */
export function roleSatisfies(held: KmsRole, needed: KmsRole): boolean {
  if (needed === 'KeyPurge' || held === 'KeyPurge') return held === needed;
  const order: readonly KmsRole[] = ['Reader', 'ReaderPlus', 'Writer', 'Manager'];
  return order.indexOf(held) >= order.indexOf(needed);
}
