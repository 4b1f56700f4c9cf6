/**
 * The layer rules of eslint.layers.js, checked through ESLint's Node API with
 * the project's own config: each case lints a one-line module at a path in
 * src/ and says whether its import is allowed. Imported modules must exist (a
 * path that does not resolve is not checked by import-x), so every case first
 * asserts that its target file is there: a move that invalidates a case fails
 * here instead of silently passing.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

/** The messages ESLint reports for a module at `filePath` that re-exports `specifier`. */
async function lintImport(filePath: string, specifier: string): Promise<string[]> {
  if (specifier.startsWith('.')) {
    const target = join(ROOT, dirname(filePath), specifier).replace(/\.js$/, '.ts');
    expect(existsSync(target), `${specifier} from ${filePath} should exist`).toBe(true);
  }
  const [result] = await eslint.lintText(`export * from '${specifier}';\n`, { filePath: join(ROOT, filePath) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

type Case = [from: string, specifier: string, rule: string];

describe('layer rules', () => {
  const bad: Case[] = [
    // src/s3 reaches the stores only through the services.
    ['src/s3/handlers/x.ts', '../../storage/BlobStore.js', '[s3-no-stores]'],
    ['src/s3/x.ts', '../meta/MetaStore.js', '[s3-no-stores]'],
    ['src/s3/handlers/x.ts', '../../meta/records.js', '[s3-no-stores]'],
    // Storage holds opaque bytes.
    ['src/storage/x.ts', '../crypto/index.js', '[storage-no-crypto]'],
    // The two REST APIs share code through src/restApi only.
    ['src/kms/api/x.ts', '../../iam/api/iamRoutes.js', '[api-siblings]'],
    ['src/iam/api/x.ts', '../../kms/api/routes.js', '[api-siblings]'],
    ['src/kms/api/handlers/x.ts', '../../../iam/api/tokenRoute.js', '[api-siblings]'],
    // Service internals are not for other folders.
    ['src/s3/handlers/x.ts', '../../services/streamIO.js', '[services-api]'],
    ['src/s3/x.ts', '../services/uploadHasher.js', '[services-api]'],
    ['src/server/x.ts', '../services/sealedMeta.js', '[services-api]'],
    ['src/cli/x.ts', '../services/blobLeases.js', '[services-api]'],
    // Floors: nothing imports upwards.
    ['src/util/x.ts', '../crypto/index.js', '[floors] util'],
    ['src/config.ts', './server/gateway.js', '[floors] util'],
    ['src/crypto/x.ts', '../meta/records.js', '[floors] crypto'],
    ['src/keys/x.ts', '../services/objectService.js', '[floors] keys, identity'],
    ['src/identity/x.ts', '../iam/iamService.js', '[floors] keys, identity'],
    ['src/meta/x.ts', '../services/objectService.js', '[floors] storage, meta, auth'],
    ['src/auth/sigv4/x.ts', '../../kms/kmsService.js', '[floors] storage, meta, auth'],
    ['src/kms/x.ts', './api/routes.js', '[floors] kms core, iam core'],
    ['src/iam/x.ts', '../services/bucketService.js', '[floors] kms core, iam core'],
    ['src/services/x.ts', '../s3/errors.js', '[floors] services'],
    ['src/restApi/x.ts', '../kms/api/routes.js', '[floors] restApi'],
    ['src/s3/x.ts', '../server/gateway.js', '[floors] s3, kms/api, iam/api'],
    ['src/kms/api/x.ts', '../../server/kmsApp.js', '[floors] s3, kms/api, iam/api'],
    ['src/server/x.ts', '../cli/args.js', '[floors] server'],
  ];
  it.each(bad)('%s may not import %s (%s)', async (from, specifier, rule) => {
    const messages = await lintImport(from, specifier);
    expect(
      messages.some((m) => m.startsWith('import-x/no-restricted-paths') && m.includes(rule)),
      messages.join('\n'),
    ).toBe(true);
  });

  const good: Array<[from: string, specifier: string]> = [
    ['src/s3/handlers/x.ts', '../../services/objectService.js'],
    ['src/s3/x.ts', '../services/errors.js'],
    ['src/s3/x.ts', '../util/logger.js'],
    ['src/services/x.ts', '../meta/MetaStore.js'],
    ['src/services/x.ts', '../storage/BlobStore.js'],
    ['src/services/x.ts', '../crypto/index.js'],
    ['src/services/x.ts', './streamIO.js'],
    ['src/storage/x.ts', '../util/privateDir.js'],
    ['src/meta/x.ts', './keyCodec.js'],
    ['src/kms/x.ts', '../crypto/index.js'],
    ['src/kms/api/x.ts', '../kmsService.js'],
    ['src/iam/api/x.ts', '../iamService.js'],
    ['src/server/x.ts', '../services/garbageSweep.js'],
    ['src/server/x.ts', '../s3/errors.js'],
    ['src/cli/x.ts', '../server/gateway.js'],
    ['src/main.ts', './cli/args.js'],
    ['src/crypto/x.ts', 'node:crypto'],
  ];
  it.each(good)('%s may import %s', async (from, specifier) => {
    expect(await lintImport(from, specifier)).toEqual([]);
  });
});

describe('packages the pure layers must not use', () => {
  const banned: Array<[from: string, pkg: string]> = [
    ['src/crypto/x.ts', 'koa'],
    ['src/auth/sigv4/x.ts', '@koa/router'],
    ['src/storage/x.ts', 'level'],
    ['src/storage/x.ts', 'classic-level'],
    ['src/crypto/x.ts', 'koa/lib/application.js'],
  ];
  it.each(banned)('%s may not import %s', async (from, pkg) => {
    const messages = await lintImport(from, pkg);
    expect(
      messages.some((m) => m.startsWith('no-restricted-imports') && m.includes('[pure-layers]')),
      messages.join('\n'),
    ).toBe(true);
  });

  it.each([
    ['src/s3/x.ts', 'koa'],
    ['src/meta/x.ts', 'level'],
    ['src/server/x.ts', '@koa/router'],
  ])('%s may import %s', async (from, pkg) => {
    expect(await lintImport(from, pkg)).toEqual([]);
  });
});

describe('import cycles', () => {
  it('a module that imports a module importing it back is reported', async () => {
    // src/server/s3App.ts imports src/s3/router.ts; a router importing s3App would close a cycle.
    const [result] = await eslint.lintText(
      "import { createS3App } from '../server/s3App.js';\nexport const app = createS3App;\n",
      {
        filePath: join(ROOT, 'src/s3/router.ts'),
      },
    );
    expect(result.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
  });
});
