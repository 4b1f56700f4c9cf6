import { describe, expect, it } from 'vitest';
import { isKmsRole, KMS_ROLES, roleSatisfies } from '../../../src/identity/roles.js';

describe('roles', () => {
  it('roles are additive; KeyPurge stands alone', () => {
    expect(roleSatisfies('Manager', 'Reader')).toBe(true);
    expect(roleSatisfies('Reader', 'Writer')).toBe(false);
    expect(roleSatisfies('Manager', 'KeyPurge')).toBe(false);
    expect(roleSatisfies('KeyPurge', 'Reader')).toBe(false);
  });

  it('knows exactly the five Key Protect roles', () => {
    expect([...KMS_ROLES]).toEqual(['Reader', 'ReaderPlus', 'Writer', 'Manager', 'KeyPurge']);
    expect(isKmsRole('Writer')).toBe(true);
    expect(isKmsRole('writer')).toBe(false);
    expect(isKmsRole(undefined)).toBe(false);
  });
});
