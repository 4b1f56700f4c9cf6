/**
 * LevelDB persistence of the embedded KMS, in its own directory (never the
 * object-metadata store): instances, keys, aliases, registrations, and key
 * versions whose material is sealed under the L0 master key:
 *
 *   sealed = AES-256-GCM(master, iv = 12 random bytes, material,
 *                        AAD = lp(instance id) ‖ lp(key id) ‖ lp(version id))
 *
 * The AAD binds each sealed blob to its place, so copying one key's sealed
 * material onto another key (or version) in the files fails to open.
 * Material is never written, returned by a list, or logged in clear.
 *
 * Layout (one sublevel each; `!` separates ids, which never contain it):
 *   meta   kcv | bootstrap
 *   inst   <instance>
 *   key    <instance>!<key>
 *   alias  <instance>!<alias>                -> key id
 *   ver    <instance>!<key>!<version>        -> SealedVersion
 *   reg    <instance>!<key>!<resource CRN>
 *   event, pend, eid                         the key event feed (keyEventStore.ts)
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { Level } from 'level';
import { IV_SIZE } from '../crypto/aead.js';
import { KmsError } from '../keys/errors.js';
import { LevelKeyEvents } from './keyEventStore.js';
import type { Delivery, FeedEventInput, KeyEventFeed } from './keyEvents.js';
import { lpAll } from './lp.js';
import { checkEntries, hasCheck, verifyMasterKey, type CheckMeta } from './masterKeyCheck.js';
import { FileMasterKey, type MasterKeyKind, type MasterKeySealer } from './masterKeySealer.js';
import type { InstanceRecord, KeyRecord, RegistrationRecord, VersionMeta } from './records.js';
import { ensurePrivateDir } from '../util/privateDir.js';
import { levelSnapshot, type RawEntries } from '../util/levelSnapshot.js';

export { MasterKeyKindError, MasterKeyMismatchError } from './masterKeyCheck.js';

interface SealedVersion {
  id: string;
  creationDate: number;
  /** Which kind of master key sealed it; absent: the file key (every store from before the PKCS#11 key). */
  by?: MasterKeyKind;
  iv: string;
  sealed: string;
}

/** Values kept in the `meta` sublevel. */
export interface StoreMeta {
  /** Key check value of the file master key (base64); absent in a store sealed by a PKCS#11 key. */
  kcv: string;
  /** 'pkcs11' when a token key seals the store; absent for the file key. */
  masterKind: MasterKeyKind;
  /** PKCS#11: a known text sealed by the token key (base64), the check at open. */
  sealCheck: string;
  /** PKCS#11: the IAM secrets key sealed by the token (masterKeySecrets.ts). */
  secretsKey: string;
  /** What LocalKeyProvider.bootstrap() created. */
  bootstrap: { instanceId: string; keyId: string };
}

type Db = Level<string, unknown>;

const SEP = '!';
/** Upper bound for a prefix range: higher than any character used in ids. */
const HIGH = '\uffff';

function prefixRange(prefix: string): { gt: string; lt: string } {
  return { gt: prefix, lt: prefix + HIGH };
}

export class KeyStore {
  private readonly meta;
  private readonly inst;
  private readonly keys;
  private readonly alias;
  private readonly ver;
  private readonly reg;
  private readonly feed: LevelKeyEvents;
  private closed = false;

  private constructor(
    private readonly db: Db,
    /** Owned by the store: closed with it. */
    readonly master: MasterKeySealer,
    private readonly random: (n: number) => Buffer,
  ) {
    this.meta = db.sublevel<string, StoreMeta[keyof StoreMeta]>('meta', { valueEncoding: 'json' });
    this.inst = db.sublevel<string, InstanceRecord>('inst', { valueEncoding: 'json' });
    this.keys = db.sublevel<string, KeyRecord>('key', { valueEncoding: 'json' });
    this.alias = db.sublevel<string, string>('alias', { valueEncoding: 'utf8' });
    this.ver = db.sublevel<string, SealedVersion>('ver', { valueEncoding: 'json' });
    this.reg = db.sublevel<string, RegistrationRecord>('reg', { valueEncoding: 'json' });
    this.feed = new LevelKeyEvents(db);
  }

  /** The key event feed, in this store (each lifecycle change's event is in its batch). */
  get events(): KeyEventFeed {
    return this.feed;
  }

  /**
   * Opens (creating if needed) the store in `dir`, sealed by `master`: the
   * 32-byte file key (copied) or a MasterKeySealer, which the store then owns
   * and closes (also when open fails). A store that already has a check value
   * refuses a different key with MasterKeyMismatchError, and the other kind of
   * key with MasterKeyKindError.
   */
  static async open(
    dir: string,
    master: Buffer | MasterKeySealer,
    opts: { randomBytes?: (n: number) => Buffer } = {},
  ): Promise<KeyStore> {
    const random = opts.randomBytes ?? nodeRandomBytes;
    const sealer = Buffer.isBuffer(master) ? new FileMasterKey(master, random) : master;
    let store: KeyStore | undefined;
    try {
      await ensurePrivateDir(dir);
      const db: Db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
      await db.open();
      store = new KeyStore(db, sealer, random);
      await store.checkMasterKey(dir);
      await store.feed.load();
      return store;
    } catch (e) {
      if (store) await store.close();
      else await sealer.close();
      throw e;
    }
  }

  private async checkMasterKey(dir: string): Promise<void> {
    const meta = await this.checkMeta();
    if (!hasCheck(meta)) {
      for await (const _ of this.ver.keys({ limit: 1 })) {
        throw new Error(
          `The KMS key store in ${dir} holds sealed key material but no key check value; refusing to guess the master key`,
        );
      }
      const entries = await checkEntries(this.master);
      const b = this.meta.batch();
      for (const [k, v] of Object.entries(entries)) b.put(k, v as string);
      await b.write({ sync: true });
      return;
    }
    await verifyMasterKey(dir, meta, this.master);
  }

  private async checkMeta(): Promise<CheckMeta> {
    const [masterKind, kcv, sealCheck] = await Promise.all([
      this.getMeta('masterKind'),
      this.getMeta('kcv'),
      this.getMeta('sealCheck'),
    ]);
    return {
      ...(masterKind !== undefined ? { masterKind } : {}),
      ...(kcv !== undefined ? { kcv } : {}),
      ...(sealCheck !== undefined ? { sealCheck } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.feed.close();
    await this.master.close();
    await this.db.close();
  }

  /** Every entry as of now, raw (LevelDB's iterator snapshot, taken synchronously): what `coffer backup` copies; material stays sealed. */
  snapshot(): RawEntries {
    return levelSnapshot(this.db);
  }

  async getMeta<K extends keyof StoreMeta>(name: K): Promise<StoreMeta[K] | undefined> {
    return (await this.meta.get(name)) as StoreMeta[K] | undefined;
  }

  async putMeta<K extends keyof StoreMeta>(name: K, value: StoreMeta[K]): Promise<void> {
    // sync: the bootstrap entry names the default root key every default bucket is wrapped under.
    await this.db.batch().put(name, value, { sublevel: this.meta }).write({ sync: true });
  }

  getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.inst.get(id);
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return this.inst.values().all();
  }

  getKey(instanceId: string, keyId: string): Promise<KeyRecord | undefined> {
    return this.keys.get(instanceId + SEP + keyId);
  }

  keyIdForAlias(instanceId: string, alias: string): Promise<string | undefined> {
    return this.alias.get(instanceId + SEP + alias);
  }

  async countAliases(instanceId: string): Promise<number> {
    let n = 0;
    for await (const _ of this.alias.keys(prefixRange(instanceId + SEP))) n++;
    return n;
  }

  async listKeys(instanceId: string): Promise<KeyRecord[]> {
    return this.keys.values(prefixRange(instanceId + SEP)).all();
  }

  getRegistration(instanceId: string, keyId: string, resourceCrn: string): Promise<RegistrationRecord | undefined> {
    return this.reg.get(instanceId + SEP + keyId + SEP + resourceCrn);
  }

  /** Registrations of one key, or of every key in the instance. */
  async listRegistrations(instanceId: string, keyId?: string): Promise<RegistrationRecord[]> {
    const prefix = keyId === undefined ? instanceId + SEP : instanceId + SEP + keyId + SEP;
    return this.reg.values(prefixRange(prefix)).all();
  }

  /**
   * The clear material of one version. The caller must zero it after use.
   * A missing or unopenable version means the store is damaged or was tampered
   * with: 500, never a silent failure.
   */
  async openMaterial(instanceId: string, keyId: string, versionId: string): Promise<Buffer> {
    const rec = await this.ver.get(instanceId + SEP + keyId + SEP + versionId);
    if (!rec) throw new KmsError('INTERNAL_ERR', 'Key metadata became corrupted: a key version is missing');
    const out = await this.unsealVersion(rec, versionAad(instanceId, keyId, versionId));
    if (!out) throw new KmsError('INTERNAL_ERR', 'Key metadata became corrupted: a key version failed authentication');
    return out;
  }

  private async unsealVersion(rec: SealedVersion, aad: Buffer): Promise<Buffer | undefined> {
    const by = rec.by ?? 'file';
    if (by !== this.master.kind)
      throw new KmsError(
        'INTERNAL_ERR',
        `Key metadata is sealed by the ${by} master key but the store is opened with the ${this.master.kind} one: ` +
          'finish `coffer kms master-key migrate` on the stopped server',
      );
    return this.master.unseal(Buffer.concat([Buffer.from(rec.iv, 'base64'), Buffer.from(rec.sealed, 'base64')]), aad);
  }

  async seal(instanceId: string, keyId: string, version: VersionMeta, material: Buffer): Promise<SealedVersion> {
    return sealVersion(this.master, version, material, versionAad(instanceId, keyId, version.id));
  }

  /**
   * Reseals every key version and the master key's check entries under `to`,
   * in one atomic batch (a crash leaves the store wholly as it was, or wholly
   * moved: never mixed). `extraMeta` is written in that batch too; `dropMeta`
   * entries are deleted. Returns how many versions were resealed. The store
   * stays open with its old key: close it, and open it again with `to`.
   */
  async resealAll(
    to: MasterKeySealer,
    extraMeta: Partial<StoreMeta> = {},
    dropMeta: ReadonlyArray<keyof StoreMeta> = [],
  ): Promise<number> {
    const entries = await this.ver.iterator().all();
    const resealed: Array<[string, SealedVersion]> = [];
    for (const [k, rec] of entries) {
      const [instanceId, keyId, versionId] = k.split(SEP);
      const aad = versionAad(instanceId, keyId, versionId);
      const material = await this.unsealVersion(rec, aad);
      if (!material) throw new KmsError('INTERNAL_ERR', `Key version ${k} failed authentication: nothing was migrated`);
      try {
        resealed.push([k, await sealVersion(to, rec, material, aad)]);
      } finally {
        material.fill(0);
      }
    }
    const check = await checkEntries(to);
    await this.write((chain, s) => {
      for (const [k, rec] of resealed) chain.put(k, rec, { sublevel: s.sublevels.ver });
      for (const name of ['masterKind', 'kcv', 'sealCheck'] as const)
        if (check[name] === undefined) chain.del(name, { sublevel: s.meta });
      for (const name of dropMeta) chain.del(name, { sublevel: s.meta });
      for (const [name, v] of Object.entries({ ...check, ...extraMeta })) chain.put(name, v, { sublevel: s.meta });
    });
    return resealed.length;
  }

  batch(): KeyStoreBatch {
    return new KeyStoreBatch(this);
  }

  /** @internal used by KeyStoreBatch */
  async write(
    fill: (b: ReturnType<Db['batch']>, s: KeyStore) => void,
    event?: { input: FeedEventInput; deliveries: readonly Omit<Delivery, 'seq'>[] },
  ): Promise<void> {
    // With an event, the feed writes the batch (it orders the sequence numbers); sync as below.
    if (event) {
      await this.feed.commit((chain) => fill(chain, this), event.input, event.deliveries);
      return;
    }
    const chain = this.db.batch();
    fill(chain, this);
    // sync: a rotate or delete acknowledged to the caller survives a power cut.
    await chain.write({ sync: true });
  }

  /** @internal */
  get sublevels() {
    return { meta: this.meta, inst: this.inst, keys: this.keys, alias: this.alias, ver: this.ver, reg: this.reg };
  }

  /**
   * Drop every record of a key (purge) in one batch, then ask LevelDB to compact.
   * Compaction is best effort: LevelDB never rewrites a file at its last level, so
   * the deleted sealed versions can stay in an .ldb file until a later natural
   * compaction. They stay sealed under the master key; crypto-shredding therefore
   * holds against anyone without the master key, not against someone who has it
   * and a copy of old files.
   */
  async purgeKey(
    instanceId: string,
    keyId: string,
    aliases: readonly string[],
    event?: { input: FeedEventInput; deliveries: readonly Omit<Delivery, 'seq'>[] },
  ): Promise<void> {
    const vers = await this.ver.keys(prefixRange(instanceId + SEP + keyId + SEP)).all();
    const regs = await this.reg.keys(prefixRange(instanceId + SEP + keyId + SEP)).all();
    await this.write((chain, s) => {
      const { ver, reg, alias, keys } = s.sublevels;
      for (const k of vers) chain.del(k, { sublevel: ver });
      for (const k of regs) chain.del(k, { sublevel: reg });
      for (const a of aliases) chain.del(instanceId + SEP + a, { sublevel: alias });
      chain.del(instanceId + SEP + keyId, { sublevel: keys });
    }, event);
    const compactable = this.db as unknown as { compactRange?: (start: string, end: string) => Promise<void> };
    // Sublevel keys all start with '!'; '"' is the next character.
    if (typeof compactable.compactRange === 'function') await compactable.compactRange.call(this.db, '!', '"');
  }
}

function versionAad(instanceId: string, keyId: string, versionId: string): Buffer {
  return lpAll([instanceId, keyId, versionId]);
}

async function sealVersion(
  master: MasterKeySealer,
  version: Pick<VersionMeta, 'id' | 'creationDate'>,
  material: Buffer,
  aad: Buffer,
): Promise<SealedVersion> {
  const sealed = await master.seal(material, aad);
  return {
    id: version.id,
    creationDate: version.creationDate,
    ...(master.kind !== 'file' ? { by: master.kind } : {}),
    iv: sealed.subarray(0, IV_SIZE).toString('base64'),
    sealed: sealed.subarray(IV_SIZE).toString('base64'),
  };
}

type BatchOp = (chain: ReturnType<Db['batch']>, s: KeyStore) => void;

/** One atomic write across the sublevels. */
export class KeyStoreBatch {
  /** A promise where a version is still being sealed (a PKCS#11 key seals asynchronously). */
  private readonly ops: Array<BatchOp | Promise<BatchOp>> = [];
  private feedEvent?: { input: FeedEventInput; deliveries: readonly Omit<Delivery, 'seq'>[] };

  constructor(private readonly store: KeyStore) {}

  putInstance(rec: InstanceRecord): this {
    this.ops.push((c, s) => c.put(rec.id, rec, { sublevel: s.sublevels.inst }));
    return this;
  }

  putKey(rec: KeyRecord): this {
    this.ops.push((c, s) => c.put(rec.instanceId + SEP + rec.id, rec, { sublevel: s.sublevels.keys }));
    return this;
  }

  putAlias(instanceId: string, alias: string, keyId: string): this {
    this.ops.push((c, s) => c.put(instanceId + SEP + alias, keyId, { sublevel: s.sublevels.alias }));
    return this;
  }

  delAlias(instanceId: string, alias: string): this {
    this.ops.push((c, s) => c.del(instanceId + SEP + alias, { sublevel: s.sublevels.alias }));
    return this;
  }

  /** Seals a copy of `material` (the caller may zero its buffer right after this call); write() waits for the seal. */
  putVersion(instanceId: string, keyId: string, version: VersionMeta, material: Buffer): this {
    const copy = Buffer.from(material);
    const op = this.store
      .seal(instanceId, keyId, version, copy)
      .finally(() => copy.fill(0))
      .then(
        (sealed): BatchOp =>
          (c, s) =>
            c.put(instanceId + SEP + keyId + SEP + version.id, sealed, { sublevel: s.sublevels.ver }),
      );
    // A failed seal is reported by write(); until then it must not count as unhandled.
    op.catch(() => undefined);
    this.ops.push(op);
    return this;
  }

  putRegistration(r: RegistrationRecord): this {
    this.ops.push((c, s) =>
      c.put(r.instanceId + SEP + r.keyId + SEP + r.resourceCrn, r, { sublevel: s.sublevels.reg }),
    );
    return this;
  }

  delRegistration(instanceId: string, keyId: string, resourceCrn: string): this {
    this.ops.push((c, s) => c.del(instanceId + SEP + keyId + SEP + resourceCrn, { sublevel: s.sublevels.reg }));
    return this;
  }

  /** Appends this feed event (and its outstanding deliveries) in the same atomic write. */
  event(input: FeedEventInput, deliveries: readonly Omit<Delivery, 'seq'>[] = []): this {
    this.feedEvent = { input, deliveries };
    return this;
  }

  async write(): Promise<void> {
    const ops = await Promise.all(this.ops);
    await this.store.write((chain, s) => {
      for (const op of ops) op(chain, s);
    }, this.feedEvent);
  }
}
