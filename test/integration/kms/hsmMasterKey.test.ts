/**
 * The KMS master key in a PKCS#11 token (SoftHSM2): a server started with
 * COFFER_PKCS11_* seals its root keys in the token, serves an object under a
 * customer root key, and reads it again after a restart; `coffer kms
 * master-key migrate` moves the stopped store to the file key and back, and
 * the object, the root S3 credentials and the IAM API key keep working on
 * each side. A store opened with the other kind of key is refused by name.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/run.js';
import type { Config } from '../../../src/config.js';
import { bucketName, withHeaders } from '../../helpers/s3Test.js';
import { createSoftToken, SKIP_REASON, softhsmModule, type SoftToken } from '../../helpers/softhsm.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { tokenFor } from './kmsHttp.js';

const module = softhsmModule();
if (!module) console.warn(SKIP_REASON);

describe.skipIf(!module)('KMS master key in a PKCS#11 token', () => {
  let token: SoftToken;
  let dataDir: string;
  const body = randomBytes(70_000);
  const bucket = bucketName('hsm');
  let crn: string;

  const pkcs11 = (): Partial<Config> => ({
    masterKey: '',
    pkcs11Module: token.module,
    pkcs11TokenLabel: token.tokenLabel,
    pkcs11Pin: token.pin,
  });
  const fileKey = (): Partial<Config> => ({ masterKey: '' });
  const start = (config: Partial<Config>) => startTestGateway({ dataDir, config });

  async function readBack(gw: TestGateway): Promise<void> {
    const got = await gw.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'o' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    // IAM secrets survived too: the root API key still gets a token.
    expect(await tokenFor(gw.kmsUrl, gw.rootApiKey)).toBeTruthy();
  }

  async function migrate(to: 'pkcs11' | 'file'): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const env = { ...token.env, COFFER_MASTER_KEY_FILE: `${dataDir}-master.key` };
    const code = await run(['kms', 'master-key', 'migrate', '--to', to, '--data-dir', dataDir], {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      env,
    });
    return { code, out, err };
  }

  beforeAll(async () => {
    token = await createSoftToken(module!);
    dataDir = await mkdtemp(join(tmpdir(), 'coffer-hsm-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(`${dataDir}-master.key`, { force: true });
    await token?.cleanup();
  });

  it('seals in the token: writes under a customer root key, restarts, reads back', async () => {
    const gw = await start(pkcs11());
    try {
      expect(gw.gateway.masterKeyFile).toBeUndefined();
      crn = await gw.createRootKey('hsm-key');
      await gw.client().send(
        withHeaders(new CreateBucketCommand({ Bucket: bucket }), {
          'ibm-sse-kp-encryption-algorithm': 'AES256',
          'ibm-sse-kp-customer-root-key-crn': crn,
        }),
      );
      await gw.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: body }));
      await readBack(gw);
    } finally {
      await gw.close({ keepData: true });
    }
    // No key file was made: the key is in the token.
    await expect(stat(`${dataDir}-master.key`)).rejects.toThrow(/ENOENT/);
    const again = await start(pkcs11());
    try {
      await readBack(again);
    } finally {
      await again.close({ keepData: true });
    }
  });

  it('refuses to open the token-sealed store with a file key, naming the migrate command', async () => {
    await expect(start(fileKey())).rejects.toThrow(/needs COFFER_PKCS11_MODULE/);
    const configured = { masterKey: randomBytes(32).toString('base64') };
    await expect(start(configured)).rejects.toThrow(/sealed under the PKCS#11 token key.*master-key migrate --to file/);
  });

  it('migrates to the file key and back, reading the object on each side', async () => {
    const toFile = await migrate('file');
    expect(toFile.err).toBe('');
    expect(toFile.code).toBe(0);
    expect(toFile.out).toMatch(/resealed [1-9]\d* root-key version/);
    expect(toFile.out).not.toContain(token.pin);
    expect((await stat(`${dataDir}-master.key`)).mode & 0o777).toBe(0o600);
    expect((await migrate('file')).out).toMatch(/already sealed by the file master key/);

    const onFile = await start(fileKey());
    try {
      await readBack(onFile);
    } finally {
      await onFile.close({ keepData: true });
    }
    await expect(start(pkcs11())).rejects.toThrow(/master-key migrate --to pkcs11/);

    const toToken = await migrate('pkcs11');
    expect(toToken.code).toBe(0);
    expect(toToken.out).toMatch(/under the PKCS#11 key/);
    const onToken = await start(pkcs11());
    try {
      await readBack(onToken);
    } finally {
      await onToken.close({ keepData: true });
    }
  });
});
