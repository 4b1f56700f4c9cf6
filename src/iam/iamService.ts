/**
 * IamService: accounts, users and service identities, API keys, the API-key ->
 * bearer-token exchange (POST /identity/token), token verification, and S3
 * access keys. Access policies and service-to-service authorizations are in
 * accessControl.ts. Knows nothing of HTTP.
 *
 * API keys are shown once (at creation) and stored only as an HMAC
 * (secrets.ts). The exchange looks the HMAC up and compares it in constant time.
 */
import { IamError, invalidInput, notFound } from './errors.js';
import type { IamStore, WriteOp } from './iamStore.js';
import { openBlob, sealBlob } from '../crypto/index.js';
import type { AccountRecord, ApiKeyRecord, IdentityKind, IdentityRecord, S3AccessKeyRecord } from './records.js';
import {
  constantTimeEqual,
  hashApiKey,
  newAccessKeyId,
  newApiKey,
  newId,
  newSecretAccessKey,
  type IamSecrets,
} from './secrets.js';
import { ACCESS_TOKEN_TTL_S, issueToken, REFRESH_TOKEN_TTL_S, verifyToken } from './tokens.js';
import type { Caller } from '../identity/caller.js';
import { TokenError } from '../identity/tokenError.js';

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Epoch seconds. */
  expiration: number;
  scope: string;
}

const NAME = /^[\p{L}\p{N} ._@-]{1,64}$/u;
const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,128}$/;

function validName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw invalidInput(`${what} must be 1 to 64 letters, digits, spaces or . _ @ -`);
  return name;
}

export function s3SecretAad(accessKeyId: string): Buffer {
  return Buffer.from(`coffer/v1/iam/s3-secret/${accessKeyId}`, 'utf8');
}

export class IamService {
  constructor(
    readonly store: IamStore,
    private readonly secrets: IamSecrets,
    private readonly now: () => number = Date.now,
  ) {}

  private nowS(): number {
    return Math.floor(this.now() / 1000);
  }

  // ---- accounts and identities ---------------------------------------------

  /** A new account and its owner user. */
  async createAccount(input: {
    name: string;
    id?: string;
    system?: boolean;
  }): Promise<{ account: AccountRecord; owner: IdentityRecord }> {
    const id = input.id ?? newId('acct').slice(5);
    if (!ACCOUNT_ID.test(id)) throw invalidInput('an account id must be 1 to 128 letters, digits, . _ or -');
    if (this.store.get('acct', id)) throw new IamError(409, 'CONFLICT', `account ${id} already exists`);
    const now = this.now();
    const account: AccountRecord = { id, name: validName(input.name, 'an account name'), createdAt: now };
    if (input.system) account.system = true;
    const owner: IdentityRecord = {
      id: newId('user'),
      kind: 'user',
      accountId: id,
      name: 'owner',
      createdAt: now,
      owner: true,
    };
    await this.store.write([
      { type: 'put', table: 'acct', id, value: account },
      { type: 'put', table: 'ident', id: owner.id, value: owner },
    ]);
    return { account, owner };
  }

  getAccount(id: string): AccountRecord | undefined {
    return this.store.get('acct', id);
  }

  listAccounts(): AccountRecord[] {
    return this.store.all('acct');
  }

  /**
   * Deletes an account with everything IAM holds for it: its identities (the
   * owner too) with their API keys and access policies, and its S3 access
   * keys, in one write; tokens of its identities stop working with them. Never
   * the root account. What the account holds elsewhere (buckets, keys) is for
   * the caller to check first; authorizations go through AccessControl.
   */
  async deleteAccount(id: string): Promise<void> {
    const account = this.store.get('acct', id);
    if (!account) throw notFound(`Account ${id}`);
    if (account.system) throw new IamError(409, 'CONFLICT', 'the root account cannot be deleted');
    const idents = new Set(this.listIdentities(id).map((i) => i.id));
    const ops: WriteOp[] = [{ type: 'del', table: 'acct', id }];
    for (const i of idents) ops.push({ type: 'del', table: 'ident', id: i });
    for (const k of this.store.all('apikey'))
      if (idents.has(k.identityId)) ops.push({ type: 'del', table: 'apikey', id: k.id });
    for (const p of this.store.all('policy'))
      if (idents.has(p.subjectId)) ops.push({ type: 'del', table: 'policy', id: p.id });
    for (const k of this.store.all('s3key'))
      if (k.accountId === id) ops.push({ type: 'del', table: 's3key', id: k.accessKeyId });
    await this.store.write(ops);
  }

  async createIdentity(input: {
    accountId: string;
    kind: IdentityKind;
    name: string;
    gateway?: boolean;
  }): Promise<IdentityRecord> {
    if (!this.store.get('acct', input.accountId)) throw notFound(`Account ${input.accountId}`);
    if (input.kind !== 'user' && input.kind !== 'service') throw invalidInput("kind must be 'user' or 'service'");
    const rec: IdentityRecord = {
      id: newId(input.kind === 'user' ? 'user' : 'svc'),
      kind: input.kind,
      accountId: input.accountId,
      name: validName(input.name, 'a name'),
      createdAt: this.now(),
    };
    if (input.gateway) {
      if (input.kind !== 'service') throw invalidInput('only a service identity can act as a gateway');
      rec.gateway = true;
    }
    await this.store.write([{ type: 'put', table: 'ident', id: rec.id, value: rec }]);
    return rec;
  }

  getIdentity(id: string): IdentityRecord | undefined {
    return this.store.get('ident', id);
  }

  listIdentities(accountId?: string): IdentityRecord[] {
    return this.store.all('ident').filter((i) => accountId === undefined || i.accountId === accountId);
  }

  /** Deletes the identity with its API keys, policies and S3 access keys. */
  async deleteIdentity(id: string): Promise<void> {
    const ident = this.store.get('ident', id);
    if (!ident) throw notFound(`Identity ${id}`);
    if (ident.owner) throw new IamError(409, 'CONFLICT', 'the owner of an account cannot be deleted');
    const ops: WriteOp[] = [{ type: 'del', table: 'ident', id }];
    for (const k of this.store.all('apikey'))
      if (k.identityId === id) ops.push({ type: 'del', table: 'apikey', id: k.id });
    for (const p of this.store.all('policy'))
      if (p.subjectId === id) ops.push({ type: 'del', table: 'policy', id: p.id });
    for (const k of this.store.all('s3key'))
      if (k.identityId === id) ops.push({ type: 'del', table: 's3key', id: k.accessKeyId });
    await this.store.write(ops);
  }

  // ---- API keys ------------------------------------------------------------

  /** A new API key for the identity. The key is returned here and never again. */
  async createApiKey(
    identityId: string,
    name = 'apikey',
    apiKey: string = newApiKey(),
  ): Promise<{ record: ApiKeyRecord; apiKey: string }> {
    if (!this.store.get('ident', identityId)) throw notFound(`Identity ${identityId}`);
    const hash = hashApiKey(this.secrets, apiKey);
    if (this.store.apiKeyIdByHash(hash) !== undefined)
      throw new IamError(409, 'CONFLICT', 'this API key is already registered');
    const record: ApiKeyRecord = {
      id: newId('apikey'),
      identityId,
      name: validName(name, 'an API key name'),
      createdAt: this.now(),
      hash,
    };
    await this.store.write([{ type: 'put', table: 'apikey', id: record.id, value: record }]);
    return { record, apiKey };
  }

  listApiKeys(identityId?: string): Array<Omit<ApiKeyRecord, 'hash'>> {
    return this.store
      .all('apikey')
      .filter((k) => identityId === undefined || k.identityId === identityId)
      .map(({ hash: _h, ...rest }) => rest);
  }

  getApiKey(id: string): ApiKeyRecord | undefined {
    return this.store.get('apikey', id);
  }

  async deleteApiKey(id: string): Promise<void> {
    if (!this.store.get('apikey', id)) throw notFound(`API key ${id}`);
    await this.store.write([{ type: 'del', table: 'apikey', id }]);
  }

  /** The API key record an API key string belongs to, or undefined. */
  findApiKey(apiKey: string): ApiKeyRecord | undefined {
    if (typeof apiKey !== 'string' || apiKey.length === 0 || apiKey.length > 512) return undefined;
    const hash = hashApiKey(this.secrets, apiKey);
    const id = this.store.apiKeyIdByHash(hash);
    const rec = id === undefined ? undefined : this.store.get('apikey', id);
    // The index lookup already matched; the constant-time compare is the rule for every secret check.
    return rec && constantTimeEqual(rec.hash, hash) ? rec : undefined;
  }

  /** After a miss by API key: on a shared store, reload the mirror (another process may have just created it). */
  async catchUpApiKeys(): Promise<void> {
    await this.store.refreshAll();
  }

  /** After a miss by access key id: on a shared store, read its rows through. */
  async catchUpS3AccessKey(accessKeyId: string): Promise<void> {
    if (!(await this.store.refresh('s3key', accessKeyId))) return;
    const rec = this.store.get('s3key', accessKeyId);
    if (rec && !this.store.get('ident', rec.identityId)) await this.store.refresh('ident', rec.identityId);
  }

  // ---- tokens --------------------------------------------------------------

  /** grant_type=urn:ibm:params:oauth:grant-type:apikey */
  exchangeApiKey(apiKey: string): TokenResponse {
    const rec = this.findApiKey(apiKey);
    const ident = rec ? this.store.get('ident', rec.identityId) : undefined;
    if (!rec || !ident) throw new IamError(400, 'BXNIM0415E', 'Provided API key could not be found.');
    return this.tokensFor(ident, rec.id);
  }

  /** grant_type=refresh_token */
  refresh(refreshToken: string): TokenResponse {
    const claims = this.verify(refreshToken, 'refresh');
    return this.tokensFor(claims.identity, claims.claims.akid);
  }

  private tokensFor(ident: IdentityRecord, akid: string): TokenResponse {
    const nowS = this.nowS();
    const base = { sub: ident.id, account: ident.accountId, kind: ident.kind, akid, nowS };
    const access = issueToken(this.secrets.tokenSigning, { ...base, typ: 'access', ttlS: ACCESS_TOKEN_TTL_S });
    const refresh = issueToken(this.secrets.tokenSigning, { ...base, typ: 'refresh', ttlS: REFRESH_TOKEN_TTL_S });
    return {
      access_token: access.token,
      refresh_token: refresh.token,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL_S,
      expiration: access.claims.exp,
      scope: 'ibm openid',
    };
  }

  /**
   * Verifies a bearer token on every call: signature, expiry, and that its
   * identity and API key still exist (deleting either revokes its tokens).
   * Throws TokenError.
   */
  verify(token: string, typ: 'access' | 'refresh' = 'access'): Caller {
    const claims = verifyToken(this.secrets.tokenSigning, token, typ, this.nowS());
    const identity = this.store.get('ident', claims.sub);
    if (!identity || identity.accountId !== claims.account || !this.store.get('apikey', claims.akid)) {
      throw new TokenError('invalid', 'the identity or API key of this token no longer exists');
    }
    return { identity, claims };
  }

  // ---- S3 access keys ------------------------------------------------------

  /** A new S3 access key for an account (its owner unless `identityId`); the secret is shown once. */
  async createS3AccessKey(
    accountId: string,
    identityId?: string,
  ): Promise<{ accessKeyId: string; secretAccessKey: string }> {
    if (!this.store.get('acct', accountId)) throw notFound(`Account ${accountId}`);
    const ident =
      identityId !== undefined
        ? this.store.get('ident', identityId)
        : this.listIdentities(accountId).find((i) => i.owner);
    if (!ident || ident.accountId !== accountId) throw notFound(`Identity ${identityId ?? '(owner)'}`);
    const accessKeyId = newAccessKeyId();
    const secretAccessKey = newSecretAccessKey();
    const rec: S3AccessKeyRecord = {
      accessKeyId,
      accountId,
      identityId: ident.id,
      sealedSecret: sealBlob(
        this.secrets.s3Seal,
        Buffer.from(secretAccessKey, 'utf8'),
        s3SecretAad(accessKeyId),
      ).toString('base64'),
      createdAt: this.now(),
    };
    await this.store.write([{ type: 'put', table: 's3key', id: accessKeyId, value: rec }]);
    return { accessKeyId, secretAccessKey };
  }

  listS3AccessKeys(accountId?: string): Array<Omit<S3AccessKeyRecord, 'sealedSecret'>> {
    return this.store
      .all('s3key')
      .filter((k) => accountId === undefined || k.accountId === accountId)
      .map(({ sealedSecret: _s, ...rest }) => rest);
  }

  async deleteS3AccessKey(accessKeyId: string): Promise<void> {
    if (!this.store.get('s3key', accessKeyId)) throw notFound(`Access key ${accessKeyId}`);
    await this.store.write([{ type: 'del', table: 's3key', id: accessKeyId }]);
  }

  /** For SigV4: the secret of an access key and the identity behind it. */
  openS3AccessKey(
    accessKeyId: string,
  ): { secretAccessKey: string; record: S3AccessKeyRecord; identity: IdentityRecord } | undefined {
    const rec = this.store.get('s3key', accessKeyId);
    const identity = rec ? this.store.get('ident', rec.identityId) : undefined;
    if (!rec || !identity) return undefined;
    const secret = openBlob(this.secrets.s3Seal, Buffer.from(rec.sealedSecret, 'base64'), s3SecretAad(accessKeyId));
    try {
      return { secretAccessKey: secret.toString('utf8'), record: rec, identity };
    } finally {
      secret.fill(0);
    }
  }
}
