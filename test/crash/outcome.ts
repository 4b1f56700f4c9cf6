/**
 * What a client learned from one request, as the crash model needs it:
 * "ok" only for a 2xx response that arrived whole (the server acknowledged),
 * "failed" for a whole non-2xx response (the server refused: nothing changed),
 * "unknown" when the connection died first (the request may or may not have
 * taken effect; after a kill that is the normal case).
 */
import { signedRequest, type RawEndpoint, type RawResponse, type SignOptions } from '../helpers/rawS3.js';

export type Outcome<T> =
  { kind: 'ok'; value: T } | { kind: 'failed'; status: number; body: string } | { kind: 'unknown'; error: string };

export function describeOutcome(o: Outcome<unknown>): string {
  if (o.kind === 'ok') return 'ok';
  if (o.kind === 'failed') return `${o.status} ${o.body.slice(0, 300)}`;
  return `unknown (${o.error})`;
}

/** Sign and send; classify the response. `parse` turns a whole 2xx response into the value. */
export async function s3Call<T>(ep: RawEndpoint, o: SignOptions, parse: (res: RawResponse) => T): Promise<Outcome<T>> {
  let res: RawResponse;
  try {
    res = await signedRequest(ep, o);
  } catch (e) {
    return { kind: 'unknown', error: (e as Error).message };
  }
  if (!res.complete) return { kind: 'unknown', error: res.error?.message ?? 'incomplete response' };
  if (res.status < 200 || res.status > 299) return { kind: 'failed', status: res.status, body: res.text() };
  // S3 may answer 200 with an <Error> document (CopyObject, CompleteMultipartUpload): a refusal.
  if (/^<\?xml[^>]*>\s*<Error>/.test(res.text())) return { kind: 'failed', status: res.status, body: res.text() };
  return { kind: 'ok', value: parse(res) };
}

/** A value or a thrown error naming the call: for requests made while no kill can happen. */
export function must<T>(o: Outcome<T>, what: string): T {
  if (o.kind !== 'ok') throw new Error(`${what}: ${describeOutcome(o)}`);
  return o.value;
}
