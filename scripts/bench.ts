/**
 * `npm run bench`: throughput of a real Coffer server on this machine, next to
 * the machine's own AES-256-GCM and MD5 throughput measured in the same run, so
 * the figures read as ratios that survive a noisy, shared machine.
 *
 * PUT/GET of 64 MiB objects with 1 and 4 concurrent streams, and 4 KiB object
 * PUT/GET operations per second. Each figure is the median of several runs.
 * Requests are signed with UNSIGNED-PAYLOAD (as rclone and presigned URLs do), so
 * the client spends no time hashing and the server's own costs dominate. The
 * server runs in its own process (the real entry point, dist/src/main.js), so the
 * client does not share its event loop.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import aws4 from 'aws4';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OBJ = 64 * MiB;
const SMALL = 4096;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeIt(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/**
 * MB/s of writing a new 64 MiB file in 256 KiB writes and fsyncing it, on the
 * data dir's filesystem: what every durable PUT has to pay, whatever the server.
 */
async function diskBaseline(dir: string): Promise<number> {
  const block = randomBytes(256 * 1024);
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const path = join(dir, `disk-baseline-${r}`);
    const t0 = process.hrtime.bigint();
    const fh = await open(path, 'wx', 0o600);
    for (let i = 0; i < OBJ / block.length; i++) await fh.write(block);
    await fh.sync();
    await fh.close();
    runs.push(OBJ / MiB / (Number(process.hrtime.bigint() - t0) / 1e9));
    await unlink(path);
  }
  return median(runs);
}

/** MB/s of one core doing AES-256-GCM and MD5 over 64 MiB in 64 KiB pieces (what the server does per byte). */
function baselines(): { aesGcm: number; md5: number } {
  const buf = randomBytes(64 * 1024);
  const n = OBJ / buf.length;
  const key = randomBytes(32);
  const aes: number[] = [];
  const md5: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    aes.push(OBJ / MiB / timeIt(() => {
      for (let i = 0; i < n; i++) {
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', key, iv);
        c.update(buf);
        c.final();
        c.getAuthTag();
      }
    }));
    md5.push(OBJ / MiB / timeIt(() => {
      const h = createHash('md5');
      for (let i = 0; i < n; i++) h.update(buf);
      h.digest();
    }));
  }
  return { aesGcm: median(aes), md5: median(md5) };
}

interface Target { host: string; port: number; accessKeyId: string; secretAccessKey: string; region: string }

function send(t: Target, method: string, path: string, body?: { stream: Readable; length: number } | Buffer): Promise<number> {
  const opts = aws4.sign(
    {
      host: `${t.host}:${t.port}`,
      method,
      path,
      service: 's3',
      region: t.region,
      headers: {
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        ...(body ? { 'content-length': String(Buffer.isBuffer(body) ? body.length : body.length) } : {}),
      },
    },
    { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
  );
  return new Promise((resolve, reject) => {
    const req = request({ host: t.host, port: t.port, method, path, headers: opts.headers as Record<string, string> }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => (res.statusCode && res.statusCode < 300 ? resolve(bytes) : reject(new Error(`${method} ${path}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (!body) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body.stream.pipe(req);
  });
}

/** A 64 MiB body streamed from a repeated random 1 MiB block (no 64 MiB buffer). */
function bigBody(): { stream: Readable; length: number } {
  const block = randomBytes(MiB);
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= OBJ) return void this.push(null);
      sent += block.length;
      this.push(block);
    },
  });
  return { stream, length: OBJ };
}

async function throughput(t: Target, streams: number): Promise<{ put: number; get: number }> {
  const puts: number[] = [];
  const gets: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: streams }, (_, i) => send(t, 'PUT', `/bench/big-${i}`, bigBody())));
    puts.push((streams * OBJ) / MiB / (Number(process.hrtime.bigint() - t0) / 1e9));
    t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: streams }, (_, i) => send(t, 'GET', `/bench/big-${i}`)));
    gets.push((streams * OBJ) / MiB / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return { put: median(puts), get: median(gets) };
}

async function smallOps(t: Target): Promise<{ put: number; get: number }> {
  const body = randomBytes(SMALL);
  const N = 200;
  const CONC = 8;
  const puts: number[] = [];
  const gets: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    for (const [method, out] of [['PUT', puts], ['GET', gets]] as const) {
      let next = 0;
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: CONC }, async () => {
        while (next < N) {
          const i = next++;
          await send(t, method, `/bench/small-${i}`, method === 'PUT' ? body : undefined);
        }
      }));
      out.push(N / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
  }
  return { put: median(puts), get: median(gets) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/** Start `node dist/src/main.js` on free ports with a temp data dir; resolves when it serves. */
async function startServer(dataDir: string, user: string, secret: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  // BENCH_SERVER_ARGS: extra node flags for the server, e.g. --cpu-prof for profiling.
  const extra = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, main], {
    env: {
      PATH: process.env.PATH ?? '',
      COFFER_DATA_DIR: dataDir,
      COFFER_S3_PORT: String(port),
      COFFER_KMS_PORT: String(await freePort()),
      COFFER_ROOT_USER: user,
      COFFER_ROOT_PASSWORD: secret,
      COFFER_MASTER_KEY: randomBytes(32).toString('base64'),
      COFFER_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Default root key')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, port };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'coffer-bench-'));
  const user = 'BENCHACCESSKEY';
  const secret = 'bench-secret-key-0123456789';
  const { child, port } = await startServer(dataDir, user, secret);
  const t: Target = { host: '127.0.0.1', port, accessKeyId: user, secretAccessKey: secret, region: 'us-east-1' };
  try {
    await send(t, 'PUT', '/bench');
    const base = baselines();
    const disk = await diskBaseline(dataDir);
    const one = await throughput(t, 1);
    const four = await throughput(t, 4);
    const small = await smallOps(t);
    const f = (x: number) => x.toFixed(0).padStart(6);
    const ratio = (x: number, b: number) => (x / b).toFixed(2);
    console.log(`Coffer bench: medians of ${RUNS} runs, 64 MiB objects, server in its own process, node ${process.version}`);
    console.log(`baseline (one core):  AES-256-GCM ${f(base.aesGcm)} MB/s   MD5 ${f(base.md5)} MB/s   new-file write+fsync ${f(disk)} MB/s`);
    console.log('                         MB/s   vs AES-GCM   vs MD5   vs disk');
    for (const [name, v] of [['PUT x1', one.put], ['GET x1', one.get], ['PUT x4', four.put], ['GET x4', four.get]] as const) {
      console.log(`${name.padEnd(20)} ${f(v)}        ${ratio(v, base.aesGcm)}       ${ratio(v, base.md5)}     ${ratio(v, disk)}`);
    }
    console.log(`4 KiB objects (8 concurrent): PUT ${small.put.toFixed(0)} ops/s, GET ${small.get.toFixed(0)} ops/s`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
