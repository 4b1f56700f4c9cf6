/**
 * Key states and what each allows (key-protect.md 2.8, KP-docs concepts/key-states.md).
 *
 *   1 Active       everything
 *   2 Suspended    get, list, enable, delete          (disabled by a Manager)
 *   3 Deactivated  get, list, rotate, unwrap, rewrap, delete; no wrap   (expired)
 *   5 Destroyed    get (metadata, registrations), restore, purge       (deleted)
 *
 * State 0 (pre-activation) is a NIST concept keys never report; state 4 does not
 * exist. Actions beyond the table in 2.8 are placed from the rest of the docs,
 * noted per row. The table is data so the REST layer, tests and docs can read it.
 */
import { KmsError } from '../keys/errors.js';
import { KeyState } from '../keys/KeyProvider.js';

export type KeyAction =
  | 'get'
  | 'list'
  | 'wrap'
  | 'unwrap'
  | 'rewrap'
  | 'rotate'
  | 'disable'
  | 'enable'
  | 'delete'
  | 'restore'
  | 'purge'
  /** set/unset key for deletion (dual auth): "key state must be active" (error-messages.md). */
  | 'dualAuth'
  /** rotation / dualAuthDelete policies (inferred: any live state). */
  | 'setPolicy'
  /** create / delete an alias (inferred: any live state). */
  | 'alias'
  /** actions/sync: re-sends the last lifecycle event, also for a deleted key (1.5). */
  | 'sync'
  /** registrations (1.6): create/replace/update need Active; delete Active or Suspended; list any state. */
  | 'registerResource'
  | 'updateRegistration'
  | 'deleteRegistration'
  | 'listRegistrations';

export const ALL_KEY_ACTIONS: readonly KeyAction[] = [
  'get',
  'list',
  'wrap',
  'unwrap',
  'rewrap',
  'rotate',
  'disable',
  'enable',
  'delete',
  'restore',
  'purge',
  'dualAuth',
  'setPolicy',
  'alias',
  'sync',
  'registerResource',
  'updateRegistration',
  'deleteRegistration',
  'listRegistrations',
];

/** The states a key can report (0 is never reported). */
export const REPORTED_STATES: readonly KeyState[] = [
  KeyState.Active,
  KeyState.Suspended,
  KeyState.Deactivated,
  KeyState.Destroyed,
];

const ACTIVE: ReadonlySet<KeyAction> = new Set<KeyAction>([
  'get',
  'list',
  'wrap',
  'unwrap',
  'rewrap',
  'rotate',
  'disable',
  'delete',
  'dualAuth',
  'setPolicy',
  'alias',
  'sync',
  'registerResource',
  'updateRegistration',
  'deleteRegistration',
  'listRegistrations',
]);
const SUSPENDED: ReadonlySet<KeyAction> = new Set<KeyAction>([
  'get',
  'list',
  'enable',
  'delete',
  'setPolicy',
  'alias',
  'sync',
  'deleteRegistration',
  'listRegistrations',
]);
/**
 * deleteRegistration on an expired key is an inference (the docs name only Active
 * and Suspended): without it a bucket on an expired key could never be cleaned up.
 */
const DEACTIVATED: ReadonlySet<KeyAction> = new Set<KeyAction>([
  'get',
  'list',
  'rotate',
  'unwrap',
  'rewrap',
  'delete',
  'setPolicy',
  'alias',
  'sync',
  'deleteRegistration',
  'listRegistrations',
]);
const DESTROYED: ReadonlySet<KeyAction> = new Set<KeyAction>([
  'get',
  'list',
  'restore',
  'purge',
  'sync',
  'listRegistrations',
]);
const NONE: ReadonlySet<KeyAction> = new Set<KeyAction>();

export function allowedActions(state: KeyState): ReadonlySet<KeyAction> {
  switch (state) {
    case KeyState.PreActivation:
      return NONE;
    case KeyState.Active:
      return ACTIVE;
    case KeyState.Suspended:
      return SUSPENDED;
    case KeyState.Deactivated:
      return DEACTIVATED;
    case KeyState.Destroyed:
      return DESTROYED;
    default:
      return assertNever(state);
  }
}

export function isActionAllowed(state: KeyState, action: KeyAction): boolean {
  return allowedActions(state).has(action);
}

/** Actions that only root (non-extractable) keys support: 400 KEY_ROOT_REQ_ERR otherwise (error-messages.md 17). */
const ROOT_ONLY: ReadonlySet<KeyAction> = new Set<KeyAction>([
  'wrap',
  'unwrap',
  'rewrap',
  'rotate',
  'disable',
  'enable',
  'restore',
]);

export function requiresRootKey(action: KeyAction): boolean {
  return ROOT_ONLY.has(action);
}

/**
 * The error Key Protect gives for `action` refused in `state`:
 * - registration changes: 422 KEY_INVALID_STATE_ERR;
 * - anything on a deleted key: 410 KEY_DELETED_ERR ("delete twice; unwrap on a deleted key");
 * - wrap with an expired key: 400 KEY_EXPIRED_ERR;
 * - otherwise 409 KEY_ACTION_INVALID_STATE_ERR (disabled key, enable an expired key, ...).
 */
export function stateError(state: KeyState, action: KeyAction): KmsError {
  switch (action) {
    case 'registerResource':
    case 'updateRegistration':
    case 'deleteRegistration':
      return new KmsError(
        'KEY_INVALID_STATE_ERR',
        `Key is not in a valid state: ${stateName(state)} keys do not allow this registration change`,
      );
    case 'get':
    case 'list':
    case 'wrap':
    case 'unwrap':
    case 'rewrap':
    case 'rotate':
    case 'disable':
    case 'enable':
    case 'delete':
    case 'restore':
    case 'purge':
    case 'dualAuth':
    case 'setPolicy':
    case 'alias':
    case 'sync':
    case 'listRegistrations':
      break;
    default:
      return assertNever(action);
  }
  if (state === KeyState.Destroyed) {
    return new KmsError('KEY_DELETED_ERR', 'Key has already been deleted: Please delete references to this key');
  }
  if (state === KeyState.Deactivated && action === 'wrap') {
    return new KmsError('KEY_EXPIRED_ERR', 'The action could not be performed on the key because the key is expired');
  }
  return new KmsError(
    'KEY_ACTION_INVALID_STATE_ERR',
    `Key is not in a valid state: cannot ${action} a key in state ${stateName(state)}`,
  );
}

export function stateName(state: KeyState): string {
  switch (state) {
    case KeyState.PreActivation:
      return 'Pre-activation (0)';
    case KeyState.Active:
      return 'Active (1)';
    case KeyState.Suspended:
      return 'Suspended (2)';
    case KeyState.Deactivated:
      return 'Deactivated (3)';
    case KeyState.Destroyed:
      return 'Destroyed (5)';
    default:
      return assertNever(state);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${String(x)}`);
}
