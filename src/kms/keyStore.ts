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
 * The records are in a JsonKv (meta/kv/jsonKv.ts): LevelDB in its own directory
 * (embedded; the layout below is LevelDB's sublevels, unchanged), or the shared
 * PostgreSQL database (COFFER_KMS_STORE_URL), where every process reads through
 * and key state changes are serialized by the store's cross-process locks.
 *
 * Layout (one space each; `!` separates ids, which never contain it):
 *   meta   kcv | bootstrap
 *   inst   <instance>
 *   key    <instance>!<key>
 *   alias  <instance>!<alias>                -> key id
 *   ver    <instance>!<key>!<version>        -> SealedVersion
 *   reg    <instance>!<key>!<resource CRN>
 *   event, pend, eid                         the key event feed (keyEventStore.ts)
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { IV_SIZE } from '../crypto/aead.js';
import { KmsError } from '../keys/errors.js';
import { prefixRange, type JsonKv, type KvLocks, type KvOp } from '../meta/kv/jsonKv.js';
import { LevelJsonKv } from '../meta/kv/levelJsonKv.js';
import { FEED_UTF8_SPACES, LevelKeyEvents, type StoreFeed } from './keyEventStore.js';
import type { Delivery, FeedEventInput, KeyEventFeed } from './keyEvents.js';
import { lpAll } from './lp.js';
import { checkEntries, hasCheck, verifyMasterKey, type CheckMeta } from './masterKeyCheck.js';
import { FileMasterKey, type MasterKeyKind, type MasterKeySealer } from './masterKeySealer.js';
import type { InstanceRecord, KeyRecord, RegistrationRecord, VersionMeta } from './records.js';
import type { RawEntries } from '../util/levelSnapshot.js';

export { MasterKeyKindError, MasterKeyMismatchError } from './masterKeyCheck.js';

interface SealedVersion {
  id: string;
  creationDate: number;
  /** Which kind of master key sealed it; absent: the file key (every store from before the PKCS#11 key). */
  by?: MasterKeyKind;
  iv: string;
  sealed: string;
}

/** Values kept in the `meta` space. */
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
  /** The root S3 identity's account, for every process sharing the store (rootIdentity.ts). */
  rootAccountId: string;
}

const SEP = '!';
/** Spaces whose LevelDB values are UTF-8 strings. */
const UTF8_SPACES = ['alias', ...FEED_UTF8_SPACES];

type FeedCommit = { input: FeedEventInput; deliveries: readonly Omit<Delivery, 'seq'>[] };

export interface KeyStoreOpenOptions {
  randomBytes?: (n: number) => Buffer;
  /** The event feed over `kv` (default: the LevelDB feed; PostgreSQL: pgKeyEvents.ts). */
  feed?: (kv: JsonKv) => StoreFeed;
  /** Named in errors (the directory, or "the shared database"). */
  where?: string;
}

export class KeyStore {
  private readonly feed: StoreFeed;
  private closed = false;

  private constructor(
    private readonly kv: JsonKv,
    /** Owned by the store: closed with it. */
    readonly master: MasterKeySealer,
    private readonly random: (n: number) => Buffer,
    feed: StoreFeed,
  ) {
    this.feed = feed;
  }

  /** The key event feed, in this store (each lifecycle change's event is in its batch). */
  get events(): KeyEventFeed {
    return this.feed;
  }

  /** @internal the feed as the store writes it (pgKeyEvents' liveness). */
  get storeFeed(): StoreFeed {
    return this.feed;
  }

  /** Locks for read-modify-writes of the store's records (cross-process on a shared database). */
  get locks(): KvLocks {
    return this.kv.locks;
  }

  /** @internal the records themselves (tests that tamper with them, the shared-store wiring). */
  get records(): JsonKv {
    return this.kv;
  }

  /** True when other processes share this store (PostgreSQL). */
  get shared(): boolean {
    return this.kv.kind === 'pg';
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
    let kv: LevelJsonKv;
    try {
      kv = await LevelJsonKv.open(dir, { utf8Spaces: UTF8_SPACES });
    } catch (e) {
      if (!Buffer.isBuffer(master)) await master.close();
      throw e;
    }
    return KeyStore.openOn(kv, master, { ...opts, where: dir });
  }

  /** The same over any JsonKv, which the store then owns (closed with it, also when open fails). */
  static async openOn(kv: JsonKv, master: Buffer | MasterKeySealer, opts: KeyStoreOpenOptions = {}): Promise<KeyStore> {
    const random = opts.randomBytes ?? nodeRandomBytes;
    const sealer = Buffer.isBuffer(master) ? new FileMasterKey(master, random) : master;
    let store: KeyStore | undefined;
    try {
      store = new KeyStore(kv, sealer, random, opts.feed ? opts.feed(kv) : new LevelKeyEvents(kv));
      const s = store;
      // Two processes opening one new shared store must not both write a check value.
      await kv.locks.run('kms/master-key-check', () => s.checkMasterKey(opts.where ?? 'the key store'));
      await store.feed.load();
      return store;
    } catch (e) {
      if (store) await store.close();
      else {
        await sealer.close();
        await kv.close();
      }
      throw e;
    }
  }

  private async checkMasterKey(where: string): Promise<void> {
    const meta = await this.checkMeta();
    if (!hasCheck(meta)) {
      if ((await this.kv.keys('ver', { limit: 1 })).length > 0) {
        throw new Error(
          `The KMS key store in ${where} holds sealed key material but no key check value; refusing to guess the master key`,
        );
      }
      const entries = await checkEntries(this.master);
      await this.kv.write(Object.entries(entries).map(([k, v]) => ({ type: 'put', space: 'meta', key: k, value: v })));
      return;
    }
    await verifyMasterKey(where, meta, this.master);
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
    await this.feed.close();
    await this.master.close();
    await this.kv.close();
  }

  /** Every entry as of now, raw (LevelDB's iterator snapshot, taken synchronously): what `coffer backup` copies; material stays sealed. */
  snapshot(): RawEntries {
    return this.kv.snapshot();
  }

  async getMeta<K extends keyof StoreMeta>(name: K): Promise<StoreMeta[K] | undefined> {
    return this.kv.get<StoreMeta[K]>('meta', name);
  }

  async putMeta<K extends keyof StoreMeta>(name: K, value: StoreMeta[K]): Promise<void> {
    // Synced: the bootstrap entry names the default root key every default bucket is wrapped under.
    await this.kv.write([{ type: 'put', space: 'meta', key: name, value }]);
  }

  getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.kv.get('inst', id);
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return (await this.kv.list<InstanceRecord>('inst')).map(([, v]) => v);
  }

  getKey(instanceId: string, keyId: string): Promise<KeyRecord | undefined> {
    return this.kv.get('key', instanceId + SEP + keyId);
  }

  keyIdForAlias(instanceId: string, alias: string): Promise<string | undefined> {
    return this.kv.get('alias', instanceId + SEP + alias);
  }

  async countAliases(instanceId: string): Promise<number> {
    return (await this.kv.keys('alias', prefixRange(instanceId + SEP))).length;
  }

  async listKeys(instanceId: string): Promise<KeyRecord[]> {
    return (await this.kv.list<KeyRecord>('key', prefixRange(instanceId + SEP))).map(([, v]) => v);
  }

  getRegistration(instanceId: string, keyId: string, resourceCrn: string): Promise<RegistrationRecord | undefined> {
    return this.kv.get('reg', instanceId + SEP + keyId + SEP + resourceCrn);
  }

  /** Registrations of one key, or of every key in the instance. */
  async listRegistrations(instanceId: string, keyId?: string): Promise<RegistrationRecord[]> {
    const prefix = keyId === undefined ? instanceId + SEP : instanceId + SEP + keyId + SEP;
    return (await this.kv.list<RegistrationRecord>('reg', prefixRange(prefix))).map(([, v]) => v);
  }

  /**
   * The clear material of one version. The caller must zero it after use.
   * A missing or unopenable version means the store is damaged or was tampered
   * with: 500, never a silent failure.
   */
  async openMaterial(instanceId: string, keyId: string, versionId: string): Promise<Buffer> {
    const rec = await this.kv.get<SealedVersion>('ver', instanceId + SEP + keyId + SEP + versionId);
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
    const entries = await this.kv.list<SealedVersion>('ver');
    const ops: KvOp[] = [];
    for (const [k, rec] of entries) {
      const [instanceId, keyId, versionId] = k.split(SEP);
      const aad = versionAad(instanceId, keyId, versionId);
      const material = await this.unsealVersion(rec, aad);
      if (!material) throw new KmsError('INTERNAL_ERR', `Key version ${k} failed authentication: nothing was migrated`);
      try {
        ops.push({ type: 'put', space: 'ver', key: k, value: await sealVersion(to, rec, material, aad) });
      } finally {
        material.fill(0);
      }
    }
    const check = await checkEntries(to);
    for (const name of ['masterKind', 'kcv', 'sealCheck'] as const)
      if (check[name] === undefined) ops.push({ type: 'del', space: 'meta', key: name });
    for (const name of dropMeta) ops.push({ type: 'del', space: 'meta', key: name });
    for (const [name, v] of Object.entries({ ...check, ...extraMeta }))
      ops.push({ type: 'put', space: 'meta', key: name, value: v });
    await this.write(ops);
    return entries.length;
  }

  batch(): KeyStoreBatch {
    return new KeyStoreBatch(this);
  }

  /** @internal used by KeyStoreBatch: one atomic, durable write (with its feed event when there is one). */
  async write(ops: readonly KvOp[], event?: FeedCommit): Promise<void> {
    // With an event, the feed writes the batch (it orders the sequence numbers).
    if (event) {
      await this.feed.commit(ops, event.input, event.deliveries);
      return;
    }
    // Synced: a rotate or delete acknowledged to the caller survives a power cut.
    await this.kv.write(ops);
  }

  /**
   * Drop every record of a key (purge) in one batch, then ask LevelDB to compact.
   * Compaction is best effort: LevelDB never rewrites a file at its last level, so
   * the deleted sealed versions can stay in an .ldb file until a later natural
   * compaction. They stay sealed under the master key; crypto-shredding therefore
   * holds against anyone without the master key, not against someone who has it
   * and a copy of old files. (PostgreSQL: the rows are deleted; their space is
   * reclaimed by VACUUM, on the same terms.)
   */
  async purgeKey(instanceId: string, keyId: string, aliases: readonly string[], event?: FeedCommit): Promise<void> {
    const range = prefixRange(instanceId + SEP + keyId + SEP);
    const vers = await this.kv.keys('ver', range);
    const regs = await this.kv.keys('reg', range);
    const ops: KvOp[] = [
      ...vers.map((k): KvOp => ({ type: 'del', space: 'ver', key: k })),
      ...regs.map((k): KvOp => ({ type: 'del', space: 'reg', key: k })),
      ...aliases.map((a): KvOp => ({ type: 'del', space: 'alias', key: instanceId + SEP + a })),
      { type: 'del', space: 'key', key: instanceId + SEP + keyId },
    ];
    await this.write(ops, event);
    if (this.kv instanceof LevelJsonKv) await this.kv.compact();
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

/** One atomic write across the spaces. */
export class KeyStoreBatch {
  /** A promise where a version is still being sealed (a PKCS#11 key seals asynchronously). */
  private readonly ops: Array<KvOp | Promise<KvOp>> = [];
  private feedEvent?: FeedCommit;

  constructor(private readonly store: KeyStore) {}

  putInstance(rec: InstanceRecord): this {
    this.ops.push({ type: 'put', space: 'inst', key: rec.id, value: rec });
    return this;
  }

  putKey(rec: KeyRecord): this {
    this.ops.push({ type: 'put', space: 'key', key: rec.instanceId + SEP + rec.id, value: rec });
    return this;
  }

  putAlias(instanceId: string, alias: string, keyId: string): this {
    this.ops.push({ type: 'put', space: 'alias', key: instanceId + SEP + alias, value: keyId });
    return this;
  }

  delAlias(instanceId: string, alias: string): this {
    this.ops.push({ type: 'del', space: 'alias', key: instanceId + SEP + alias });
    return this;
  }

  /** Seals a copy of `material` (the caller may zero its buffer right after this call); write() waits for the seal. */
  putVersion(instanceId: string, keyId: string, version: VersionMeta, material: Buffer): this {
    const copy = Buffer.from(material);
    const op = this.store
      .seal(instanceId, keyId, version, copy)
      .finally(() => copy.fill(0))
      .then((sealed): KvOp => ({
        type: 'put',
        space: 'ver',
        key: instanceId + SEP + keyId + SEP + version.id,
        value: sealed,
      }));
    // A failed seal is reported by write(); until then it must not count as unhandled.
    op.catch(() => undefined);
    this.ops.push(op);
    return this;
  }

  putRegistration(r: RegistrationRecord): this {
    this.ops.push({ type: 'put', space: 'reg', key: r.instanceId + SEP + r.keyId + SEP + r.resourceCrn, value: r });
    return this;
  }

  delRegistration(instanceId: string, keyId: string, resourceCrn: string): this {
    this.ops.push({ type: 'del', space: 'reg', key: instanceId + SEP + keyId + SEP + resourceCrn });
    return this;
  }

  /** Appends this feed event (and its outstanding deliveries) in the same atomic write. */
  event(input: FeedEventInput, deliveries: readonly Omit<Delivery, 'seq'>[] = []): this {
    this.feedEvent = { input, deliveries };
    return this;
  }

  async write(): Promise<void> {
    const ops = await Promise.all(this.ops);
    await this.store.write(ops, this.feedEvent);
  }
}
