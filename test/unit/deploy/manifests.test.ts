/**
 * The deployment files (compose.yaml, config/cluster/haproxy.cfg,
 * config/k8s/coffer.yaml) cannot be run here (no container engine), so this
 * checks what can go wrong in them without one: they parse, every COFFER_*
 * variable they set is one Coffer reads, each process's environment is a
 * configuration loadConfig accepts in the mode it is meant for, and the load
 * balancer points at exactly the gateways.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_ENV_NAMES, loadConfig } from '../../../src/config.js';

const root = new URL('../../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
  volumes?: string[];
  ports?: string[];
}

/** compose's `${VAR:?msg}` / `${VAR:-default}` with a stand-in for each secret. */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_m, name: string, rest: string | undefined) =>
    name === 'COFFER_MASTER_KEY'
      ? Buffer.alloc(32, 7).toString('base64')
      : rest && !rest.startsWith('set ')
        ? rest
        : `test-${name.toLowerCase()}`,
  );
}

const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;
const gateways = Object.keys(services).filter((n) => services[n]!.command?.[2] === 'server');

function envOf(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(services[name]!.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]),
  );
}

describe('compose.yaml', () => {
  it('runs three gateways, one KMS, PostgreSQL, an S3 tier and a load balancer', () => {
    expect(gateways).toEqual(['gateway1', 'gateway2', 'gateway3']);
    expect(services.kms!.command).toEqual(['node', 'dist/src/cli/main.js', 'kms']);
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'minio', 'minio-init', 'lb']));
  });

  it('sets only variables Coffer reads', () => {
    for (const name of [...gateways, 'kms'])
      for (const k of Object.keys(services[name]!.environment ?? {}))
        if (k.startsWith('COFFER_')) expect(CONFIG_ENV_NAMES, `${name}: ${k}`).toContain(k);
  });

  it('gives each gateway a valid split-mode configuration on the shared stores', () => {
    for (const name of gateways) {
      const cmd = services[name]!.command!;
      const kmsUrl = cmd[cmd.indexOf('--kms-url') + 1]!;
      const c = loadConfig(envOf(name), { kmsUrl });
      expect(new URL(c.kmsUrl).hostname).toBe('kms');
      // The KMS link is TLS, trusting the CA that the kms-tls service writes for the name "kms".
      expect(c.kmsUrl).toMatch(/^https:/);
      expect(c.tlsCa).toBe('/keys/tls/ca.crt');
      expect(services[name]!.volumes).toContain('kms-tls:/keys:ro');
      expect(new URL(c.metaUrl!).hostname).toBe('postgres');
      expect(new URL(c.dataS3Endpoint!).hostname).toBe('minio');
      expect(c.gatewayApiKey).toBe(envOf('kms').COFFER_GATEWAY_APIKEY);
      expect(services[name]!.depends_on).toMatchObject({ kms: {}, postgres: {} });
      // Each gateway has its own scratch volume: none shares a LevelDB directory with another.
      expect(services[name]!.volumes!.filter((v) => v.endsWith(':/data'))).toHaveLength(1);
    }
    const vols = gateways.map((g) => services[g]!.volumes!.find((v) => v.endsWith(':/data')));
    expect(new Set(vols).size).toBe(gateways.length);
  });

  it('gives the KMS a valid configuration with the master key from the environment, not the volume', () => {
    const c = loadConfig(envOf('kms'));
    expect(Buffer.from(c.masterKey, 'base64')).toHaveLength(32);
    // Bound beyond loopback, so with TLS: the certificate is made for the name the gateways use.
    expect(c.kmsHost).toBe('0.0.0.0');
    expect([c.tlsCert, c.tlsKey]).toEqual(['/keys/tls/server.crt', '/keys/tls/server.key']);
    expect(c.kmsInsecureHttp).not.toBe(true);
    // Its keys, IAM and key events in the gateways' database (COFFER_KMS_STORE_URL), which it waits for.
    expect(c.kmsStoreUrl).toMatch(/^postgres:\/\/coffer:.*@postgres:5432\/coffer$/);
    expect(services.kms!.depends_on).toMatchObject({ postgres: {} });
    expect(services['kms-tls']!.command).toEqual([
      'test -f /keys/tls/server.crt || node dist/src/cli/main.js tls init --dir /keys/tls --hosts kms',
    ]);
    expect(services.kms!.ports).toBeUndefined();
  });

  it('ships no secret: every password and key is required from the environment', () => {
    const text = read('compose.yaml');
    for (const v of [
      'COFFER_MASTER_KEY',
      'COFFER_ROOT_PASSWORD',
      'COFFER_API_KEY',
      'COFFER_GATEWAY_APIKEY',
      'POSTGRES_PASSWORD',
      'MINIO_ROOT_PASSWORD',
    ])
      expect(text, v).toMatch(new RegExp(`\\$\\{${v}:\\?`));
  });

  it('publishes the load balancer on loopback only', () => {
    expect(services.lb!.ports).toEqual(['127.0.0.1:9000:9000']);
  });
});

describe('config/cluster/haproxy.cfg', () => {
  it('balances over exactly the compose gateways, checking /health', () => {
    const cfg = read('config/cluster/haproxy.cfg');
    const servers = [...cfg.matchAll(/^\s*server\s+(\S+)\s+(\S+):(\d+)/gm)].map((m) => `${m[2]}:${m[3]}`);
    expect(servers).toEqual(gateways.map((g) => `${g}:${envOf(g).COFFER_S3_PORT}`));
    expect(cfg).toMatch(/option httpchk GET \/health/);
  });
});

describe('config/k8s/coffer.yaml', () => {
  const docs = parseAllDocuments(read('config/k8s/coffer.yaml')).map((d) => d.toJS() as K8sObject);
  interface K8sEnv {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef: { name: string; key: string } };
  }
  interface K8sObject {
    kind: string;
    metadata: { name: string };
    spec: {
      replicas?: number;
      template?: { spec: { containers: { command: string[]; env: K8sEnv[]; readinessProbe?: unknown }[] } };
    };
  }
  const container = (name: string) =>
    docs.find((d) => d.metadata.name === name && d.spec.template)!.spec.template!.spec.containers[0]!;
  const envFor = (name: string) =>
    Object.fromEntries(
      container(name).env.map((e) => [
        e.name,
        e.value ??
          (e.name === 'COFFER_MASTER_KEY'
            ? Buffer.alloc(32, 7).toString('base64')
            : e.valueFrom?.secretKeyRef.key === 'meta-url'
              ? 'postgres://coffer:pw@db:5432/coffer'
              : e.name === 'COFFER_DATA_S3_ENDPOINT'
                ? 'https://s3.example.test'
                : `secret-${e.valueFrom!.secretKeyRef.key}`),
      ]),
    );

  it('has a KMS StatefulSet of one, a gateway Deployment and their Services', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Service/coffer-kms',
      'StatefulSet/coffer-kms',
      'Deployment/coffer-gateway',
      'Service/coffer-s3',
    ]);
    expect(docs[1]!.spec.replicas).toBe(1);
  });

  it('sets only variables Coffer reads, secrets only from the Secret', () => {
    for (const name of ['coffer-kms', 'coffer-gateway'])
      for (const e of container(name).env) {
        expect(CONFIG_ENV_NAMES, e.name).toContain(e.name);
        if (/(MASTER_KEY|PASSWORD|API_KEY|APIKEY|ACCESS_KEY|SECRET_KEY|META_URL|STORE_URL)$/.test(e.name))
          expect(e.valueFrom?.secretKeyRef.name, e.name).toBe('coffer');
      }
  });

  it('configures the gateways in split mode on the KMS Service, ready on /health', () => {
    const gw = container('coffer-gateway');
    const kmsUrl = gw.command[gw.command.indexOf('--kms-url') + 1]!;
    const c = loadConfig(envFor('coffer-gateway'), { kmsUrl });
    expect(new URL(c.kmsUrl).hostname).toBe('coffer-kms');
    expect(c.kmsUrl).toMatch(/^https:/);
    expect(c.tlsCa).toBe('/tls/ca.crt');
    const kms = loadConfig(envFor('coffer-kms'));
    // Bound beyond loopback, so with TLS (the server refuses plain HTTP there).
    expect([kms.kmsHost, kms.tlsCert, kms.tlsKey]).toEqual(['0.0.0.0', '/tls/server.crt', '/tls/server.key']);
    // The KMS state in the shared database (the same one as the metadata).
    expect(kms.kmsStoreUrl).toBe(c.metaUrl);
    expect(c.metaUrl).toMatch(/^postgres:/);
    expect(c.dataS3Bucket).toBe('coffer-blobs');
    expect(gw.readinessProbe).toEqual({ httpGet: { path: '/health', port: 9000 }, periodSeconds: 5 });
    expect(Buffer.from(loadConfig(envFor('coffer-kms')).masterKey, 'base64')).toHaveLength(32);
  });
});
