/**
 * `coffer server [--kms-url URL]` (and `npm start`, which is the same with no
 * flags): the S3 gateway. Without a KMS URL it runs embedded - the KMS, IAM and
 * the KMS REST API in the same process (gateway.ts). With one (or
 * COFFER_KMS_URL) it runs in split mode against `coffer kms` elsewhere
 * (remoteGateway.ts), authenticating with COFFER_GATEWAY_APIKEY.
 *
 * Prints where it listens (and generated secrets, once), then runs until
 * SIGINT/SIGTERM and shuts down cleanly. The server code is imported only when
 * a server starts, so client commands start fast.
 */
import { ConfigError, deprecatedSettings, loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../util/logger.js';
import { flag, parse, str, UsageError } from './args.js';
import type { Io } from './output.js';

export const SERVER_USAGE = `coffer server [--kms-url URL] [--data-dir DIR] [--s3-port N] [--kms-port N]

  Without --kms-url (or COFFER_KMS_URL): embedded mode, S3 and the KMS API in one process.
  With it: split mode, S3 only, using the KMS at URL (\`coffer kms\`) as its gateway
  identity; set COFFER_GATEWAY_APIKEY to the gateway API key \`coffer kms\` printed.`;

export const SERVE_OPTIONS = {
  'kms-url': { type: 'string' as const },
  'data-dir': { type: 'string' as const },
  's3-port': { type: 'string' as const },
  'kms-port': { type: 'string' as const },
  help: { type: 'boolean' as const, short: 'h' },
};

/** Config from the environment, with the serve flags on top; a bad value exits 2 with one line. */
export function serveConfig(argv: string[], io: Io, usage: string): Config | undefined {
  const p = parse(argv, SERVE_OPTIONS, { usage });
  if (flag(p, 'help')) {
    io.out(usage + '\n');
    return undefined;
  }
  const overrides: Partial<Record<keyof Config, unknown>> = {};
  const kmsUrl = str(p, 'kms-url');
  const dataDir = str(p, 'data-dir');
  const s3Port = str(p, 's3-port');
  const kmsPort = str(p, 'kms-port');
  if (kmsUrl !== undefined) overrides.kmsUrl = kmsUrl;
  if (dataDir !== undefined) overrides.dataDir = dataDir;
  if (s3Port !== undefined) overrides.s3Port = s3Port;
  if (kmsPort !== undefined) overrides.kmsPort = kmsPort;
  try {
    const config = loadConfig(io.env, overrides as Partial<Config>);
    for (const w of deprecatedSettings(io.env)) io.err(`coffer: warning: ${w}\n`);
    return config;
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
    throw e;
  }
}

/** Closes `close` on SIGINT/SIGTERM, then exits 0. */
export function onSignals(log: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal: sig });
    await close().catch((e: unknown) => log.error('shutdown failed', { err: (e as Error).message }));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Starts the gateway; resolves once it listens (0), or with the exit code of a failed start. */
export async function runServer(argv: string[], io: Io): Promise<number> {
  const config = serveConfig(argv, io, SERVER_USAGE);
  if (!config) return 0;
  const log = createLogger(config.logLevel);
  if (config.kmsUrl) return runSplit(config, log, io);
  let gw;
  try {
    const { startGateway } = await import('../server/gateway.js');
    gw = await startGateway(config, log);
  } catch (e) {
    io.err(`coffer: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  const lines = [
    `\nCoffer is running.\n`,
    `  S3 endpoint:        ${gw.s3Url}  (region ${config.region})\n`,
    `  KMS API:            ${gw.kmsUrl}\n`,
    `  Data directory:     ${config.dataDir}\n`,
    ...(gw.masterKeyFile ? [`  Master key file:    ${gw.masterKeyFile}  (back it up apart from the data)\n`] : []),
    `  Root KMS instance:  ${await gw.kms.ensureTenant(gw.root.accountId)}  (the root account's own; bluemix-instance for its keys)\n`,
    `  Default root key:   ${gw.defaultRootKeyCrn}  (provider-managed: for buckets created without a key of their own)\n`,
    `  Access key id:      ${gw.root.accessKeyId}\n`,
  ];
  if (gw.root.generated) {
    lines.push(`  Secret access key:  ${gw.root.secretAccessKey}\n`);
    lines.push(`  (generated now and shown once; set COFFER_ROOT_USER / COFFER_ROOT_PASSWORD to choose your own)\n`);
  }
  if (gw.iam.rootApiKeyGenerated && gw.iam.rootApiKey !== undefined) {
    lines.push(`  Root API key:       ${gw.iam.rootApiKey}\n`);
    lines.push(
      `  (for the KMS API: POST ${gw.kmsUrl}/identity/token; generated now and shown once, set COFFER_API_KEY to choose your own; the CLI reads it too)\n`,
    );
  }
  io.out(lines.join('') + '\n');
  onSignals(log, () => gw.close());
  return 0;
}

async function runSplit(config: Config, log: Logger, io: Io): Promise<number> {
  let gw;
  try {
    const { startRemoteGateway } = await import('../server/remoteGateway.js');
    gw = await startRemoteGateway(config, log);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`coffer: invalid configuration: ${e.message}\n`);
      return 2;
    }
    io.err(`coffer: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  io.out(
    [
      `\nCoffer is running (split mode).\n`,
      `  S3 endpoint:        ${gw.s3Url}  (region ${config.region})\n`,
      `  KMS:                ${gw.kmsUrl}  (remote; unwrapped DEKs cached for ${config.dekCacheTtlSeconds} s)\n`,
      `  Data directory:     ${config.dataDir}\n`,
      `  Default root key:   ${gw.defaultRootKeyCrn}  (provider-managed: for buckets created without a key of their own)\n`,
      `  S3 credentials:     those of the KMS's IAM (root credentials were printed by \`coffer kms\`)\n`,
      '\n',
    ].join(''),
  );
  onSignals(log, () => gw.close());
  return 0;
}
