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
 */
import { randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import { Level } from 'level';
import { gcmOpen, gcmSeal, IV_SIZE } from '../crypto/aead.js';
import { KmsError } from '../keys/errors.js';
import { lpAll } from './lp.js';
import { keyCheckValue, MASTER_KEY_BYTES } from './masterKey.js';
import type { InstanceRecord, KeyRecord, RegistrationRecord, VersionMeta } from './records.js';
import { ensurePrivateDir } from '../util/privateDir.js';
import { levelSnapshot, type RawEntries } from '../util/levelSnapshot.js';

interface SealedVersion {
  id: string;
  creationDate: number;
  iv: string;
  sealed: string;
}

/** Values kept in the `meta` sublevel. */
export interface StoreMeta {
  /** Key check value of the master key (base64). */
  kcv: string;
  /** What LocalKeyProvider.bootstrap() created. */
  bootstrap: { instanceId: string; keyId: string };
}

export class MasterKeyMismatchError extends Error {
  constructor(dir: string) {
    super(
      `The KMS master key does not match the key store in ${dir} (key check value mismatch). ` +
        'Start Coffer with the master key this store was created with (COFFER_MASTER_KEY or the key file); ' +
        'with a different key every stored root key would be unreadable.',
    );
    this.name = 'MasterKeyMismatchError';
  }
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
  private closed = false;

  private constructor(
    private readonly db: Db,
    private readonly master: Buffer,
    private readonly random: (n: number) => Buffer,
  ) {
    this.meta = db.sublevel<string, StoreMeta[keyof StoreMeta]>('meta', { valueEncoding: 'json' });
    this.inst = db.sublevel<string, InstanceRecord>('inst', { valueEncoding: 'json' });
    this.keys = db.sublevel<string, KeyRecord>('key', { valueEncoding: 'json' });
    this.alias = db.sublevel<string, string>('alias', { valueEncoding: 'utf8' });
    this.ver = db.sublevel<string, SealedVersion>('ver', { valueEncoding: 'json' });
    this.reg = db.sublevel<string, RegistrationRecord>('reg', { valueEncoding: 'json' });
  }

  /**
   * Opens (creating if needed) the store in `dir`. A store that already has a key
   * check value refuses a different master key with MasterKeyMismatchError.
   */
  static async open(
    dir: string,
    masterKey: Buffer,
    opts: { randomBytes?: (n: number) => Buffer } = {},
  ): Promise<KeyStore> {
    if (masterKey.length !== MASTER_KEY_BYTES)
      throw new RangeError(`The KMS master key must be ${MASTER_KEY_BYTES} bytes`);
    await ensurePrivateDir(dir);
    const db: Db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
    await db.open();
    const store = new KeyStore(db, Buffer.from(masterKey), opts.randomBytes ?? nodeRandomBytes);
    try {
      await store.checkMasterKey(dir);
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  private async checkMasterKey(dir: string): Promise<void> {
    const want = keyCheckValue(this.master);
    const stored = await this.getMeta('kcv');
    if (stored === undefined) {
      for await (const _ of this.ver.keys({ limit: 1 })) {
        throw new Error(
          `The KMS key store in ${dir} holds sealed key material but no key check value; refusing to guess the master key`,
        );
      }
      // Synced like every other write here: a check value lost to a power cut would leave key material unguarded.
      await this.db.batch().put('kcv', want.toString('base64'), { sublevel: this.meta }).write({ sync: true });
      return;
    }
    const got = Buffer.from(stored, 'base64');
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new MasterKeyMismatchError(dir);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.master.fill(0);
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
    const out = gcmOpen(
      this.master,
      Buffer.from(rec.iv, 'base64'),
      Buffer.from(rec.sealed, 'base64'),
      versionAad(instanceId, keyId, versionId),
    );
    if (!out) throw new KmsError('INTERNAL_ERR', 'Key metadata became corrupted: a key version failed authentication');
    return out;
  }

  seal(instanceId: string, keyId: string, version: VersionMeta, material: Buffer): SealedVersion {
    const iv = this.random(IV_SIZE);
    const sealed = gcmSeal(this.master, iv, material, versionAad(instanceId, keyId, version.id));
    return {
      id: version.id,
      creationDate: version.creationDate,
      iv: iv.toString('base64'),
      sealed: sealed.toString('base64'),
    };
  }

  batch(): KeyStoreBatch {
    return new KeyStoreBatch(this);
  }

  /** @internal used by KeyStoreBatch */
  async write(fill: (b: ReturnType<Db['batch']>, s: KeyStore) => void): Promise<void> {
    const chain = this.db.batch();
    fill(chain, this);
    // sync: a rotate or delete acknowledged to the caller survives a power cut.
    await chain.write({ sync: true });
  }

  /** @internal */
  get sublevels() {
    return { inst: this.inst, keys: this.keys, alias: this.alias, ver: this.ver, reg: this.reg };
  }

  /**
   * Drop every record of a key (purge) in one batch, then ask LevelDB to compact.
   * Compaction is best effort: LevelDB never rewrites a file at its last level, so
   * the deleted sealed versions can stay in an .ldb file until a later natural
   * compaction. They stay sealed under the master key; crypto-shredding therefore
   * holds against anyone without the master key, not against someone who has it
   * and a copy of old files.
   */
  async purgeKey(instanceId: string, keyId: string, aliases: readonly string[]): Promise<void> {
    const vers = await this.ver.keys(prefixRange(instanceId + SEP + keyId + SEP)).all();
    const regs = await this.reg.keys(prefixRange(instanceId + SEP + keyId + SEP)).all();
    await this.write((chain, s) => {
      const { ver, reg, alias, keys } = s.sublevels;
      for (const k of vers) chain.del(k, { sublevel: ver });
      for (const k of regs) chain.del(k, { sublevel: reg });
      for (const a of aliases) chain.del(instanceId + SEP + a, { sublevel: alias });
      chain.del(instanceId + SEP + keyId, { sublevel: keys });
    });
    const compactable = this.db as unknown as { compactRange?: (start: string, end: string) => Promise<void> };
    // Sublevel keys all start with '!'; '"' is the next character.
    if (typeof compactable.compactRange === 'function') await compactable.compactRange.call(this.db, '!', '"');
  }
}

function versionAad(instanceId: string, keyId: string, versionId: string): Buffer {
  return lpAll([instanceId, keyId, versionId]);
}

/** One atomic write across the sublevels. */
export class KeyStoreBatch {
  private readonly ops: Array<(chain: ReturnType<Db['batch']>, s: KeyStore) => void> = [];

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

  /** Seals `material` now (the caller may zero its buffer right after this call). */
  putVersion(instanceId: string, keyId: string, version: VersionMeta, material: Buffer): this {
    const sealed = this.store.seal(instanceId, keyId, version, material);
    this.ops.push((c, s) => c.put(instanceId + SEP + keyId + SEP + version.id, sealed, { sublevel: s.sublevels.ver }));
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

  async write(): Promise<void> {
    await this.store.write((chain, s) => {
      for (const op of this.ops) op(chain, s);
    });
  }
}
