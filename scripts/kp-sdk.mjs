#!/usr/bin/env node
/**
 * Installs the Key Protect SDK harness (test/kp-sdk) with `npm ci`, unless its
 * node_modules already matches its lockfile: `npm ci` deletes and reinstalls
 * node_modules every time, which made every `npm test` pay for a reinstall.
 * After a successful install the SHA-256 of package.json + package-lock.json is
 * stored in node_modules/.coffer-lock-hash; a later run with the same hash and
 * the SDK present does nothing. `--force` reinstalls anyway.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'kp-sdk');
const modules = join(dir, 'node_modules');
const stamp = join(modules, '.coffer-lock-hash');

const hash = createHash('sha256');
for (const f of ['package.json', 'package-lock.json']) hash.update(readFileSync(join(dir, f)));
const want = hash.digest('hex');

const installed = existsSync(join(modules, '@ibm-cloud', 'ibm-key-protect', 'package.json'));
const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
if (installed && have === want && !process.argv.includes('--force')) process.exit(0);

// npm sets npm_execpath when it runs this script; `npm` from PATH otherwise.
const npmCli = process.env.npm_execpath;
const [cmd, args] = npmCli ? [process.execPath, [npmCli]] : ['npm', []];
const r = spawnSync(cmd, [...args, 'ci', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error'], {
  stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(stamp, want + '\n');
