/**
 * Instance-level state of the Key Protect API that the key store does not
 * keep: key rings and instance policies (key-protect.md 2.3, 2.5). Its own
 * LevelDB directory (`<dataDir>/kms-instance`), mirrored in memory (one
 * process owns it; these are read on every key creation).
 *
 *   ring  <instance>!<ring id>      -> KeyRingRecord   (ring `default` always exists, never stored)
 *   ipol  <instance>!<policy type>  -> InstancePolicyRecord
 */
import { Level } from 'level';
import { ensurePrivateDir } from '../util/privateDir.js';
import { levelSnapshot, type RawEntries } from '../util/levelSnapshot.js';

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
type Db = Level<string, unknown>;

export class InstanceStateStore {
  private readonly rings = new Map<string, KeyRingRecord>();
  private readonly policies = new Map<string, InstancePolicyRecord>();

  private constructor(private readonly db: Db) {}

  static async open(dir: string): Promise<InstanceStateStore> {
    await ensurePrivateDir(dir);
    const db: Db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
    await db.open();
    const s = new InstanceStateStore(db);
    try {
      for await (const [k, v] of s.ringDb().iterator()) s.rings.set(k, v);
      for await (const [k, v] of s.policyDb().iterator()) s.policies.set(k, v);
    } catch (e) {
      await db.close();
      throw e;
    }
    return s;
  }

  private ringDb() {
    return this.db.sublevel<string, KeyRingRecord>('ring', { valueEncoding: 'json' });
  }

  private policyDb() {
    return this.db.sublevel<string, InstancePolicyRecord>('ipol', { valueEncoding: 'json' });
  }

  /** Every entry as of now, raw (LevelDB's iterator snapshot, taken synchronously): what `coffer backup` copies. */
  snapshot(): RawEntries {
    return levelSnapshot(this.db);
  }

  async close(): Promise<void> {
    await this.db.close();
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
    await this.db
      .batch()
      .put(r.instanceId + SEP + r.id, r, { sublevel: this.ringDb() })
      .write({ sync: true });
    this.rings.set(r.instanceId + SEP + r.id, r);
  }

  async deleteKeyRing(instanceId: string, id: string): Promise<void> {
    await this.db
      .batch()
      .del(instanceId + SEP + id, { sublevel: this.ringDb() })
      .write({ sync: true });
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
    const chain = this.db.batch();
    for (const p of ps) chain.put(p.instanceId + SEP + p.policy_type, p, { sublevel: this.policyDb() });
    await chain.write({ sync: true });
    for (const p of ps) this.policies.set(p.instanceId + SEP + p.policy_type, p);
  }
}
