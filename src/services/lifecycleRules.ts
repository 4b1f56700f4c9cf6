/**
 * Which lifecycle rule applies to what, and when (no I/O). Shared by the
 * x-amz-expiration header and the background worker (lifecycleWorker.ts), so
 * what a response promises is what the worker does.
 *
 * Times as AWS computes them: the object's creation (or, for a noncurrent
 * version, the moment it became noncurrent) plus the rule's days, rounded up
 * to the next day boundary (midnight UTC). "A day" is `dayMs`: 86 400 000
 * normally, shorter in tests (COFFER_LIFECYCLE_DAY_SECONDS), the day
 * boundaries then being multiples of it since the epoch.
 */
import type { LifecycleRule } from '../meta/records.js';

export const DAY_MS = 86_400_000;

/** What a filter looks at. `tags` undefined: not known (a delete marker has none). */
export interface LifecycleSubject {
  key: string;
  size: number;
  tags?: Record<string, string>;
}

/** The first day boundary at or after `ms`. */
export function dayBoundary(ms: number, dayMs: number): number {
  return Math.ceil(ms / dayMs) * dayMs;
}

/** `days` after `since`, rounded up to a day boundary. */
export function afterDays(since: number, days: number, dayMs: number): number {
  return dayBoundary(since + days * dayMs, dayMs);
}

/** The rule filters on tags (so the worker must open a version's seal to judge it). */
export function filtersOnTags(rule: LifecycleRule): boolean {
  return (rule.tags?.length ?? 0) > 0;
}

/** Every condition of the rule's filter holds for `s` (an empty filter holds for everything). */
export function filterMatches(rule: LifecycleRule, s: LifecycleSubject): boolean {
  if (rule.prefix !== undefined && !s.key.startsWith(rule.prefix)) return false;
  if (rule.sizeGreaterThan !== undefined && !(s.size > rule.sizeGreaterThan)) return false;
  if (rule.sizeLessThan !== undefined && !(s.size < rule.sizeLessThan)) return false;
  for (const t of rule.tags ?? []) {
    if (!s.tags || !Object.hasOwn(s.tags, t.key) || s.tags[t.key] !== t.value) return false;
  }
  return true;
}

export const enabledRules = (rules: readonly LifecycleRule[] | undefined): LifecycleRule[] =>
  (rules ?? []).filter((r) => r.status === 'Enabled');

/** When a rule expires a current version, and which: the earliest, as AWS reports it. */
export interface Expiry {
  at: number;
  ruleId: string;
}

/**
 * The expiration of a current (non-marker) version created at `created`: the
 * earliest of the enabled, matching rules with Expiration Days or Date.
 */
export function currentExpiry(
  rules: readonly LifecycleRule[] | undefined,
  s: LifecycleSubject,
  created: number,
  dayMs: number,
): Expiry | undefined {
  let best: Expiry | undefined;
  for (const r of enabledRules(rules)) {
    const e = r.expiration;
    if (!e || (e.days === undefined && e.date === undefined) || !filterMatches(r, s)) continue;
    const at = e.days !== undefined ? afterDays(created, e.days, dayMs) : e.date!;
    if (!best || at < best.at) best = { at, ruleId: r.id };
  }
  return best;
}

/**
 * A noncurrent version that became noncurrent at `since`, with `newer` noncurrent
 * versions of its key newer than it: due for removal at `now` by some enabled,
 * matching rule (NoncurrentDays passed and, with NewerNoncurrentVersions, at
 * least that many newer noncurrent versions kept).
 */
export function noncurrentDue(
  rules: readonly LifecycleRule[] | undefined,
  s: LifecycleSubject,
  since: number,
  newer: number,
  now: number,
  dayMs: number,
): LifecycleRule | undefined {
  return enabledRules(rules).find((r) => {
    const n = r.noncurrentExpiration;
    if (!n || !filterMatches(r, s)) return false;
    if (n.newerNoncurrentVersions !== undefined && newer < n.newerNoncurrentVersions) return false;
    return now >= afterDays(since, n.noncurrentDays, dayMs);
  });
}

/**
 * A current delete marker with no noncurrent versions left (an expired object
 * delete marker), written at `created`: the enabled, matching rule that removes
 * it at `now`. ExpiredObjectDeleteMarker removes it at once; as on AWS, an
 * Expiration with Days does too once the marker is that old, and one with a
 * Date once the date has passed.
 */
export function expiredMarkerRule(
  rules: readonly LifecycleRule[] | undefined,
  key: string,
  created: number,
  now: number,
  dayMs: number,
): LifecycleRule | undefined {
  // A marker has no size and no tags: a tag filter never names it, a size filter is judged against 0.
  return enabledRules(rules).find((r) => {
    const e = r.expiration;
    if (!e || filtersOnTags(r) || !filterMatches(r, { key, size: 0, tags: {} })) return false;
    if (e.expiredObjectDeleteMarker === true) return true;
    if (e.days !== undefined) return now >= afterDays(created, e.days, dayMs);
    return e.date !== undefined && now >= e.date;
  });
}

/**
 * An incomplete multipart upload started at `initiated`: due for abort at `now`.
 * An upload has no size yet (and AWS refuses tag filters here): a rule with a
 * size condition does not name it.
 */
export function uploadAbortDue(
  rules: readonly LifecycleRule[] | undefined,
  key: string,
  initiated: number,
  now: number,
  dayMs: number,
): LifecycleRule | undefined {
  return enabledRules(rules).find(
    (r) =>
      r.abortIncompleteUploadDays !== undefined &&
      r.sizeGreaterThan === undefined &&
      r.sizeLessThan === undefined &&
      !filtersOnTags(r) &&
      (r.prefix === undefined || key.startsWith(r.prefix)) &&
      now >= afterDays(initiated, r.abortIncompleteUploadDays, dayMs),
  );
}

/**
 * The x-amz-expiration header value for a current version (AWS's form:
 * `expiry-date="<HTTP date>", rule-id="<id>"`). A rule id may hold any
 * character: what a header value cannot carry, and the quote and backslash, are
 * percent-encoded.
 */
export function expirationHeaderValue(e: Expiry): string {
  const id = e.ruleId.replace(/[^\x20-\x7e]|["\\%]/gu, (c) => encodeURIComponent(c));
  return `expiry-date="${new Date(e.at).toUTCString()}", rule-id="${id}"`;
}

/** x-amz-expiration for a response about a current version, or no header. */
export function expirationHeader(
  rules: readonly LifecycleRule[] | undefined,
  s: LifecycleSubject,
  created: number,
  dayMs: number,
): Record<string, string> {
  if (!rules || rules.length === 0) return {};
  const e = currentExpiry(rules, s, created, dayMs);
  return e ? { 'x-amz-expiration': expirationHeaderValue(e) } : {};
}
