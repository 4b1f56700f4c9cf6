/**
 * What the kube-apiserver checks in a KMS v2 plugin's answers before it uses
 * them (k8s.io/apiserver .../envelope/kmsv2: validateEncryptedDEKSource,
 * ValidateKeyID, validateAnnotations, and the Status probe), restated here so
 * a test fails where a real API server would refuse the plugin.
 */
import type { EncryptResponse, StatusResponse } from '../../../src/k8s/kmsApi.js';

const MAX_CIPHERTEXT = 1024;
const MAX_KEY_ID = 1024;
const MAX_ANNOTATIONS = 32 * 1024;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** IsFullyQualifiedDomainName: a lowercase RFC 1123 subdomain of at most 253 characters with at least two labels. */
export function isFqdn(name: string): boolean {
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name) && name.split('.').length >= 2;
}

/** The reasons the API server would refuse this EncryptResponse (empty: accepted). */
export function encryptProblems(r: EncryptResponse): string[] {
  const out: string[] = [];
  if (r.ciphertext.length === 0 || r.ciphertext.length > MAX_CIPHERTEXT)
    out.push(`ciphertext is ${r.ciphertext.length} bytes`);
  if (r.key_id.length === 0 || r.key_id.length > MAX_KEY_ID) out.push(`key_id is ${r.key_id.length} characters`);
  let size = 0;
  for (const [k, v] of Object.entries(r.annotations)) {
    if (!isFqdn(k)) out.push(`annotation key ${k} is not a fully qualified domain name`);
    size += k.length + v.length;
  }
  if (size > MAX_ANNOTATIONS) out.push(`annotations are ${size} bytes`);
  return out;
}

/** The reasons the API server's health check would fail on this StatusResponse. */
export function statusProblems(s: StatusResponse): string[] {
  const out: string[] = [];
  if (s.version !== 'v2') out.push(`version ${s.version}`);
  if (s.healthz !== 'ok') out.push(`healthz ${s.healthz}`);
  if (s.key_id.length === 0 || s.key_id.length > MAX_KEY_ID) out.push(`key_id is ${s.key_id.length} characters`);
  return out;
}
