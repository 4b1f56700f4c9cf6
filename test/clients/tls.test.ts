/**
 * The S3 clients over HTTPS: one Coffer with COFFER_TLS_CERT / COFFER_TLS_KEY
 * from a local CA (the code of `coffer tls init`), and each client told to
 * trust that CA its own way - the AWS CLI with --ca-bundle (and once through
 * AWS_CA_BUNDLE, set explicitly: the child environment never inherits it),
 * s3cmd with --ca-certs, rclone with --ca-cert, the AWS SDK with an agent. Each
 * uploads a multipart-sized file and gets it back byte for byte, and each
 * refuses the server when it is not told about the CA (so the CA is what made
 * the difference, not a client that skips verification).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/startGateway.js';
import { makeTlsFiles, type TlsFiles } from '../helpers/tlsFiles.js';
import { childEnv, describeRun, requireProgram, run } from './helpers/programs.js';
import { md5File, removeDir, tempDir, writeSeededFile } from './helpers/trees.js';

const MiB = 1024 * 1024;
/** What each client says when the server's certificate does not verify. */
const UNTRUSTED =
  /certificate verify failed|CERTIFICATE_VERIFY_FAILED|x509: certificate signed by unknown authority|unable to get local issuer|SSL validation failed/i;

let gw: TestGateway;
let tls: TlsFiles;
let work: string;
let home: string;
let big: string;
let bigMd5: string;

beforeAll(async () => {
  tls = await makeTlsFiles();
  gw = await startTestGateway({ config: { tlsCert: tls.paths.cert, tlsKey: tls.paths.key } });
  work = await tempDir('tls');
  home = join(work, 'home');
  await mkdir(home, { recursive: true });
  big = join(work, 'big.bin');
  bigMd5 = await writeSeededFile(big, 20 * MiB, 'tls-clients-20MiB');
});

afterAll(async () => {
  await gw?.close();
  await tls?.remove();
  await removeDir(work);
});

it('the gateway speaks HTTPS', () => {
  expect(gw.s3Url).toMatch(/^https:\/\/127\.0\.0\.1:/);
});

describe('AWS CLI over TLS', () => {
  const bin = () => requireProgram('aws', '/usr/bin/aws');
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    const dir = join(home, '.aws');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config'), `[default]\nregion = ${gw.region}\ns3 =\n    addressing_style = path\n`);
    await writeFile(
      join(dir, 'credentials'),
      `[default]\naws_access_key_id = ${gw.accessKeyId}\naws_secret_access_key = ${gw.secretAccessKey}\n`,
    );
    env = childEnv(home, {
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_PAGER: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
  const aws = (extra: NodeJS.ProcessEnv, ...args: string[]) =>
    run(bin(), ['--endpoint-url', gw.s3Url, ...args], { env: { ...env, ...extra }, cwd: work });

  it('with --ca-bundle: mb, multipart cp up and back, identical', async () => {
    const ok = async (...args: string[]) => {
      const r = await aws({}, '--ca-bundle', tls.paths.ca, ...args);
      expect(r.code, describeRun(r)).toBe(0);
      return r;
    };
    await ok('s3', 'mb', 's3://tls-aws');
    await ok('s3', 'cp', big, 's3://tls-aws/big.bin', '--only-show-errors');
    const head = JSON.parse((await ok('s3api', 'head-object', '--bucket', 'tls-aws', '--key', 'big.bin')).stdout);
    expect(head.ETag).toMatch(/-3"$/); // 8 MiB parts: the upload went multipart
    const back = join(work, 'aws-back.bin');
    await ok('s3', 'cp', 's3://tls-aws/big.bin', back, '--only-show-errors');
    expect(await md5File(back)).toBe(bigMd5);
  });

  it('with AWS_CA_BUNDLE set for the child, and refused with neither', async () => {
    const viaEnv = await aws({ AWS_CA_BUNDLE: tls.paths.ca }, 's3', 'ls', 's3://tls-aws');
    expect(viaEnv.code, describeRun(viaEnv)).toBe(0);
    expect(viaEnv.stdout).toContain('big.bin');
    const refused = await aws({}, 's3', 'ls', 's3://tls-aws');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(UNTRUSTED);
  });
});

describe('s3cmd over TLS', () => {
  const bin = () => requireProgram('s3cmd');
  let cfg: string;
  beforeAll(async () => {
    const host = new URL(gw.s3Url).host;
    cfg = join(home, '.s3cfg');
    await writeFile(
      cfg,
      [
        '[default]',
        `access_key = ${gw.accessKeyId}`,
        `secret_key = ${gw.secretAccessKey}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = True',
        'check_ssl_certificate = True',
        'check_ssl_hostname = True',
        '',
      ].join('\n'),
    );
  });
  const s3cmd = (...args: string[]) =>
    run(bin(), ['-c', cfg, '--no-progress', ...args], { env: childEnv(home), cwd: work });

  it('with --ca-certs: mb, multipart put and get, identical', async () => {
    const ok = async (...args: string[]) => {
      const r = await s3cmd(`--ca-certs=${tls.paths.ca}`, ...args);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.output).not.toMatch(/WARNING|ERROR|Retrying/);
      return r;
    };
    await ok('mb', 's3://tls-s3cmd');
    await ok('put', '--multipart-chunk-size-mb=5', big, 's3://tls-s3cmd/big.bin');
    const back = join(work, 's3cmd-back.bin');
    await ok('get', 's3://tls-s3cmd/big.bin', back);
    expect(await md5File(back)).toBe(bigMd5);
  });

  it('refuses the server without the CA', async () => {
    const r = await s3cmd('ls', 's3://tls-s3cmd');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(UNTRUSTED);
  });
});

describe('rclone over TLS', () => {
  const bin = () => requireProgram('rclone');
  let conf: string;
  beforeAll(async () => {
    conf = join(home, 'rclone.conf');
    await writeFile(
      conf,
      [
        '[coffer]',
        'type = s3',
        'provider = Other',
        `access_key_id = ${gw.accessKeyId}`,
        `secret_access_key = ${gw.secretAccessKey}`,
        `endpoint = ${gw.s3Url}`,
        `region = ${gw.region}`,
        '',
      ].join('\n'),
    );
  });
  const rclone = (...args: string[]) =>
    run(bin(), ['--config', conf, '--retries', '1', '--low-level-retries', '1', ...args], {
      env: childEnv(home, { RCLONE_CONFIG: conf }),
      cwd: work,
    });

  it('with --ca-cert: mkdir, multipart copy up and back, identical', async () => {
    const ok = async (...args: string[]) => {
      const r = await rclone('--ca-cert', tls.paths.ca, ...args);
      expect(r.code, describeRun(r)).toBe(0);
      return r;
    };
    await ok('mkdir', 'coffer:tls-rclone');
    await ok('copyto', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', big, 'coffer:tls-rclone/big.bin');
    const back = join(work, 'rclone-back.bin');
    await ok('copyto', 'coffer:tls-rclone/big.bin', back);
    expect(await md5File(back)).toBe(bigMd5);
  });

  it('refuses the server without the CA', async () => {
    const r = await rclone('lsf', 'coffer:tls-rclone');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(UNTRUSTED);
  });
});

describe('AWS SDK v3 over TLS', () => {
  it('trusting the CA through its request handler agent: put and get', async () => {
    const s3 = new S3Client({
      endpoint: gw.s3Url,
      region: gw.region,
      forcePathStyle: true,
      credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey },
      maxAttempts: 1,
      requestHandler: { httpsAgent: tls.agent() },
    });
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'tls-aws', Key: 'sdk.txt', Body: 'sdk over tls' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'tls-aws', Key: 'sdk.txt' }));
      expect(await got.Body!.transformToString()).toBe('sdk over tls');
    } finally {
      s3.destroy();
    }
  });
});
