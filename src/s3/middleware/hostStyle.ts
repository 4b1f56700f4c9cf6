/**
 * Bucket and key from the request: virtual-host style when the Host header is
 * `<bucket>.<baseDomain>`, path-style otherwise. Keys are decoded from the raw
 * path exactly once; '+' in a path is a literal plus, not a space.
 */
import { S3Error } from '../errors.js';

export interface Target {
  bucket?: string;
  key?: string;
  rawPath: string;
  rawQuery: string;
}

export function resolveTarget(url: string, host: string | undefined, baseDomain: string): Target {
  const q = url.indexOf('?');
  const rawPath = q >= 0 ? url.slice(0, q) : url;
  const rawQuery = q >= 0 ? url.slice(q + 1) : '';
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new S3Error('InvalidURI');
  }
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (baseDomain && hostname.endsWith('.' + baseDomain)) {
    const bucket = hostname.slice(0, -(baseDomain.length + 1));
    const key = path.startsWith('/') ? path.slice(1) : path;
    return { bucket, key: key === '' ? undefined : key, rawPath, rawQuery };
  }
  const rest = path.startsWith('/') ? path.slice(1) : path;
  if (rest === '') return { rawPath, rawQuery };
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: rest, rawPath, rawQuery };
  const key = rest.slice(slash + 1);
  return { bucket: rest.slice(0, slash), key: key === '' ? undefined : key, rawPath, rawQuery };
}
