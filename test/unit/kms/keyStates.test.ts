import { describe, expect, it } from 'vitest';
import { KeyState } from '../../../src/keys/KeyProvider.js';
import {
  ALL_KEY_ACTIONS,
  allowedActions,
  isActionAllowed,
  requiresRootKey,
  stateError,
  stateName,
  type KeyAction,
} from '../../../src/kms/keyStates.js';

describe('key state table (key-protect.md 2.8)', () => {
  const base: KeyAction[] = [
    'get',
    'list',
    'rotate',
    'wrap',
    'unwrap',
    'rewrap',
    'disable',
    'enable',
    'delete',
    'restore',
    'purge',
  ];
  const expected: Record<number, KeyAction[]> = {
    [KeyState.Active]: ['get', 'list', 'rotate', 'wrap', 'unwrap', 'rewrap', 'disable', 'delete'],
    [KeyState.Suspended]: ['get', 'list', 'enable', 'delete'],
    [KeyState.Deactivated]: ['get', 'list', 'rotate', 'unwrap', 'rewrap', 'delete'],
    [KeyState.Destroyed]: ['get', 'list', 'restore', 'purge'],
    [KeyState.PreActivation]: [],
  };

  it.each(Object.entries(expected))('state %s allows exactly the documented base actions', (state, actions) => {
    const s = Number(state) as KeyState;
    expect(base.filter((a) => isActionAllowed(s, a)).sort()).toEqual([...actions].sort());
  });

  it('registration rules: create/update only when Active, list in every reported state', () => {
    expect(
      ALL_KEY_ACTIONS.filter((a) => a === 'registerResource' || a === 'updateRegistration').every((a) =>
        isActionAllowed(KeyState.Active, a),
      ),
    ).toBe(true);
    for (const s of [KeyState.Suspended, KeyState.Deactivated, KeyState.Destroyed]) {
      expect(isActionAllowed(s, 'registerResource')).toBe(false);
      expect(isActionAllowed(s, 'listRegistrations')).toBe(true);
    }
    expect(isActionAllowed(KeyState.Suspended, 'deleteRegistration')).toBe(true);
    expect(isActionAllowed(KeyState.Destroyed, 'deleteRegistration')).toBe(false);
  });

  it('maps refusals to Key Protect status and reason codes', () => {
    expect(stateError(KeyState.Suspended, 'unwrap')).toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    expect(stateError(KeyState.Suspended, 'disable')).toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    expect(stateError(KeyState.Deactivated, 'wrap')).toMatchObject({ status: 400, reason: 'KEY_EXPIRED_ERR' });
    expect(stateError(KeyState.Deactivated, 'enable')).toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    expect(stateError(KeyState.Destroyed, 'unwrap')).toMatchObject({ status: 410, reason: 'KEY_DELETED_ERR' });
    expect(stateError(KeyState.Destroyed, 'delete')).toMatchObject({ status: 410, reason: 'KEY_DELETED_ERR' });
    expect(stateError(KeyState.Active, 'restore')).toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    expect(stateError(KeyState.Suspended, 'registerResource')).toMatchObject({
      status: 422,
      reason: 'KEY_INVALID_STATE_ERR',
    });
    expect(stateError(KeyState.Destroyed, 'registerResource')).toMatchObject({
      status: 422,
      reason: 'KEY_INVALID_STATE_ERR',
    });
  });

  it('every action is covered and every state has a name', () => {
    for (const s of [
      KeyState.PreActivation,
      KeyState.Active,
      KeyState.Suspended,
      KeyState.Deactivated,
      KeyState.Destroyed,
    ]) {
      expect(stateName(s)).toContain(String(s));
      for (const a of allowedActions(s)) expect(ALL_KEY_ACTIONS).toContain(a);
    }
  });

  it('root-only actions', () => {
    expect(
      ['wrap', 'unwrap', 'rewrap', 'rotate', 'disable', 'enable', 'restore'].every((a) =>
        requiresRootKey(a as KeyAction),
      ),
    ).toBe(true);
    expect(requiresRootKey('delete')).toBe(false);
    expect(requiresRootKey('get')).toBe(false);
  });
});
