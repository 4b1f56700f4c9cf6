/** The master key in a PKCS#11 token. */
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Names } from './values.js';
import { ConfigError, int, str } from './values.js';

/** The PKCS#11 settings; {} without a module. The PIN is never part of an error message. */
export function pkcs11Of(raw: Record<string, unknown>, { name, env: envName }: Names): Partial<Config> {
  const module = str(raw.pkcs11Module, name('pkcs11Module'));
  if (!module) return {};
  const out: Partial<Config> = { pkcs11Module: resolve(module) };
  const tokenLabel = str(raw.pkcs11TokenLabel, name('pkcs11TokenLabel'));
  if (tokenLabel) out.pkcs11TokenLabel = tokenLabel;
  if (raw.pkcs11Slot !== undefined && raw.pkcs11Slot !== '')
    out.pkcs11Slot = int(raw.pkcs11Slot, name('pkcs11Slot'), 0, Number.MAX_SAFE_INTEGER);
  const keyLabel = str(raw.pkcs11KeyLabel, name('pkcs11KeyLabel'));
  if (keyLabel) out.pkcs11KeyLabel = keyLabel;
  const pin = str(raw.pkcs11Pin, name('pkcs11Pin'));
  if (pin) out.pkcs11Pin = pin;
  const pinFile = str(raw.pkcs11PinFile, name('pkcs11PinFile'));
  if (pinFile) out.pkcs11PinFile = resolve(pinFile);
  if (!pin && !pinFile)
    throw new ConfigError(
      envName('pkcs11Pin'),
      `or ${envName('pkcs11PinFile')} is required with ${name('pkcs11Module')}`,
    );
  return out;
}
