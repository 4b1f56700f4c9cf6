/** The S3 ACL code's AccountDirectory over IAM's accounts (in process: the embedded gateway). */
import type { AccountDirectory, AccountInfo } from '../services/accessControl.js';
import type { IamService } from '../iam/iamService.js';

export class IamAccountDirectory implements AccountDirectory {
  constructor(private readonly iam: Pick<IamService, 'getAccount'>) {}

  async account(id: string): Promise<AccountInfo | undefined> {
    const a = this.iam.getAccount(id);
    return a ? { id: a.id, displayName: a.name } : undefined;
  }
}
