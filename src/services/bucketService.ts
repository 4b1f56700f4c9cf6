/**
 * Buckets: create (DEK from the KMS, wrapped under the chosen root key),
 * delete, list, and the one place that turns a bucket into its plaintext DEK.
 */
import { randomBytes } from 'node:crypto';
import type { KeyCaller, KeyProvider } from '../keys/KeyProvider.js';
import { KmsError } from '../keys/errors.js';
import type { MetaStore } from '../meta/MetaStore.js';
import type { AccessControlList, ObjectOwnership } from '../meta/accessRecords.js';
import type { BucketObjectLock, BucketRecord, CorsRule, LifecycleRule, VersioningStatus } from '../meta/records.js';
import { KeyedMutex } from '../util/keyedMutex.js';
import type { Logger } from '../util/logger.js';
import { DomainError } from './errors.js';
import { checkRule } from './objectLock.js';
import { applyObjectLock, lockFlag, requireObjectLockConfig } from './bucketObjectLock.js';

/** What the service needs of the unwrapped-DEK cache. */
export interface DekCacheLike {
  /** Cached DEK or the loaded one; a load overtaken by an invalidation is not cached. */
  getOrLoad(rootKeyCrn: string, wrapped: string, load: () => Promise<Buffer>): Promise<Buffer>;
  set(rootKeyCrn: string, wrapped: string, dek: Buffer): void;
  invalidateKey(rootKeyCrn: string): void;
}

export interface BucketServiceDeps {
  meta: MetaStore;
  keys: KeyProvider;
  dekCache: DekCacheLike;
  region: string;
  /** CRN of a bucket, for KMS registrations. */
  bucketCrn: (owner: string, name: string) => string;
  /** Throws (with a clear message) when the CRN is not a well-formed key CRN. */
  validateKeyCrn: (crn: string) => void;
  log: Logger;
}

export interface CreateBucketInput {
  owner: string;
  name: string;
  locationConstraint?: string;
  /** ibm-sse-kp-customer-root-key-crn (already checked to come with AES256). */
  rootKeyCrn?: string;
  /** x-amz-bucket-object-lock-enabled: versioning Enabled for good, registered with preventKeyDeletion. */
  objectLock?: boolean;
  /** x-amz-object-ownership (stored explicitly: absent on a record reads as BucketOwnerEnforced too). */
  ownership?: ObjectOwnership;
  /** The ACL CreateBucket's x-amz-acl / x-amz-grant-* asked for, when not the owner's alone. */
  acl?: AccessControlList;
  requestId?: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Prefixes and suffixes AWS reserves (access points, aliases, directory and table buckets). */
const RESERVED_PREFIXES: readonly string[] = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES: readonly string[] = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

export function validateBucketName(name: string): void {
  // Each dot-separated label must start and end with a letter or digit (AWS refuses "a-.b" and "a.-b").
  const badLabel = name.includes('..') || name.includes('.-') || name.includes('-.');
  if (
    !BUCKET_NAME.test(name) ||
    badLabel ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    RESERVED_PREFIXES.some((p) => name.startsWith(p)) ||
    RESERVED_SUFFIXES.some((x) => name.endsWith(x))
  ) {
    throw new DomainError('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  }
}

export const bucketAad = (uid: string) => ['coffer:bucket', uid];

export class BucketService {
  /** Serializes root-key changes per bucket name. */
  private readonly keyChanges = new KeyedMutex();
  constructor(private readonly d: BucketServiceDeps) {}

  async create(input: CreateBucketInput): Promise<{ created: boolean; bucket: BucketRecord }> {
    validateBucketName(input.name);
    const loc = input.locationConstraint;
    if (loc && loc !== this.d.region && !(this.d.region === 'us-east-1' && (loc === 'US' || loc === 'us-east-1'))) {
      throw new DomainError(
        'InvalidArgument',
        `The location constraint ${loc} is not this server's region (${this.d.region}).`,
        { LocationConstraint: loc },
      );
    }
    const existing = await this.d.meta.getBucket(input.name);
    if (existing) {
      if (existing.owner !== input.owner)
        throw new DomainError('BucketAlreadyExists', 'The requested bucket name is not available.', {
          BucketName: input.name,
        });
      // A repeat that asks for another root key must not "succeed" with the old one.
      const keyDiffers =
        input.rootKeyCrn !== undefined &&
        (!existing.encryption.customerManaged || existing.encryption.rootKeyCrn !== input.rootKeyCrn);
      // AWS us-east-1 answers 200 to a repeated CreateBucket by the owner; other regions 409.
      if (this.d.region === 'us-east-1' && !keyDiffers && !!input.objectLock === !!existing.objectLock)
        return { created: false, bucket: existing };
      throw new DomainError(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        { BucketName: input.name },
      );
    }
    const caller: KeyCaller = { tenant: input.owner, requestId: input.requestId };
    const customer = input.rootKeyCrn !== undefined;
    if (customer) {
      try {
        this.d.validateKeyCrn(input.rootKeyCrn!);
      } catch (e) {
        throw new DomainError('InvalidArgument', `Invalid ibm-sse-kp-customer-root-key-crn: ${(e as Error).message}`, {
          ArgumentName: 'ibm-sse-kp-customer-root-key-crn',
        });
      }
    }
    const crn = input.rootKeyCrn ?? (await this.d.keys.defaultRootKeyCrn(caller));
    const uid = randomBytes(16).toString('hex');
    const aad = bucketAad(uid);
    let gen;
    try {
      gen = await this.d.keys.generateDataKey(caller, crn, aad);
    } catch (e) {
      throw this.keyErrorAtCreate(e, crn);
    }
    const bucket: BucketRecord = {
      name: input.name,
      uid,
      owner: input.owner,
      createdAt: Date.now(),
      region: this.d.region,
      encryption: {
        rootKeyCrn: crn,
        customerManaged: customer,
        wrappedDek: gen.wrapped,
        keyVersion: gen.keyVersion,
        aad,
        dekGeneration: 1,
      },
      // AWS turns versioning on with Object Lock, and it can never be suspended.
      ...(input.objectLock ? { versioning: 'Enabled' as const, objectLock: { enabled: true as const } } : {}),
      ...(input.ownership ? { ownership: input.ownership } : {}),
      ...(input.acl ? { acl: input.acl } : {}),
    };
    const resourceCrn = this.d.bucketCrn(input.owner, input.name);
    try {
      await this.d.keys.register(caller, crn, {
        resourceCrn,
        description: `Coffer bucket ${input.name}`,
        keyVersion: gen.keyVersion,
        ...lockFlag(bucket),
      });
    } catch (e) {
      gen.plaintext.fill(0);
      throw this.keyErrorAtCreate(e, crn);
    }
    try {
      await this.d.meta.batch().putBucket(bucket).commit();
    } catch (e) {
      await this.d.keys.unregister(caller, crn, resourceCrn).catch(() => undefined);
      throw e;
    }
    this.d.dekCache.set(crn, gen.wrapped, gen.plaintext);
    gen.plaintext.fill(0);
    return { created: true, bucket };
  }

  private keyErrorAtCreate(e: unknown, crn: string, argumentName = 'ibm-sse-kp-customer-root-key-crn'): Error {
    if (e instanceof KmsError) {
      if (e.status === 404 || e.status === 401 || e.status === 403 || e.reason === 'KEY_NOT_FOUND_ERR') {
        // Same answer for "no such key" and "not authorized": a CRN must leak nothing.
        return new DomainError('KeyNotFound', `The Key CRN could not be found: ${crn}`, { ArgumentName: argumentName });
      }
      if (e.reason === 'KEY_ROOT_REQ_ERR' || e.reason === 'KEY_ROOT_REQ_REG_ERR') {
        return new DomainError('InvalidArgument', `The key ${crn} is not a root key.`, { ArgumentName: argumentName });
      }
      return new DomainError('InvalidArgument', `The key ${crn} cannot be used: it is not active.`, {
        ArgumentName: argumentName,
      });
    }
    return e as Error;
  }

  /** Load a bucket for an operation by `account`; NoSuchBucket or AccessDenied. */
  async resolve(name: string, account: string): Promise<BucketRecord> {
    const b = await this.lookup(name);
    if (b.owner !== account) throw new DomainError('AccessDenied', 'Access Denied');
    return b;
  }

  /**
   * Load a bucket whoever asks: for the operations that decide by the bucket's
   * ACL themselves (GetBucketAcl, PutBucketAcl). NoSuchBucket.
   */
  async lookup(name: string): Promise<BucketRecord> {
    const b = await this.d.meta.getBucket(name);
    if (!b) throw new DomainError('NoSuchBucket', 'The specified bucket does not exist', { BucketName: name });
    // Object seals bind the bucket name: a bucket record moved under another
    // name must not serve its objects there (sealedMeta.addressOf).
    if (b.name !== name)
      throw new DomainError('IntegrityError', 'bucket record does not match its name', { BucketName: name });
    return b;
  }

  /**
   * PutBucketCors / DeleteBucketCors (`rules` undefined). Under the same
   * per-bucket lock as a root-key change, on a fresh read, so neither undoes
   * the other.
   */
  async setCors(name: string, account: string, rules: CorsRule[] | undefined): Promise<void> {
    await this.keyChanges.run(name, async () => {
      const b = await this.resolve(name, account);
      const updated: BucketRecord = { ...b };
      if (rules === undefined) delete updated.cors;
      else updated.cors = rules;
      await this.d.meta.batch().putBucket(updated).commit();
    });
  }

  /** PutBucketLifecycleConfiguration / its Delete (`rules` undefined), like setCors. */
  async setLifecycle(name: string, account: string, rules: LifecycleRule[] | undefined): Promise<void> {
    await this.keyChanges.run(name, async () => {
      const b = await this.resolve(name, account);
      const updated: BucketRecord = { ...b };
      if (rules === undefined) delete updated.lifecycle;
      else updated.lifecycle = rules;
      await this.d.meta.batch().putBucket(updated).commit();
    });
  }

  /**
   * Change a bucket's access-control fields (ACL, ownership rule, tags) on a
   * fresh read under the bucket's lock, so no concurrent change is undone.
   * `change` sees the current record and returns the new one (or throws to
   * refuse); the caller has checked the requester may make the change.
   */
  async updateAccess(name: string, change: (b: BucketRecord) => BucketRecord): Promise<BucketRecord> {
    return this.keyChanges.run(name, async () => {
      const updated = change(await this.lookup(name));
      await this.d.meta.batch().putBucket(updated).commit();
      return updated;
    });
  }

  /**
   * A bucket's CORS rules for judging a browser's request, whoever sends it
   * (a preflight carries no credentials): undefined when the bucket does not
   * exist or has none. Only the rules leave here, never the record.
   */
  async corsRules(name: string): Promise<{ exists: boolean; rules?: CorsRule[] }> {
    const b = await this.d.meta.getBucket(name);
    if (!b || b.name !== name) return { exists: false };
    return { exists: true, rules: b.cors };
  }

  async list(account: string): Promise<BucketRecord[]> {
    return (await this.d.meta.listBuckets()).filter((b) => b.owner === account);
  }

  /**
   * DeleteBucket. Objects make it BucketNotEmpty; uploads in progress do not (AWS
   * deletes the bucket and them): `abortUploads` aborts them first, then the
   * emptiness check runs again so an upload started meanwhile still refuses.
   */
  async delete(
    name: string,
    account: string,
    requestId?: string,
    abortUploads?: (b: BucketRecord) => Promise<void>,
  ): Promise<void> {
    const b = await this.resolve(name, account);
    const notEmpty = () =>
      new DomainError('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
    // Delete markers count: S3 refuses to delete a bucket that holds any version.
    for await (const _ of this.d.meta.listObjects({ bucketUid: b.uid, limit: 1, deleteMarkers: true }))
      throw notEmpty();
    await abortUploads?.(b);
    if (await this.d.meta.bucketHasContent(b.uid)) throw notEmpty();
    await this.d.meta.batch().deleteBucket(name).commit();
    const caller: KeyCaller = { tenant: b.owner, requestId };
    // The bucket's own key, and every key SSE-KMS objects of it were written under.
    for (const crn of new Set([b.encryption.rootKeyCrn, ...(b.objectKeyCrns ?? [])]))
      await this.d.keys.unregister(caller, crn, this.d.bucketCrn(b.owner, name)).catch((e: unknown) => {
        this.d.log.warn('kms unregister failed', { bucket: name, err: (e as Error).message });
      });
  }

  /**
   * Register the bucket on a root key an SSE-KMS object is written under (once
   * per (bucket, key); services/objectSseKeys.ts). Under the bucket's lock, on
   * a fresh read, like every other bucket-record change.
   */
  async registerObjectKey(b: BucketRecord, crn: string, keyVersion: string, requestId?: string): Promise<void> {
    if (crn === b.encryption.rootKeyCrn || b.objectKeyCrns?.includes(crn)) return;
    await this.keyChanges.run(b.name, async () => {
      const fresh = await this.d.meta.getBucket(b.name);
      if (!fresh || fresh.uid !== b.uid) throw new DomainError('NoSuchBucket', 'The specified bucket does not exist');
      if (fresh.objectKeyCrns?.includes(crn)) return;
      const caller: KeyCaller = { tenant: b.owner, requestId };
      await this.d.keys.register(caller, crn, {
        resourceCrn: this.d.bucketCrn(b.owner, b.name),
        description: `Coffer bucket ${b.name} (SSE-KMS objects)`,
        keyVersion,
        ...lockFlag(fresh),
      });
      await this.d.meta
        .batch()
        .putBucket({ ...fresh, objectKeyCrns: [...(fresh.objectKeyCrns ?? []), crn] })
        .commit();
    });
  }

  /**
   * PutBucketVersioning. Enabled or Suspended; a bucket never goes back to
   * unversioned (S3's rule), so there is no way to ask for that. Serialized with
   * root-key changes and committed on a fresh read, so neither undoes the other.
   */
  async setVersioning(name: string, account: string, status: VersioningStatus): Promise<BucketRecord> {
    return this.keyChanges.run(name, async () => {
      const b = await this.resolve(name, account);
      if (b.versioning === status) return b;
      if (b.objectLock)
        throw new DomainError(
          'InvalidBucketState',
          'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
          { BucketName: name },
        );
      const updated: BucketRecord = { ...b, versioning: status };
      await this.d.meta.batch().putBucket(updated).commit();
      return updated;
    });
  }

  /** PutObjectLockConfiguration (bucketObjectLock.ts), under the bucket's lock on a fresh read. */
  async setObjectLock(
    name: string,
    account: string,
    rule: BucketObjectLock['rule'],
    requestId?: string,
  ): Promise<BucketRecord> {
    if (rule) checkRule(rule);
    return this.keyChanges.run(name, async () =>
      applyObjectLock(this.d, await this.resolve(name, account), rule, requestId),
    );
  }

  /** GetObjectLockConfiguration: 404 ObjectLockConfigurationNotFoundError on a bucket without it. */
  async objectLock(name: string, account: string): Promise<BucketObjectLock> {
    return requireObjectLockConfig(await this.resolve(name, account));
  }

  /**
   * Move a bucket to another root key (PutBucketEncryption, DeleteBucketEncryption).
   * `rootKeyCrn` undefined means the provider-managed default key. The DEK itself
   * does not change, so no object is re-encrypted: it is unwrapped under the old
   * key (the KMS checks the caller may still use it), wrapped under the new one,
   * the bucket is registered on the new key, the record committed, and only then
   * unregistered from the old key. Cached DEKs under the old wrapping are dropped.
   */
  async setRootKey(
    name: string,
    account: string,
    rootKeyCrn: string | undefined,
    opts: { requestId?: string; argumentName?: string } = {},
  ): Promise<BucketRecord> {
    const argumentName = opts.argumentName ?? 'KMSMasterKeyID';
    return this.keyChanges.run(name, async () => {
      const b = await this.resolve(name, account);
      const caller: KeyCaller = { tenant: b.owner, requestId: opts.requestId };
      if (rootKeyCrn !== undefined) {
        try {
          this.d.validateKeyCrn(rootKeyCrn);
        } catch (e) {
          throw new DomainError('InvalidArgument', `Invalid ${argumentName}: ${(e as Error).message}`, {
            ArgumentName: argumentName,
          });
        }
      }
      const defaultCrn = await this.d.keys.defaultRootKeyCrn(caller);
      const crn = rootKeyCrn ?? defaultCrn;
      const customerManaged = crn !== defaultCrn;
      const old = b.encryption;
      if (crn === old.rootKeyCrn && customerManaged === old.customerManaged) return b;
      if (!this.d.keys.wrapDataKey)
        throw new DomainError('NotImplemented', 'This key provider cannot move a bucket to another root key.');
      const unwrapped = await this.d.keys.unwrap(caller, old.rootKeyCrn, old.wrappedDek, old.aad);
      const dek = unwrapped.plaintext;
      try {
        let next;
        try {
          next = await this.d.keys.wrapDataKey(caller, crn, dek, old.aad);
        } catch (e) {
          throw this.keyErrorAtCreate(e, crn, argumentName);
        }
        const resourceCrn = this.d.bucketCrn(b.owner, b.name);
        if (crn !== old.rootKeyCrn) {
          try {
            await this.d.keys.register(caller, crn, {
              resourceCrn,
              description: `Coffer bucket ${b.name}`,
              keyVersion: next.keyVersion,
              ...lockFlag(b),
            });
          } catch (e) {
            throw this.keyErrorAtCreate(e, crn, argumentName);
          }
        }
        const updated: BucketRecord = {
          ...b,
          encryption: {
            ...old,
            rootKeyCrn: crn,
            customerManaged,
            wrappedDek: next.wrapped,
            keyVersion: next.keyVersion,
          },
        };
        try {
          await this.d.meta.batch().putBucket(updated).commit();
        } catch (e) {
          if (crn !== old.rootKeyCrn) await this.d.keys.unregister(caller, crn, resourceCrn).catch(() => undefined);
          throw e;
        }
        // SSE-KMS objects under the old key keep the bucket's registration on it.
        if (crn !== old.rootKeyCrn && !b.objectKeyCrns?.includes(old.rootKeyCrn)) {
          await this.d.keys.unregister(caller, old.rootKeyCrn, resourceCrn).catch((e: unknown) => {
            this.d.log.warn('kms unregister from the previous root key failed', {
              bucket: b.name,
              err: (e as Error).message,
            });
          });
        }
        this.d.dekCache.invalidateKey(old.rootKeyCrn);
        this.d.dekCache.set(crn, next.wrapped, dek);
        return updated;
      } finally {
        dek.fill(0);
      }
    });
  }

  /**
   * The bucket's plaintext DEK: from the cache, else unwrapped by the KMS (which
   * enforces key state and authorization). If the KMS hands back a rewrapped
   * ciphertext (the root key was rotated), persist it: lazy rewrap.
   */
  async dek(b: BucketRecord, requestId?: string): Promise<Buffer> {
    const enc = b.encryption;
    return this.d.dekCache.getOrLoad(enc.rootKeyCrn, enc.wrappedDek, async () => {
      const res = await this.d.keys.unwrap({ tenant: b.owner, requestId }, enc.rootKeyCrn, enc.wrappedDek, enc.aad);
      if (res.rewrapped)
        await this.persistRewrap(b, res.rewrapped).catch((e: unknown) =>
          this.d.log.warn('persisting a rewrapped DEK failed; retried on next unwrap', {
            bucket: b.name,
            err: (e as Error).message,
          }),
        );
      return res.plaintext;
    });
  }

  /**
   * Eager rewrap after a rotation (key-protect.md 1.6, the adopter's duty on a
   * rotate event): every bucket whose record names `rootKeyCrn` gets its DEK
   * rewrapped server side under the newest key version (the DEK never leaves the
   * KMS), the new ciphertext committed, and its registration moved to that
   * version. A bucket already on the newest version is left alone. Each bucket
   * is handled under the same per-bucket lock as a root-key change, on a fresh
   * read, so a concurrent PutBucketEncryption or lazy rewrap is never undone.
   * One bucket's failure (e.g. its tenant lost the authorization) is logged and
   * does not stop the others; the lazy path in dek() still covers it later.
   */
  async rewrapAll(
    rootKeyCrn: string,
    requestId?: string,
  ): Promise<{ rewrapped: number; unchanged: number; failed: number }> {
    const out = { rewrapped: 0, unchanged: 0, failed: 0 };
    const targets = (await this.d.meta.listBuckets()).filter((b) => b.encryption.rootKeyCrn === rootKeyCrn);
    for (const t of targets) {
      try {
        const done = await this.keyChanges.run(t.name, async () => {
          const b = await this.d.meta.getBucket(t.name);
          if (!b || b.uid !== t.uid || b.encryption.rootKeyCrn !== rootKeyCrn) return false;
          const caller: KeyCaller = { tenant: b.owner, requestId };
          const enc = b.encryption;
          const next = await this.d.keys.rewrap(caller, rootKeyCrn, enc.wrappedDek, enc.aad);
          if (next.keyVersion === enc.keyVersion) return false;
          // The lazy path may have committed a rewrap meanwhile (it takes no lock): keep the newest read.
          const fresh = await this.d.meta.getBucket(b.name);
          if (!fresh || fresh.uid !== b.uid || fresh.encryption.wrappedDek !== enc.wrappedDek) return false;
          fresh.encryption = { ...fresh.encryption, wrappedDek: next.wrapped, keyVersion: next.keyVersion };
          await this.d.meta.batch().putBucket(fresh).commit();
          const resourceCrn = this.d.bucketCrn(b.owner, b.name);
          await this.d.keys
            .register(caller, rootKeyCrn, {
              resourceCrn,
              description: `Coffer bucket ${b.name}`,
              keyVersion: next.keyVersion,
              ...lockFlag(fresh),
            })
            .catch((e: unknown) => {
              this.d.log.warn('kms registration update after rewrap failed', {
                bucket: b.name,
                err: (e as Error).message,
              });
            });
          return true;
        });
        if (done) out.rewrapped++;
        else out.unchanged++;
      } catch (e) {
        out.failed++;
        this.d.log.warn('eager rewrap failed; the next unwrap rewraps lazily', {
          bucket: t.name,
          err: (e as Error).message,
        });
      }
    }
    return out;
  }

  /** Lazy rewrap after a rotation: store the ciphertext under the newest key version. */
  private async persistRewrap(b: BucketRecord, rewrapped: { wrapped: string; keyVersion: string }): Promise<void> {
    // Under the bucket's lock, like every other bucket-record change (a versioning change must not be lost).
    await this.keyChanges.run(b.name, async () => {
      const fresh = await this.d.meta.getBucket(b.name);
      if (!fresh || fresh.uid !== b.uid || fresh.encryption.wrappedDek !== b.encryption.wrappedDek) return;
      fresh.encryption = { ...fresh.encryption, wrappedDek: rewrapped.wrapped, keyVersion: rewrapped.keyVersion };
      await this.d.meta.batch().putBucket(fresh).commit();
    });
  }
}
