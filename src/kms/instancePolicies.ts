/**
 * Instance policies (key-protect.md 2.3, 2.7): dualAuthDelete, allowedNetwork,
 * allowedIP, keyCreateImportAccess, metrics, rotation. Kept by
 * InstanceStateStore. Instance dualAuthDelete and rotation apply to keys
 * created afterwards, keyCreateImportAccess is enforced at key creation;
 * allowedNetwork, allowedIP and metrics are stored and returned (a local KMS
 * has no private endpoint or metrics service).
 */
import { KmsError } from '../keys/errors.js';
import type {
  InstancePolicyAttributes,
  InstancePolicyRecord,
  InstancePolicyType,
  InstanceStateStore,
} from './instanceState.js';
import type { KeyResource } from './keyView.js';
import type { KmsService } from './kmsService.js';

export interface InstancePolicyInput {
  type: InstancePolicyType;
  enabled: boolean;
  attributes?: InstancePolicyAttributes;
}

/** What a new key is, for keyCreateImportAccess. */
export interface NewKeyKind {
  extractable: boolean;
  imported: boolean;
  /** Imported under an import token. */
  secure: boolean;
}

export class InstancePolicies {
  constructor(
    private readonly state: InstanceStateStore,
    private readonly service: KmsService,
    private readonly now: () => number,
  ) {}

  list(instanceId: string, only?: InstancePolicyType): InstancePolicyRecord[] {
    return this.state.listPolicies(instanceId).filter((p) => only === undefined || p.policy_type === only);
  }

  /** All of them or none (one batch); a policy keeps its creator and creation date. */
  async put(instanceId: string, inputs: InstancePolicyInput[], by: string): Promise<void> {
    const now = this.now();
    const recs: InstancePolicyRecord[] = inputs.map((p) => {
      const prev = this.state.getPolicy(instanceId, p.type);
      return {
        instanceId,
        policy_type: p.type,
        policy_data: p.attributes ? { enabled: p.enabled, attributes: p.attributes } : { enabled: p.enabled },
        createdBy: prev?.createdBy ?? by,
        creationDate: prev?.creationDate ?? now,
        updatedBy: by,
        lastUpdated: now,
      };
    });
    await this.state.putPolicies(recs);
  }

  /** keyCreateImportAccess: 409 KEY_CREATE_IMPORT_ACCESS_ERR for what it forbids. */
  assertCreateImportAccess(instanceId: string, k: NewKeyKind): void {
    const p = this.state.getPolicy(instanceId, 'keyCreateImportAccess');
    if (!p?.policy_data.enabled) return;
    const a = p.policy_data.attributes ?? {};
    const allowed = k.imported
      ? (k.extractable ? a.import_standard_key : a.import_root_key) !== false
      : (k.extractable ? a.create_standard_key : a.create_root_key) !== false;
    if (!allowed || (k.imported && a.enforce_token === true && !k.secure)) {
      throw new KmsError(
        'KEY_CREATE_IMPORT_ACCESS_ERR',
        'The keyCreateImportAccess instance policy does not allow this key to be created or imported',
      );
    }
  }

  /**
   * A new key's dual-auth-delete policy: the request's own when it sent one (an
   * `enabled` left out changes nothing), else on when the instance policy is.
   */
  async applyDualAuthDelete(
    instanceId: string,
    key: KeyResource,
    requested: { enabled?: boolean } | undefined,
    by: string,
  ): Promise<void> {
    const instDual = this.state.getPolicy(instanceId, 'dualAuthDelete')?.policy_data.enabled === true;
    const on = requested ? requested.enabled : instDual ? true : undefined;
    if (on !== undefined) await this.service.setDualAuthDeletePolicy(instanceId, key.id, { enabled: on }, by);
  }

  /**
   * A new root key's rotation policy: the request's own, else the instance
   * policy's interval for a generated (not imported) key. Standard keys do not rotate.
   */
  async applyRotation(
    instanceId: string,
    key: KeyResource,
    requested: { enabled: boolean; intervalMonth: number } | undefined,
    by: string,
  ): Promise<void> {
    if (key.extractable) return;
    const instRot = this.state.getPolicy(instanceId, 'rotation');
    if (requested) {
      await this.service.setRotationPolicy(instanceId, key.id, requested, by);
    } else if (instRot?.policy_data.enabled && !key.imported) {
      await this.service.setRotationPolicy(
        instanceId,
        key.id,
        { enabled: true, intervalMonth: instRot.policy_data.attributes?.interval_month ?? 1 },
        by,
      );
    }
  }
}
