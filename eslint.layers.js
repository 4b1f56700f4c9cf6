// The layer rules of src/, for the module layout of architecture.md: which
// folder may import which. import-x/no-restricted-paths resolves each import to
// its file, so the rules hold whatever the relative path looks like.
// test/unit/lint/layers.test.ts checks that they catch what they are meant to.

/**
 * Floors, bottom to top. A module may import its own floor and the floors
 * below it, never one above. (Type-only imports count too: a type from above
 * is a dependency on above.)
 */
export const floors = [
  { name: 'util', dirs: ['src/util/**', 'src/@(config).ts', 'src/config/**'] },
  { name: 'crypto', dirs: ['src/crypto/**'] },
  { name: 'keys, identity', dirs: ['src/keys/**', 'src/identity/**'] },
  { name: 'storage, meta, auth', dirs: ['src/storage/**', 'src/meta/**', 'src/auth/**'] },
  { name: 'kms core, iam core', dirs: ['src/kms/*.ts', 'src/iam/*.ts'] },
  { name: 'services', dirs: ['src/services/**'] },
  { name: 'restApi', dirs: ['src/restApi/**'] },
  { name: 's3, kms/api, iam/api', dirs: ['src/s3/**', 'src/kms/api/**', 'src/iam/api/**'] },
  { name: 'server, k8s', dirs: ['src/server/**', 'src/k8s/**'] },
  { name: 'cli', dirs: ['src/cli/**', 'src/@(main).ts'] },
];

const floorZones = floors.slice(0, -1).map((floor, i) => ({
  target: floor.dirs,
  from: floors.slice(i + 1).flatMap((f) => f.dirs),
  message: `[floors] ${floor.name} may not import a higher floor (${floors
    .slice(i + 1)
    .map((f) => f.name)
    .join(' < ')}).`,
}));

/** The modules of src/services that other folders may import: the service classes, their errors and types. */
const SERVICE_API = [
  './bucketService.ts',
  './objectService.ts',
  './multipartService.ts',
  './listService.ts',
  './copyService.ts',
  './accessControl.ts',
  './errors.ts',
  './types.ts',
  // Which lifecycle rule applies (pure): x-amz-expiration in responses.
  './lifecycleRules.ts',
];

const serviceInternals = (target, except, who) => ({
  target,
  from: 'src/services',
  except,
  message: `[services-api] ${who} may import only ${except.map((e) => e.slice(2, -3)).join(', ')} from src/services, not its internals.`,
});

export const layerZones = [
  ...floorZones,
  {
    target: 'src/s3/**',
    from: ['src/meta/**', 'src/storage/**'],
    message: '[s3-no-stores] src/s3 reaches metadata and blobs only through src/services.',
  },
  {
    target: 'src/storage/**',
    from: ['src/crypto/**'],
    message: '[storage-no-crypto] src/storage stores opaque bytes and must not depend on src/crypto.',
  },
  {
    target: 'src/kms/api/**',
    from: ['src/iam/api/**'],
    message: '[api-siblings] src/kms/api and src/iam/api share code through src/restApi, not each other.',
  },
  {
    target: 'src/iam/api/**',
    from: ['src/kms/api/**'],
    message: '[api-siblings] src/kms/api and src/iam/api share code through src/restApi, not each other.',
  },
  serviceInternals(
    ['src/restApi/**', 'src/s3/**', 'src/kms/api/**', 'src/iam/api/**', 'src/cli/**', 'src/@(main).ts'],
    SERVICE_API,
    'This module',
  ),
  // The composition root also runs the start-up garbage sweep and the lifecycle worker.
  serviceInternals(
    ['src/server/**'],
    [...SERVICE_API, './garbageSweep.ts', './sharedGarbage.ts', './lifecycleWorker.ts'],
    'src/server',
  ),
];

/** Packages the pure layers must not use: HTTP framework and database stay in the outer layers. */
const BANNED = ['koa', '@koa/router', 'level', 'classic-level'];

export const restrictedPackages = [
  {
    files: ['src/crypto/**/*.ts', 'src/auth/**/*.ts', 'src/storage/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: BANNED.flatMap((p) => [p, `${p}/*`]),
              message: '[pure-layers] src/crypto, src/auth and src/storage must not use koa, @koa/router or LevelDB.',
            },
          ],
        },
      ],
    },
  },
];
