/**
 * The KMS listener wired exactly as the gateway wires it (createKmsApp over
 * KmsService, IAM, instance state, audit), but with a manual clock for the key
 * service, so lifecycle rules that take 30 s to 90 days can be crossed in a test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IamKeyAuthorizer } from '../../../src/iam/iamKeyAuthorizer.js';
import { openIam, type Iam } from '../../../src/iam/openIam.js';
import { InstanceStateStore } from '../../../src/kms/instanceState.js';
import { AuditLog, type AuditSink } from '../../../src/kms/audit.js';
import { KeyStore } from '../../../src/kms/keyStore.js';
import { KmsService } from '../../../src/kms/kmsService.js';
import { createKmsApp, listenKms } from '../../../src/server/kmsApp.js';
import { createLogger } from '../../../src/util/logger.js';

export interface ClockedKms {
  url: string;
  apikey: string;
  account: string;
  instanceId: string;
  iam: Iam;
  service: KmsService;
  auditPath: string;
  advance(ms: number): void;
  close(): Promise<void>;
}

/** `audit`: a sink in front of the file log (tests that hold or fail entries); it is called instead of the log. */
export async function startClockedKms(opts: { audit?: AuditSink } = {}): Promise<ClockedKms> {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-kms-clock-'));
  const master = randomBytes(32);
  let t = Date.now();
  const now = () => t;
  const store = await KeyStore.open(join(dir, 'kms'), master);
  const service = new KmsService({ store, now });
  const account = randomBytes(16).toString('hex');
  const apikey = `clocked-root-${randomBytes(12).toString('hex')}`;
  const iam = await openIam({
    dir: join(dir, 'iam'),
    masterKey: master,
    rootAccountId: account,
    configuredRootApiKey: apikey,
  });
  const state = await InstanceStateStore.open(join(dir, 'kms-instance'));
  const auditPath = join(dir, 'kms-audit.log');
  const audit = await AuditLog.open(auditPath);
  const inst = await service.createInstance({ account, region: 'local' });
  const app = createKmsApp({
    service,
    iam,
    authorizer: new IamKeyAuthorizer(iam.access),
    state,
    audit: opts.audit ?? audit,
    log: createLogger('silent'),
    region: 'local',
    now,
  });
  const listener = await listenKms(app, '127.0.0.1', 0);
  return {
    url: listener.url,
    apikey,
    account,
    instanceId: inst.id,
    iam,
    service,
    auditPath,
    advance: (ms) => {
      t += ms;
    },
    async close() {
      await listener.close();
      await state.close();
      await iam.close();
      await audit.close();
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
