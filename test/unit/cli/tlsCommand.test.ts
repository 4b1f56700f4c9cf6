import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/run.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-tlsinit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io() {
  let out = '';
  let err = '';
  return {
    io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t), env: {} },
    out: () => out,
    err: () => err,
  };
}

describe('coffer tls init', () => {
  it('writes a CA, a server certificate for the hosts and a client certificate, keys 0600, and prints the settings', async () => {
    const t = io();
    const tlsDir = join(dir, 'tls');
    expect(
      await run(['tls', 'init', '--dir', tlsDir, '--hosts', 'localhost,127.0.0.1,coffer.test', '--days', '30'], t.io),
    ).toBe(0);
    const ca = new X509Certificate(readFileSync(join(tlsDir, 'ca.crt')));
    const server = new X509Certificate(readFileSync(join(tlsDir, 'server.crt')));
    const client = new X509Certificate(readFileSync(join(tlsDir, 'client.crt')));
    expect(ca.ca).toBe(true);
    expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
    expect(client.checkIssued(ca) && client.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, DNS:coffer.test');
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    for (const k of ['ca.key', 'server.key', 'client.key'])
      expect(statSync(join(tlsDir, k)).mode & 0o777, k).toBe(0o600);
    expect(statSync(tlsDir).mode & 0o777).toBe(0o700);
    expect(t.out()).toContain(`COFFER_TLS_CERT=${join(tlsDir, 'server.crt')}`);
    expect(t.out()).toContain(`COFFER_TLS_CLIENT_CA=${join(tlsDir, 'ca.crt')}`);
    expect(t.out()).toContain('--ca-bundle');
  });

  it('refuses to replace an existing set without --force, and replaces it with', async () => {
    const tlsDir = join(dir, 'again');
    expect(await run(['tls', 'init', '--dir', tlsDir, '--hosts', 'localhost'], io().io)).toBe(0);
    const before = readFileSync(join(tlsDir, 'ca.crt'), 'utf8');
    const t = io();
    expect(await run(['tls', 'init', '--dir', tlsDir, '--hosts', 'localhost'], t.io)).toBe(1);
    expect(t.err()).toMatch(/exists: pass --force/);
    expect(readFileSync(join(tlsDir, 'ca.crt'), 'utf8')).toBe(before);
    expect(await run(['tls', 'init', '--dir', tlsDir, '--hosts', 'localhost', '--force'], io().io)).toBe(0);
    expect(readFileSync(join(tlsDir, 'ca.crt'), 'utf8')).not.toBe(before);
  });

  it('a bad host name or subcommand is a clear error', async () => {
    const t = io();
    expect(await run(['tls', 'init', '--dir', join(dir, 'bad'), '--hosts', 'no spaces'], t.io)).toBe(1);
    expect(t.err()).toMatch(/not a host name/);
    expect(await run(['tls', 'renew'], io().io)).toBe(2);
  });
});
