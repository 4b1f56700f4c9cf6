// ESLint flat config: recommended JS and typescript-eslint rules, a few relaxed
// where today's code uses a pattern on purpose, and the layer rules of
// eslint.layers.js (which modules may import which).
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import { layerZones, restrictedPackages } from './eslint.layers.js';

const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'setTimeout', 'clearTimeout', 'setImmediate'].map((g) => [
    g,
    'readonly',
  ]),
);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/kp-sdk/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: nodeGlobals },
    plugins: { 'import-x': importX },
    settings: {
      // Without these, import-x does not parse .ts modules and no-cycle sees no edges.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Imports name the emitted .js; the resolver maps them to the .ts sources.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring to drop a field, unused parameters of an interface).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      // Non-null assertions follow checks the compiler cannot see (a Map entry just set, a regex group that matched).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Streams need `read() {}` no-op callbacks.
      '@typescript-eslint/no-empty-function': 'off',
      // Validators match control characters on purpose (names and CRN segments must not contain them).
      'no-control-regex': 'off',
      // An empty `case` with a comment is a grouped label, not a fall-through.
      'no-fallthrough': ['error', { allowEmptyCase: true }],
      // A `let` read by a closure before its one late assignment (late binding) is not a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Import cycles (type-only imports do not count: they vanish at run time).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
    },
  },
  ...restrictedPackages,
  {
    // Tests may poke at internals and build fakes with `as unknown as`.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
