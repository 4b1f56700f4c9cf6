/**
 * Entry point of the s3rver process the bench compares Coffer with: s3rver on
 * 127.0.0.1, an ephemeral port, the directory given as argv[2]. Prints one JSON
 * line with the port once it listens, and closes on SIGTERM.
 *
 * Run with `node --openssl-legacy-provider`: s3rver's ListObjectsV2 continuation
 * tokens use DES, which OpenSSL 3 only has in the legacy provider, so without it
 * a listing past 1,000 keys fails.
 */
import { createRequire } from 'node:module';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: s3rverMain.js <directory>\n');
  process.exit(2);
}
const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, resetOnClose: false });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.once('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
