/**
 * LevelDB persistence of the IAM layer, in its own directory (`<dataDir>/iam`).
 * One process owns the directory, so every sublevel is mirrored in memory at
 * open and written through: authorization checks on the data path (one per
 * wrap/unwrap a DEK-cache miss causes) never touch the disk.
 *
 * Layout (one sublevel each):
 *   meta    kcv -> hex | rootApiKey -> { apiKeyId, configured }
 *   acct    <account id>       -> AccountRecord
 *   ident   <identity id>      -> IdentityRecord
 *   apikey  <api key id>       -> ApiKeyRecord   (only the HMAC of the key)
 *   policy  <policy id>        -> AccessPolicyRecord
 *   authz   <authorization id> -> AuthorizationRecord
 *   s3key   <access key id>    -> S3AccessKeyRecord (secret sealed)
 */
import { Level } from 'level';
import type {
  AccessPolicyRecord,
  AccountRecord,
  ApiKeyRecord,
  AuthorizationRecord,
  IdentityRecord,
  S3AccessKeyRecord,
} from './records.js';

export interface IamMeta {
  /** Key check value of the derived secrets (hex): a different master key is refused at open. */
  kcv: string;
  rootApiKey: { apiKeyId: string; configured: boolean };
}

type Db = Level<string, unknown>;

interface Tables {
  acct: Map<string, AccountRecord>;
  ident: Map<string, IdentityRecord>;
  apikey: Map<string, ApiKeyRecord>;
  policy: Map<string, AccessPolicyRecord>;
  authz: Map<string, AuthorizationRecord>;
  s3key: Map<string, S3AccessKeyRecord>;
}

export type TableName = keyof Tables;
type Row<T extends TableName> = Tables[T] extends Map<string, infer R> ? R : never;

const TABLES: readonly TableName[] = ['acct', 'ident', 'apikey', 'policy', 'authz', 's3key'];

export class IamStore {
  private readonly t: Tables = {
    acct: new Map(),
    ident: new Map(),
    apikey: new Map(),
    policy: new Map(),
    authz: new Map(),
    s3key: new Map(),
  };
  /** API key HMAC -> api key id. */
  private readonly byHash = new Map<string, string>();
  private closed = false;

  private constructor(private readonly db: Db) {}

  static async open(dir: string): Promise<IamStore> {
    const db: Db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
    await db.open();
    const store = new IamStore(db);
    try {
      for (const name of TABLES) {
        const map = store.t[name] as Map<string, unknown>;
        for await (const [k, v] of store.sub(name).iterator()) map.set(k, v);
      }
      for (const k of store.t.apikey.values()) store.byHash.set(k.hash, k.id);
    } catch (e) {
      await db.close();
      throw e;
    }
    return store;
  }

  private sub(name: TableName | 'meta') {
    return this.db.sublevel<string, unknown>(name, { valueEncoding: 'json' });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  get<T extends TableName>(table: T, id: string): Row<T> | undefined {
    return (this.t[table] as Map<string, Row<T>>).get(id);
  }

  all<T extends TableName>(table: T): Row<T>[] {
    return [...(this.t[table] as Map<string, Row<T>>).values()];
  }

  apiKeyIdByHash(hash: string): string | undefined {
    return this.byHash.get(hash);
  }

  async getMeta<K extends keyof IamMeta>(name: K): Promise<IamMeta[K] | undefined> {
    return (await this.sub('meta').get(name)) as IamMeta[K] | undefined;
  }

  async putMeta<K extends keyof IamMeta>(name: K, value: IamMeta[K]): Promise<void> {
    await this.sub('meta').put(name, value);
  }

  /** Puts and deletes across tables in one atomic, synced LevelDB batch; memory follows on success. */
  async write(ops: ReadonlyArray<WriteOp>): Promise<void> {
    const chain = this.db.batch();
    for (const op of ops) {
      if (op.type === 'put') chain.put(op.id, op.value, { sublevel: this.sub(op.table) });
      else chain.del(op.id, { sublevel: this.sub(op.table) });
    }
    await chain.write({ sync: true });
    for (const op of ops) {
      const map = this.t[op.table] as Map<string, unknown>;
      if (op.table === 'apikey') {
        const prev = this.t.apikey.get(op.id);
        if (prev) this.byHash.delete(prev.hash);
      }
      if (op.type === 'put') {
        map.set(op.id, op.value);
        if (op.table === 'apikey') this.byHash.set((op.value as ApiKeyRecord).hash, op.id);
      } else {
        map.delete(op.id);
      }
    }
  }
}

export type WriteOp =
  | { type: 'put'; table: 'acct'; id: string; value: AccountRecord }
  | { type: 'put'; table: 'ident'; id: string; value: IdentityRecord }
  | { type: 'put'; table: 'apikey'; id: string; value: ApiKeyRecord }
  | { type: 'put'; table: 'policy'; id: string; value: AccessPolicyRecord }
  | { type: 'put'; table: 'authz'; id: string; value: AuthorizationRecord }
  | { type: 'put'; table: 's3key'; id: string; value: S3AccessKeyRecord }
  | { type: 'del'; table: TableName; id: string };
