/** A real @grpc/grpc-js client of the KMS v2 service over `unix://`, with promise calls and the error code of a failed one. */
import * as grpc from '@grpc/grpc-js';
import {
  kmsClientConstructor,
  type DecryptRequest,
  type EncryptResponse,
  type StatusResponse,
} from '../../../src/k8s/kmsApi.js';

export interface KmsV2 {
  status(): Promise<StatusResponse>;
  encrypt(plaintext: Buffer, uid?: string): Promise<EncryptResponse>;
  decrypt(req: Partial<DecryptRequest>): Promise<Buffer>;
  close(): void;
}

export function kmsV2Client(socketPath: string): KmsV2 {
  const Client = kmsClientConstructor();
  const c = new Client(`unix://${socketPath}`, grpc.credentials.createInsecure());
  const deadline = () => ({ deadline: Date.now() + 15_000 });
  const p = <T>(fn: (cb: grpc.requestCallback<T>) => void) =>
    new Promise<T>((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res as T))));
  return {
    status: () => p<StatusResponse>((cb) => c.Status({}, deadline(), cb)),
    encrypt: (plaintext, uid = 'test-uid') => p<EncryptResponse>((cb) => c.Encrypt({ plaintext, uid }, deadline(), cb)),
    decrypt: async (req) =>
      (await p<{ plaintext: Buffer }>((cb) => c.Decrypt({ uid: 'test-uid', ...req }, deadline(), cb))).plaintext,
    close: () => c.close(),
  };
}

/** The gRPC status code a call failed with (throws if it succeeded). */
export async function codeOf(call: Promise<unknown>): Promise<{ code: grpc.status; details: string }> {
  try {
    await call;
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error('the call succeeded');
}
