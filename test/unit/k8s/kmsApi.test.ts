/**
 * The descriptor loaded at run time (kmsApi.ts) against the vendored upstream
 * proto/api.proto: same methods, paths and message descriptors, so a change on
 * either side fails here instead of on the wire with a kube-apiserver.
 */
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { kmsPackageDefinition, LOADER_OPTIONS, SERVICE_NAME } from '../../../src/k8s/kmsApi.js';

const PROTO = join(process.cwd(), 'src', 'k8s', 'proto', 'api.proto');

type Method = {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: { type: unknown };
  responseType: { type: unknown };
};

function shape(def: protoLoader.PackageDefinition) {
  const svc = def[SERVICE_NAME] as unknown as Record<string, Method>;
  const methods = Object.fromEntries(
    Object.entries(svc).map(([name, m]) => [
      name,
      {
        path: m.path,
        requestStream: m.requestStream,
        responseStream: m.responseStream,
        request: m.requestType.type,
        response: m.responseType.type,
      },
    ]),
  );
  const messages = Object.fromEntries(
    Object.keys(def)
      .filter((k) => k !== SERVICE_NAME)
      .map((k) => [k, (def[k] as { type: unknown }).type]),
  );
  return { methods, messages };
}

describe('KMS v2 API descriptor', () => {
  it('is the vendored api.proto: the same methods, paths and messages', () => {
    const fromFile = shape(protoLoader.loadSync(PROTO, LOADER_OPTIONS));
    const fromDescriptor = shape(kmsPackageDefinition());
    expect(Object.keys(fromFile.methods).sort()).toEqual(['Decrypt', 'Encrypt', 'Status']);
    expect(fromFile.methods.Status!.path).toBe('/v2.KeyManagementService/Status');
    expect(Object.keys(fromFile.messages).sort()).toEqual(
      ['DecryptRequest', 'DecryptResponse', 'EncryptRequest', 'EncryptResponse', 'StatusRequest', 'StatusResponse'].map(
        (m) => `v2.${m}`,
      ),
    );
    expect(fromDescriptor).toEqual(fromFile);
  });

  it('would notice a changed field number', () => {
    const def = protoLoader.loadSync(PROTO, LOADER_OPTIONS);
    const changed = structuredClone(
      (def['v2.EncryptResponse'] as { type: { field: Array<{ name: string; number: number }> } }).type,
    );
    changed.field.find((f) => f.name === 'key_id')!.number = 9;
    expect(changed).not.toEqual((kmsPackageDefinition()['v2.EncryptResponse'] as { type: unknown }).type);
  });
});
