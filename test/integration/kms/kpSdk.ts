/**
 * IBM's Key Protect SDK (@ibm-cloud/ibm-key-protect), loaded from its own
 * install in test/kp-sdk (npm ci --prefix test/kp-sdk) so that it keeps the
 * ibm-cloud-sdk-core 2.x it was built for. The SDK is CommonJS and its types
 * live in that tree, so it is typed here by the little the tests use.
 */
import { createRequire } from 'node:module';

export interface SdkResponse {
  status: number;
  headers: Record<string, string>;
  result: unknown;
}

export interface SdkError extends Error {
  status?: number;
  body?: string;
}

export type SdkParams = Record<string, unknown>;
export type KeyProtectClient = Record<string, (params: SdkParams) => Promise<SdkResponse>>;

interface SdkModule {
  new (opts: { authenticator: unknown; serviceUrl: string } & SdkParams): KeyProtectClient;
}
interface AuthModule {
  IamAuthenticator: new (opts: { apikey: string; url: string } & SdkParams) => unknown;
}

const req = createRequire(new URL('../../kp-sdk/package.json', import.meta.url));

/** `http`: options for the SDK's HTTP client and its authenticator's (e.g. an `httpsAgent` trusting a private CA). */
export function keyProtectClient(serviceUrl: string, apikey: string, http: SdkParams = {}): KeyProtectClient {
  const KeyProtectV2 = req('@ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2') as SdkModule;
  const { IamAuthenticator } = req('@ibm-cloud/ibm-key-protect/auth') as AuthModule;
  return new KeyProtectV2({
    authenticator: new IamAuthenticator({ apikey, url: serviceUrl, ...http }),
    serviceUrl,
    ...http,
  });
}

/** Every operation the SDK's client class defines (its own prototype, not BaseService's). */
export function sdkOperations(): string[] {
  const KeyProtectV2 = req('@ibm-cloud/ibm-key-protect/ibm-key-protect-api/v2') as SdkModule & { prototype: object };
  return Object.getOwnPropertyNames(KeyProtectV2.prototype).filter((n) => n !== 'constructor');
}

/** The rejection of an SDK call: status and the Key Protect reason code of the body. */
export async function sdkFailure(
  p: Promise<unknown>,
): Promise<{ status: number; code: string | undefined; body: unknown }> {
  try {
    await p;
  } catch (e) {
    const err = e as SdkError;
    let body: unknown;
    try {
      body = err.body ? JSON.parse(err.body) : undefined;
    } catch {
      body = err.body;
    }
    const code = (body as { resources?: Array<{ reasons?: Array<{ code?: string }> }> } | undefined)?.resources?.[0]
      ?.reasons?.[0]?.code;
    return { status: err.status ?? 0, code, body };
  }
  throw new Error('expected the SDK call to fail');
}

/** resources[0] of a collection result. */
export function first<T = Record<string, unknown>>(res: SdkResponse): T {
  const r = res.result as { resources?: T[] };
  const x = r.resources?.[0];
  if (x === undefined) throw new Error(`no resources in ${JSON.stringify(res.result)}`);
  return x;
}
