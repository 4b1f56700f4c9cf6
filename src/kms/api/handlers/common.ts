/**
 * Helpers the handler families share: media types, replies, the key-ring
 * header, `prefer`, and zeroing of base64 secrets on their way out.
 */
import { KmsError } from '../../../keys/errors.js';
import type { KeyResource } from '../../keyView.js';
import type { ApiRequest, Reply } from '../context.js';
import { envelope } from '../schema.js';

export const MEDIA = {
  key: 'application/vnd.ibm.kms.key+json',
  keyAction: 'application/vnd.ibm.kms.key_action+json',
  policy: 'application/vnd.ibm.kms.policy+json',
  registration: 'application/vnd.ibm.kms.registration+json',
  registrationInput: 'application/vnd.ibm.kms.registration_input+json',
  keyRing: 'application/vnd.ibm.kms.key_ring+json',
  alias: 'application/vnd.ibm.kms.alias+json',
  keyVersion: 'application/vnd.ibm.kms.key.version+json',
  importToken: 'application/vnd.ibm.kms.import_token+json',
  eventAck: 'application/vnd.ibm.kms.event_acknowledge+json',
  allowedIpMetadata: 'application/vnd.ibm.kms.allowed_ip_metadata+json',
} as const;

export function json(status: number, body: unknown): Reply {
  return { status, body };
}

export function noContent(): Reply {
  return { status: 204 };
}

export function keys(status: number, resources: KeyResource[], extra: Record<string, number> = {}): Reply {
  return json(status, envelope(MEDIA.key, resources, extra));
}

/** The resource without `payload` (what `prefer: return=minimal` and the metadata path show). */
export function withoutPayload(k: KeyResource): KeyResource {
  const { payload: _p, ...rest } = k;
  return rest;
}

/**
 * With `x-kms-key-ring`, the key must live in that ring (else 404, as if it did
 * not exist there); without it every ring the caller may use is searched.
 */
export async function checkKeyRing(r: ApiRequest, keyId: string | undefined): Promise<void> {
  if (r.keyRing === undefined || keyId === undefined) return;
  await r.deps.keyRings.assertKeyInRing(r.instance.id, keyId, r.keyRing);
}

/** The key id path parameter (already URL-decoded by the router). */
export function keyParam(r: ApiRequest): string {
  const id = r.params.id;
  if (!id) throw new KmsError('KEY_NOT_FOUND_ERR', 'Key could not be found');
  return id;
}
