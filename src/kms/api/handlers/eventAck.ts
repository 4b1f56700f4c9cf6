/**
 * POST /api/v2/event_ack (key-protect.md 1.6): a registered service
 * acknowledges a lifecycle event. Coffer delivers events in process and keeps
 * no outstanding-event table, so an acknowledgement is validated and audited
 * (with the rewrapped version it reports) and answered 204.
 */
import { authorize, requireService } from '../access.js';
import type { ApiRequest, Reply } from '../context.js';
import { invalidField } from '../errors.js';
import { asObject, onlyFields, onlyQuery, optBool, optString, parseEnvelope } from '../schema.js';
import { MEDIA, noContent } from './common.js';

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
  optBool(res, 'deleteRegistration');
  let rewrapped: string | undefined;
  if (res.keyStateData !== undefined) {
    const d = asObject(res.keyStateData, 'keyStateData');
    onlyFields(d, ['rewrappedKeyVersion'], 'keyStateData');
    rewrapped = optString(d, 'rewrappedKeyVersion');
  }
  if (state === 'DEK_ENABLED' && rewrapped === undefined)
    throw invalidField('rewrappedKeyVersion', 'given when adopterKeyState is DEK_ENABLED');
  if (rewrapped !== undefined) r.audit.version = rewrapped;
  return noContent();
}
