/**
 * Reading one request header, for the S3 layer and the SigV4 verifier alike.
 * Node gives `req.headers` (repeated fields already combined by Node; only
 * set-cookie stays a list) and `req.headersDistinct` (every value a list, which
 * SigV4 verification needs): this takes either.
 */
export type HeaderMap = Record<string, string | string[] | undefined>;

export interface HeaderValueOptions {
  /**
   * What a field sent more than once reads as: 'join' (the default) combines the
   * values with ",", as a list-valued field means and as SigV4 canonicalizes;
   * 'first' takes the first, for singleton fields such as Authorization, where
   * Node too keeps the first and a combined value must never be parsed.
   */
  repeated?: 'join' | 'first';
}

/** The value of header `name` (lower-case), or undefined when it was not sent. */
export function headerValue(headers: HeaderMap, name: string, opts: HeaderValueOptions = {}): string | undefined {
  const v = headers[name];
  if (!Array.isArray(v)) return v;
  return opts.repeated === 'first' ? v[0] : v.join(',');
}
