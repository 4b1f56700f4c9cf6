/**
 * SigV4 timestamps: ISO 8601 basic (`20150830T123600Z`) as in x-amz-date and
 * X-Amz-Date, and the HTTP Date header some clients send instead.
 */

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parse an ISO 8601 basic timestamp; undefined when malformed or not a real date. */
export function parseAmzDate(s: string): Date | undefined {
  const m = AMZ_DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  return t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && h < 24 && mi < 60 && se < 60 ? t : undefined;
}

/** Format a Date as an ISO 8601 basic timestamp (20150830T123600Z). */
export function formatAmzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Parse an HTTP Date header (RFC 7231 IMF-fixdate and the obsolete forms Date.parse accepts). */
export function parseHttpDate(s: string | undefined): Date | undefined {
  if (s === undefined) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
