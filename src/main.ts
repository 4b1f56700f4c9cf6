/**
 * `npm start`: Coffer with its embedded defaults. Loads config (exit 2 with one
 * line naming the setting when invalid), starts the gateway, prints where it
 * listens and the default root key CRN, and shuts down cleanly on signals.
 */
import { ConfigError, loadConfig } from './config.js';
import { startGateway } from './server/gateway.js';
import { createLogger } from './util/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`coffer: invalid configuration: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  let gw;
  try {
    gw = await startGateway(config, log);
  } catch (e) {
    process.stderr.write(`coffer: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const out = process.stdout;
  out.write(`\nCoffer is running.\n`);
  out.write(`  S3 endpoint:        ${gw.s3Url}  (region ${config.region})\n`);
  out.write(`  KMS API:            ${gw.kms.url ?? '(embedded)'}\n`);
  out.write(`  Data directory:     ${config.dataDir}\n`);
  out.write(`  Default root key:   ${gw.defaultRootKeyCrn}\n`);
  out.write(`  Access key id:      ${gw.root.accessKeyId}\n`);
  if (gw.root.generated) {
    out.write(`  Secret access key:  ${gw.root.secretAccessKey}\n`);
    out.write(`  (generated now and shown once; set COFFER_ROOT_USER / COFFER_ROOT_PASSWORD to choose your own)\n`);
  }
  if (gw.iam.rootApiKeyGenerated && gw.iam.rootApiKey !== undefined) {
    out.write(`  Root API key:       ${gw.iam.rootApiKey}\n`);
    out.write(`  (for the KMS API: POST ${gw.kmsUrl}/identity/token; generated now and shown once, set COFFER_ROOT_APIKEY to choose your own)\n`);
  }
  out.write('\n');
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal: sig });
    await gw.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

void main();
