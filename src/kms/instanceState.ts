/**
 * Instance-level state of the Key Protect API that the key store does not
 * keep: key rings and instance policies (key-protect.md 2.3, 2.5). A JsonKv
 * (meta/kv/jsonKv.ts): its own LevelDB directory (`<dataDir>/kms-instance`), or
 * the shared database (COFFER_KMS_STORE_URL). Mirrored in memory (these are
 * read on every key creation); on a shared database the mirror is reloaded on
 * other processes' change notices and every `reloadMs`.
 *
 *   ring  <instance>!<ring id>      -> KeyRingRecord   (ring `default` always exists, never stored)
 *   ipol  <instance>!<policy type>  -> InstancePolicyRecord
 */
import type { JsonKv, KvOp } from '../meta/kv/jsonKv.js';
import { LevelJsonKv } from '../meta/kv/levelJsonKv.js';
import type { RawEntries } from '../util/levelSnapshot.js';

export const DEFAULT_KEY_RING = 'default';

export interface KeyRingRecord {
  instanceId: string;
  id: string;
  createdBy: string;
  creationDate: number;
}

export const INSTANCE_POLICY_TYPES = [
  'dualAuthDelete',
  'allowedNetwork',
  'allowedIP',
  'keyCreateImportAccess',
  'metrics',
  'rotation',
] as const;
export type InstancePolicyType = (typeof INSTANCE_POLICY_TYPES)[number];

export interface InstancePolicyAttributes {
  allowed_network?: 'public-and-private' | 'private-only';
  allowed_ip?: string[];
  create_root_key?: boolean;
  create_standard_key?: boolean;
  import_root_key?: boolean;
  import_standard_key?: boolean;
  enforce_token?: boolean;
  interval_month?: number;
}

export interface InstancePolicyRecord {
  instanceId: string;
  policy_type: InstancePolicyType;
  policy_data: { enabled: boolean; attributes?: InstancePolicyAttributes };
  createdBy: string;
  creationDate: number;
  updatedBy: string;
  lastUpdated: number;
}

const SEP = '!';

export class InstanceStateStore {
  private rings = new Map<string, KeyRingRecord>();
  private policies = new Map<string, InstancePolicyRecord>();
  private gen = 0;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private unwatch?: () => void;

  private constructor(private readonly kv: JsonKv) {}

  static async open(dir: string): Promise<InstanceStateStore> {
    return InstanceStateStore.openOn(await LevelJsonKv.open(dir));
  }

  /** Over any JsonKv (owned: closed with the store). */
  static async openOn(kv: JsonKv, opts: { reloadMs?: number } = {}): Promise<InstanceStateStore> {
    const s = new InstanceStateStore(kv);
    try {
      await s.reload();
    } catch (e) {
      await kv.close();
      throw e;
    }
    if (kv.kind === 'pg') {
      s.unwatch = kv.watch(() => void s.reload().catch(() => undefined));
      const tick = () => {
        void s
          .reload()
          .catch(() => undefined)
          .finally(() => {
            if (s.closed) return;
            s.timer = setTimeout(tick, opts.reloadMs ?? 1000);
            s.timer.unref();
          });
      };
      s.timer = setTimeout(tick, opts.reloadMs ?? 1000);
      s.timer.unref();
    }
    return s;
  }

  /** Read both spaces again and swap the mirror in, unless a local write raced the read. */
  async reload(): Promise<void> {
    const gen = this.gen;
    const rings = new Map(await this.kv.list<KeyRingRecord>('ring'));
    const policies = new Map(await this.kv.list<InstancePolicyRecord>('ipol'));
    if (gen !== this.gen || this.closed) return;
    this.rings = rings;
    this.policies = policies;
  }

  /** Every entry as of now, raw (LevelDB's iterator snapshot, taken synchronously): what `coffer backup` copies. */
  snapshot(): RawEntries {
    return this.kv.snapshot();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.unwatch?.();
    await this.kv.close();
  }

  /** Rings of an instance, `default` first (its creation date is the instance's). */
  listKeyRings(instanceId: string, instanceCreatedAt: number): KeyRingRecord[] {
    const own = [...this.rings.values()]
      .filter((r) => r.instanceId === instanceId)
      .sort((a, b) => a.creationDate - b.creationDate || (a.id < b.id ? -1 : 1));
    return [{ instanceId, id: DEFAULT_KEY_RING, createdBy: 'coffer', creationDate: instanceCreatedAt }, ...own];
  }

  hasKeyRing(instanceId: string, id: string): boolean {
    return id === DEFAULT_KEY_RING || this.rings.has(instanceId + SEP + id);
  }

  async putKeyRing(r: KeyRingRecord): Promise<void> {
    await this.kv.write([{ type: 'put', space: 'ring', key: r.instanceId + SEP + r.id, value: r }]);
    this.gen++;
    this.rings.set(r.instanceId + SEP + r.id, r);
  }

  async deleteKeyRing(instanceId: string, id: string): Promise<void> {
    await this.kv.write([{ type: 'del', space: 'ring', key: instanceId + SEP + id }]);
    this.gen++;
    this.rings.delete(instanceId + SEP + id);
  }

  getPolicy(instanceId: string, type: InstancePolicyType): InstancePolicyRecord | undefined {
    return this.policies.get(instanceId + SEP + type);
  }

  listPolicies(instanceId: string): InstancePolicyRecord[] {
    return INSTANCE_POLICY_TYPES.map((t) => this.getPolicy(instanceId, t)).filter(
      (p): p is InstancePolicyRecord => p !== undefined,
    );
  }

  /** All given policies in one atomic batch (a multi-policy PUT applies all or none). */
  async putPolicies(ps: InstancePolicyRecord[]): Promise<void> {
    await this.kv.write(
      ps.map((p): KvOp => ({ type: 'put', space: 'ipol', key: p.instanceId + SEP + p.policy_type, value: p })),
    );
    this.gen++;
    for (const p of ps) this.policies.set(p.instanceId + SEP + p.policy_type, p);
  }
}
