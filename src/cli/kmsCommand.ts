/**
 * `coffer kms`: with no command (or only serve flags), run the KMS alone - the
 * Key Protect compatible API, IAM and the audit log (kmsServer.ts) - for split
 * mode. `coffer kms keys ...` and `coffer kms audit ...` are client commands
 * against a running KMS (keysCommand.ts, auditCommand.ts), as are instances,
 * key-rings, aliases, instance-policies and import-token (commandKit.ts
 * families).
 */
import { createLogger } from '../util/logger.js';
import { UsageError } from './args.js';
import { runAudit } from './auditCommand.js';
import { runFamily, type Family } from './commandKit.js';
import { INSTANCE_POLICIES } from './instancePolicyCommand.js';
import { IMPORT_TOKEN, INSTANCES, KEY_RINGS } from './instancesCommand.js';
import { ALIASES } from './keyPolicyCommand.js';
import { KEYS_USAGE, runKeys } from './keysCommand.js';
import { MASTER_KEY_USAGE, runMasterKey } from './masterKeyCommand.js';
import type { Io } from './output.js';
import { onSignals, serveConfig } from './serverCommand.js';

export const KMS_USAGE = `coffer kms [--data-dir DIR] [--kms-port N]      run the KMS alone (split mode)
coffer kms keys <command> ...                    manage root keys (coffer kms keys help)
coffer kms instances create | list | get <id>    KMS instances
coffer kms key-rings create <id> | list | delete <id> [--force]   key rings of the instance
coffer kms aliases add <key> <alias> | remove <key> <alias> | list [<key>]   key aliases
coffer kms instance-policies get | set <policy> <value>   dual-auth-delete, allowed-network,
                                                 allowed-ip, rotation, metrics
coffer kms import-token create | get             the instance's token for secure import
coffer kms audit [--since ... --key ... --action ... --limit N]   read the audit log
coffer kms audit verify [--data-dir DIR]          prove the audit log's hash chain
coffer kms master-key migrate --to pkcs11|file   move a stopped server's key store between master keys`;

const FAMILIES: Record<string, Family> = {
  instances: INSTANCES,
  'key-rings': KEY_RINGS,
  aliases: ALIASES,
  'instance-policies': INSTANCE_POLICIES,
  'import-token': IMPORT_TOKEN,
};

export async function runKms(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  const family = cmd !== undefined && Object.prototype.hasOwnProperty.call(FAMILIES, cmd) ? FAMILIES[cmd] : undefined;
  if (family) return runFamily(family, rest, io);
  if (cmd === 'keys') return runKeys(rest, io);
  if (cmd === 'audit') return runAudit(rest, io);
  if (cmd === 'master-key') return runMasterKey(rest, io);
  if (cmd === 'help') {
    io.out(`${KMS_USAGE}\n\n${KEYS_USAGE}\n\n${MASTER_KEY_USAGE}\n`);
    return 0;
  }
  if (cmd !== undefined && !cmd.startsWith('-')) throw new UsageError(`unknown command "kms ${cmd}"\n\n${KMS_USAGE}`);
  return serveKms(argv, io);
}

async function serveKms(argv: string[], io: Io): Promise<number> {
  const config = serveConfig(argv, io, KMS_USAGE);
  if (!config) return 0;
  const log = createLogger(config.logLevel);
  let kms;
  try {
    const { startKmsServer } = await import('../server/kmsServer.js');
    kms = await startKmsServer(config, log, { generateGatewayApiKey: true });
  } catch (e) {
    io.err(`coffer: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  const lines = [
    `\nCoffer KMS is running.\n`,
    `  KMS API:            ${kms.url}\n`,
    `  Data directory:     ${config.dataDir}\n`,
    ...(kms.masterKeyFile ? [`  Master key file:    ${kms.masterKeyFile}  (back it up apart from the data)\n`] : []),
    ...(kms.masterKeyToken ? [`  Master key:         ${kms.masterKeyToken}\n`] : []),
    `  Root account:       ${kms.root.accountId}\n`,
    `  Root KMS instance:  ${await kms.kms.ensureTenant(kms.root.accountId)}  (the root account's own; bluemix-instance for its keys)\n`,
    `  Default root key:   ${kms.defaultRootKeyCrn}  (provider-managed: for buckets created without a key of their own)\n`,
    `  Access key id:      ${kms.root.accessKeyId}  (root S3 credentials; gateways look them up here)\n`,
  ];
  if (kms.root.generated) {
    lines.push(`  Secret access key:  ${kms.root.secretAccessKey}\n`);
    lines.push(`  (generated now and shown once; set COFFER_ROOT_USER / COFFER_ROOT_PASSWORD to choose your own)\n`);
  }
  if (kms.iam.rootApiKeyGenerated && kms.iam.rootApiKey !== undefined) {
    lines.push(`  Root API key:       ${kms.iam.rootApiKey}\n`);
    lines.push(
      `  (for the KMS API and the CLI: COFFER_API_KEY; generated now and shown once, set COFFER_API_KEY to choose your own)\n`,
    );
  }
  if (kms.iam.gatewayApiKeyGenerated && kms.iam.gatewayApiKey !== undefined) {
    lines.push(`  Gateway API key:    ${kms.iam.gatewayApiKey}\n`);
    lines.push(`  (generated now and shown once; set COFFER_GATEWAY_APIKEY to choose your own)\n`);
  }
  lines.push(`  Start a gateway:    COFFER_GATEWAY_APIKEY=<gateway API key> coffer server --kms-url ${kms.url}\n`);
  io.out(lines.join('') + '\n');
  onSignals(log, () => kms.close());
  return 0;
}
