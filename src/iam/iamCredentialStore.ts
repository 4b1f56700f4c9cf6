/**
 * The S3 CredentialStore over IAM: the root credentials of rootIdentity.ts
 * first (so they keep working exactly as before), then the access keys of IAM
 * accounts. The principal's accountId is the IAM account: the tenant the
 * gateway acts for when it uses root keys.
 */
import type { CredentialStore, Principal } from '../auth/credentials.js';
import type { IamService } from './iamService.js';

export interface FixedCredential {
  accessKeyId: string;
  secretAccessKey: string;
  principal: Principal;
}

export class IamCredentialStore implements CredentialStore {
  private readonly fixed: Map<string, FixedCredential>;

  constructor(
    private readonly iam: IamService,
    fixed: FixedCredential[] = [],
  ) {
    this.fixed = new Map(fixed.map((f) => [f.accessKeyId, f]));
  }

  async lookup(accessKeyId: string): Promise<{ secretAccessKey: string; principal: Principal } | undefined> {
    const f = this.fixed.get(accessKeyId);
    if (f) return { secretAccessKey: f.secretAccessKey, principal: f.principal };
    let k = this.iam.openS3AccessKey(accessKeyId);
    if (!k) {
      // Created a moment ago by another process sharing the store? (A no-op on LevelDB.)
      await this.iam.catchUpS3AccessKey(accessKeyId);
      k = this.iam.openS3AccessKey(accessKeyId);
    }
    if (!k) return undefined;
    return {
      secretAccessKey: k.secretAccessKey,
      principal: { accountId: k.record.accountId, accessKeyId, displayName: k.identity.name },
    };
  }
}
