/**
 * The adopter side of key events (key-protect.md 1.6, keyEvents.ts):
 *
 *   POST /api/v2/event_ack      a registered service acknowledges one
 *        delivery (eventId); it is no longer outstanding. Validated, audited
 *        with the rewrapped version it reports, answered 204; an unknown (or
 *        already acknowledged) eventId is 404 NOT_FOUND_ERR.
 *   GET  /api/v2/keys/{id}/events   the key's outstanding deliveries, one per
 *        registration and lifecycle event. Key Protect documents no path for
 *        this (its UI shows them per key); this one is Coffer's, in KP's
 *        collection envelope with collectionType application/vnd.ibm.kms.event+json.
 */
import { iso } from '../../keyView.js';
import type { Delivery } from '../../keyEvents.js';
import { authorize, requireService } from '../access.js';
import type { ApiRequest, Reply } from '../context.js';
import { invalidField } from '../errors.js';
import { asObject, envelope, onlyFields, onlyQuery, optBool, optString, parseEnvelope } from '../schema.js';
import { checkKeyRing, json, keyParam, MEDIA, noContent } from './common.js';

export const EVENT_MEDIA = 'application/vnd.ibm.kms.event+json';

export interface EventResource {
  eventId: string;
  eventType: string;
  keyId: string;
  keyCrn: string;
  resourceCrn: string;
  keyVersion?: { id: string };
  timestamp: string;
  /** Present when the registration has a webhook. */
  webhook?: { attempts: number; delivered: boolean; deliveredAt?: string };
}

export function toEventResource(d: Delivery): EventResource {
  const out: EventResource = {
    eventId: d.eventId,
    eventType: d.type,
    keyId: d.keyId,
    keyCrn: d.keyCrn,
    resourceCrn: d.resourceCrn,
    timestamp: iso(d.at),
  };
  if (d.keyVersion !== undefined) out.keyVersion = { id: d.keyVersion };
  if (d.webhook)
    out.webhook = {
      attempts: d.attempts,
      delivered: d.deliveredAt !== undefined,
      ...(d.deliveredAt !== undefined ? { deliveredAt: iso(d.deliveredAt) } : {}),
    };
  return out;
}

export async function listKeyEvents(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  const id = keyParam(r);
  await checkKeyRing(r, await authorize(r, 'listRegistrations', id));
  const list = (await r.deps.service.outstandingEvents(r.instance.id, id)).map(toEventResource);
  return json(200, envelope(EVENT_MEDIA, list));
}

const ADOPTER_STATES = ['DEK_ENABLED', 'DEK_DISABLED', 'DEK_DELETED', 'DEK_RESTORED', 'DEK_ROTATED'];

export async function eventAck(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  requireService(r);
  await authorize(r, 'eventAck');
  const [res] = parseEnvelope(r.body, [MEDIA.eventAck]);
  if (!res) throw invalidField('resources', 'one acknowledgement');
  onlyFields(res, ['eventId', 'adopterKeyState', 'timestamp', 'keyStateData', 'deleteRegistration']);
  const eventId = optString(res, 'eventId');
  if (!eventId) throw invalidField('eventId', 'the id of the acknowledged event');
  const state = optString(res, 'adopterKeyState');
  if (state === undefined || !ADOPTER_STATES.includes(state))
    throw invalidField('adopterKeyState', ADOPTER_STATES.join(', '));
  const ts = optString(res, 'timestamp');
  if (ts === undefined || Number.isNaN(Date.parse(ts))) throw invalidField('timestamp', 'an RFC 3339 date');
  const deleteRegistration = optBool(res, 'deleteRegistration');
  let rewrapped: string | undefined;
  if (res.keyStateData !== undefined) {
    const d = asObject(res.keyStateData, 'keyStateData');
    onlyFields(d, ['rewrappedKeyVersion'], 'keyStateData');
    rewrapped = optString(d, 'rewrappedKeyVersion');
  }
  if (state === 'DEK_ENABLED' && rewrapped === undefined)
    throw invalidField('rewrappedKeyVersion', 'given when adopterKeyState is DEK_ENABLED');
  if (rewrapped !== undefined) r.audit.version = rewrapped;
  const d = await r.deps.service.acknowledgeEvent(r.instance.id, eventId, {
    ...(deleteRegistration !== undefined ? { deleteRegistration } : {}),
  });
  r.audit.key = d.keyId;
  return noContent();
}
