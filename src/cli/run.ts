/**
 * Dispatch of the `coffer` command (main.ts is the executable). One file per
 * command family, each a thin shell over the servers' own composition roots
 * (server, kms) or over the REST APIs (kms keys, kms audit, iam). The exit
 * code: 0 on success, 1 when a call failed, 2 on a usage or configuration error.
 */
import { CliError } from './args.js';
import { BACKUP_USAGE, runBackup, runRestore } from './backupCommand.js';
import { HEAL_USAGE, runHeal } from './healCommand.js';
import { runIam, IAM_USAGE } from './iamCommand.js';
import { K8S_USAGE, runK8sKmsPlugin } from './k8sCommand.js';
import { KMS_USAGE, runKms } from './kmsCommand.js';
import { MIGRATE_USAGE, runMigrate } from './migrateCommand.js';
import type { Io } from './output.js';
import { runServer, SERVER_USAGE } from './serverCommand.js';
import { runTls, TLS_USAGE } from './tlsCommand.js';

export const USAGE = `usage: coffer <command> ...

${SERVER_USAGE}

${KMS_USAGE}

${IAM_USAGE}

${MIGRATE_USAGE}

${K8S_USAGE}

${BACKUP_USAGE}
${HEAL_USAGE}
${TLS_USAGE}

Client commands take the KMS API URL from --url or COFFER_KMS_URL (default
http://127.0.0.1:9001), an API key from --apikey or COFFER_API_KEY (the old
COFFER_ROOT_APIKEY still works, with a warning) and the KMS instance from
--instance or COFFER_KMS_INSTANCE (default: the caller's only one); they print
tables, or the API's JSON with --json. Every family has help: coffer kms keys
help, coffer iam accounts help, coffer kms instance-policies help, ...`;

export async function run(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'server':
        return await runServer(rest, io);
      case 'kms':
        return await runKms(rest, io);
      case 'iam':
        return await runIam(rest, io);
      case 'migrate':
        return await runMigrate(rest, io);
      case 'backup':
        return await runBackup(rest, io);
      case 'restore':
        return await runRestore(rest, io);
      case 'k8s-kms-plugin':
        return await runK8sKmsPlugin(rest, io);
      case 'heal':
      case 'scrub':
        return await runHeal(cmd, rest, io);
      case 'tls':
        return await runTls(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE + '\n');
        return cmd === undefined ? 2 : 0;
      default:
        io.err(`coffer: unknown command "${cmd}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`coffer: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`coffer: ${(e as Error).message}\n`);
    return 1;
  }
}
