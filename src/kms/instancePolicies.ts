/**
 * Instance policies (key-protect.md 2.3, 2.7): dualAuthDelete, allowedNetwork,
 * allowedIP, keyCreateImportAccess, metrics, rotation. Kept by
 * InstanceStateStore. Instance dualAuthDelete and rotation apply to keys
 * created afterwards, keyCreateImportAccess is enforced at key creation;
 * allowedNetwork and allowedIP are enforced on every Key Protect API call for
 * the instance (allowsNetwork; the API answers a refused address 401
 * UNAUTHORIZED_ERR, key-protect.md 2.9), and metrics turns on the instance's
 * counters on /metrics (kms/metrics.ts).
 *
 * "Private" for allowedNetwork=private-only: the client address (the TCP peer,
 * or X-Forwarded-For through a trusted proxy) is in COFFER_PRIVATE_NETWORKS
 * (default loopback, RFC 1918 and unique-local ranges). Coffer has one
 * endpoint; the network a request comes from is what makes it private.
 */
import { CidrSet } from '../util/cidr.js';
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

/** Where a request comes from, as the network policies see it. */
export interface NetworkClient {
  /** The client address; undefined when it could not be told (then no allowedIP range matches). */
  address: string | undefined;
  /** From a private network (COFFER_PRIVATE_NETWORKS). */
  isPrivate: boolean;
}

export class InstancePolicies {
  /** Parsed allowed_ip lists, by the (immutable) array the policy record holds. */
  private readonly ranges = new WeakMap<readonly string[], CidrSet>();

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

  /** allowedNetwork (private-only) and allowedIP, when enabled: may a request from `client` use the instance? */
  allowsNetwork(instanceId: string, client: NetworkClient): boolean {
    const net = this.state.getPolicy(instanceId, 'allowedNetwork')?.policy_data;
    if (net?.enabled && net.attributes?.allowed_network === 'private-only' && !client.isPrivate) return false;
    const ip = this.state.getPolicy(instanceId, 'allowedIP')?.policy_data;
    const list = ip?.enabled ? ip.attributes?.allowed_ip : undefined;
    if (list) {
      let set = this.ranges.get(list);
      if (!set) {
        set = new CidrSet(list);
        this.ranges.set(list, set);
      }
      if (!set.has(client.address)) return false;
    }
    return true;
  }

  /** The metrics policy: are the instance's operations counted on /metrics? */
  metricsEnabled(instanceId: string): boolean {
    return this.state.getPolicy(instanceId, 'metrics')?.policy_data.enabled === true;
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
