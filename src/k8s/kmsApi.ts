/**
 * The Kubernetes KMS v2 gRPC API (package v2, service KeyManagementService),
 * loaded with @grpc/proto-loader from a protobuf.js JSON descriptor of
 * proto/api.proto rather than from the .proto file: the build (tsc) copies no
 * .proto into dist/, and the container image ships dist/ only, so a file
 * loaded at run time would be missing there. Generated static code would need
 * protoc or protobufjs-cli at build time for four small messages.
 * test/unit/k8s/kmsApi.test.ts loads proto/api.proto and checks that every
 * method and message of this descriptor is the same, so the two cannot drift.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The service's full name, as gRPC paths carry it (/v2.KeyManagementService/Status). */
export const SERVICE_NAME = 'v2.KeyManagementService';

/** StatusResponse.version: the API server refuses any other value for apiVersion v2. */
export const API_VERSION = 'v2';

/** Field names as in the .proto (keepCase), bytes as Buffers, absent fields at their defaults. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const str = (id: number) => ({ type: 'string', id });
const bytes = (id: number) => ({ type: 'bytes', id });
const annotations = (id: number) => ({ keyType: 'string', type: 'bytes', id });

export const KMS_V2_DESCRIPTOR = {
  nested: {
    v2: {
      options: { go_package: 'k8s.io/kms/apis/v2' },
      nested: {
        KeyManagementService: {
          methods: {
            Status: { requestType: 'StatusRequest', responseType: 'StatusResponse' },
            Decrypt: { requestType: 'DecryptRequest', responseType: 'DecryptResponse' },
            Encrypt: { requestType: 'EncryptRequest', responseType: 'EncryptResponse' },
          },
        },
        StatusRequest: { fields: {} },
        StatusResponse: { fields: { version: str(1), healthz: str(2), key_id: str(3) } },
        DecryptRequest: { fields: { ciphertext: bytes(1), uid: str(2), key_id: str(3), annotations: annotations(4) } },
        DecryptResponse: { fields: { plaintext: bytes(1) } },
        EncryptRequest: { fields: { plaintext: bytes(1), uid: str(2) } },
        EncryptResponse: { fields: { ciphertext: bytes(1), key_id: str(2), annotations: annotations(3) } },
      },
    },
  },
};

export type StatusRequest = Record<string, never>;
export interface StatusResponse {
  version: string;
  healthz: string;
  key_id: string;
}
export interface DecryptRequest {
  ciphertext: Buffer;
  uid: string;
  key_id: string;
  annotations: Record<string, Buffer>;
}
export interface DecryptResponse {
  plaintext: Buffer;
}
export interface EncryptRequest {
  plaintext: Buffer;
  uid: string;
}
export interface EncryptResponse {
  ciphertext: Buffer;
  key_id: string;
  annotations: Record<string, Buffer>;
}

/** The handlers a plugin implements (grpc-js unary handlers). */
export interface KeyManagementServiceHandlers extends grpc.UntypedServiceImplementation {
  Status: grpc.handleUnaryCall<StatusRequest, StatusResponse>;
  Decrypt: grpc.handleUnaryCall<DecryptRequest, DecryptResponse>;
  Encrypt: grpc.handleUnaryCall<EncryptRequest, EncryptResponse>;
}

/** A client of the service (what the API server is; tests use it). */
export interface KeyManagementServiceClient extends grpc.Client {
  Status(req: StatusRequest, cb: grpc.requestCallback<StatusResponse>): grpc.ClientUnaryCall;
  Status(req: StatusRequest, options: grpc.CallOptions, cb: grpc.requestCallback<StatusResponse>): grpc.ClientUnaryCall;
  Decrypt(req: Partial<DecryptRequest>, cb: grpc.requestCallback<DecryptResponse>): grpc.ClientUnaryCall;
  Decrypt(
    req: Partial<DecryptRequest>,
    options: grpc.CallOptions,
    cb: grpc.requestCallback<DecryptResponse>,
  ): grpc.ClientUnaryCall;
  Encrypt(req: Partial<EncryptRequest>, cb: grpc.requestCallback<EncryptResponse>): grpc.ClientUnaryCall;
  Encrypt(
    req: Partial<EncryptRequest>,
    options: grpc.CallOptions,
    cb: grpc.requestCallback<EncryptResponse>,
  ): grpc.ClientUnaryCall;
}

type ClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => KeyManagementServiceClient;

/** The package definition proto-loader builds from the descriptor. */
export function kmsPackageDefinition(): protoLoader.PackageDefinition {
  // protobuf.js's INamespace type cannot express the literal's shape; the test checks the content.
  return protoLoader.fromJSON(
    KMS_V2_DESCRIPTOR as unknown as Parameters<typeof protoLoader.fromJSON>[0],
    LOADER_OPTIONS,
  );
}

function serviceConstructor(def: protoLoader.PackageDefinition): grpc.ServiceClientConstructor {
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    v2: { KeyManagementService: grpc.ServiceClientConstructor };
  };
  return pkg.v2.KeyManagementService;
}

/** The service definition to add to a grpc.Server. */
export function kmsServiceDefinition(): grpc.ServiceDefinition {
  return serviceConstructor(kmsPackageDefinition()).service;
}

/** The client class for the service. */
export function kmsClientConstructor(): ClientConstructor {
  return serviceConstructor(kmsPackageDefinition()) as unknown as ClientConstructor;
}
