/**
 * A streaming multipart/form-data reader (RFC 7578) for browser uploads.
 *
 * S3's POST Object puts the text fields first and the file last; fields after
 * the file are ignored. So this reads the fields into memory (bounded: their
 * total size, headers included, may not exceed `maxFieldBytes`), and as soon as
 * the headers of the file part are read it hands back the file's bytes as a
 * Readable that pulls from the request on demand: the file is never buffered,
 * backpressure reaches the socket, and memory stays at about one chunk.
 *
 * Written here rather than taken from a library: the format needed is small
 * (no nested multipart/mixed, no charset games), and the S3 rules (file last,
 * a bounded prefix, nothing read past the file) are easier to hold exactly in
 * ~200 lines than to bend a general parser to.
 */
import { Readable } from 'node:stream';

export type FormErrorReason = 'malformed' | 'fields-too-large';

export class FormError extends Error {
  constructor(
    readonly reason: FormErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'FormError';
  }
}

export interface FormField {
  /** The field name as sent (case kept: the caller decides how to compare). */
  name: string;
  value: string;
}

export interface FormFile {
  /** The part's field name. */
  name: string;
  /** The filename parameter of its Content-Disposition ('' when absent). */
  filename: string;
  /** The part's Content-Type header, if any. */
  contentType?: string;
  /** The file's bytes; errors with FormError('malformed') if the body ends before the part's delimiter. */
  stream: Readable;
}

export interface ParsedForm {
  /** The fields before the file, in order. */
  fields: FormField[];
  /** The first part named `fileField`, or undefined when the form has none. */
  file?: FormFile;
  /**
   * Read and discard the rest of the body (what follows the file, or the file
   * itself when the upload was refused first), up to `limit` bytes.
   * @returns true when the body ended within the limit
   */
  drain(limit?: number): Promise<boolean>;
}

export interface FormOptions {
  /** The boundary parameter of the request's Content-Type. */
  boundary: string;
  /** Which part is the file (S3: "file", compared case-insensitively). */
  fileField: string;
  /** Bound on everything before the file part (S3: 20 KiB). */
  maxFieldBytes: number;
}

/** The boundary of a `multipart/form-data; boundary=...` Content-Type, or undefined. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [type, ...params] = contentType.split(';');
  if (type?.trim().toLowerCase() !== 'multipart/form-data') return undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let v = p.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    // RFC 2046: 1 to 70 characters.
    return v.length >= 1 && v.length <= 70 ? v : undefined;
  }
  return undefined;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** Parse one part's header block into lower-cased names. */
function partHeaders(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FormError('malformed', 'A part header line has no name.');
    out.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return out;
}

/** name and filename of a `form-data; name="x"; filename="y"` disposition. */
function disposition(value: string | undefined): { name: string; filename?: string } {
  if (value === undefined) throw new FormError('malformed', 'A part has no Content-Disposition.');
  const m = /^\s*form-data\s*(;.*)?$/i.exec(value);
  if (!m) throw new FormError('malformed', 'A part is not form-data.');
  const params = new Map<string, string>();
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let p = re.exec(m[1] ?? ''); p; p = re.exec(m[1] ?? '')) {
    const raw = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '').trim();
    params.set(p[1]!.toLowerCase(), raw);
  }
  const name = params.get('name');
  if (name === undefined) throw new FormError('malformed', 'A part has no name.');
  return { name, filename: params.get('filename') };
}

/**
 * Read a form up to and including the headers of its file part.
 * @param body the request body (an async-iterable stream of Buffers)
 * @param opts boundary, the file field's name and the bound on the fields
 * @returns the fields and, when present, the file with its streaming body
 * @throws FormError on a malformed form or fields over the bound
 */
export async function readForm(body: AsyncIterable<Buffer>, opts: FormOptions): Promise<ParsedForm> {
  const it = body[Symbol.asyncIterator]();
  let buf: Buffer = Buffer.alloc(0);
  let consumed = 0;
  let ended = false;
  /** Append the next chunk; false at the end of the body. */
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const n = await it.next();
    if (n.done) {
      ended = true;
      return false;
    }
    const chunk = n.value;
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    return true;
  };
  const take = (n: number): Buffer => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    consumed += n;
    if (consumed > opts.maxFieldBytes)
      throw new FormError('fields-too-large', 'The fields before the file are too large.');
    return out;
  };
  /** Bytes up to `needle` (removed with it), within the field bound. */
  const until = async (needle: Buffer): Promise<Buffer> => {
    for (;;) {
      const i = buf.indexOf(needle);
      if (i >= 0) {
        const out = take(i);
        take(needle.length);
        return out;
      }
      if (consumed + buf.length > opts.maxFieldBytes + needle.length)
        throw new FormError('fields-too-large', 'The fields before the file are too large.');
      if (!(await more())) throw new FormError('malformed', 'The form ended before its closing boundary.');
    }
  };
  const need = async (n: number): Promise<void> => {
    while (buf.length < n) if (!(await more())) throw new FormError('malformed', 'The form ended early.');
  };

  const dash = Buffer.from(`--${opts.boundary}`);
  const delimiter = Buffer.from(`\r\n--${opts.boundary}`);
  // The preamble (usually empty) ends at the first boundary line.
  await need(dash.length);
  if (buf.subarray(0, dash.length).equals(dash)) take(dash.length);
  else await until(delimiter);

  const fields: FormField[] = [];
  for (;;) {
    // After a boundary: "--" closes the form, CRLF opens a part (transport padding allowed).
    await need(2);
    if (buf[0] === 0x2d && buf[1] === 0x2d) return { fields, drain };
    const pad = await until(CRLF);
    if (pad.toString('latin1').trim() !== '') throw new FormError('malformed', 'Garbage after a boundary.');
    let headers: Map<string, string>;
    await need(2);
    if (buf.subarray(0, 2).equals(CRLF)) {
      take(2);
      headers = new Map();
    } else {
      headers = partHeaders((await until(HEADER_END)).toString('utf8'));
    }
    const d = disposition(headers.get('content-disposition'));
    if (d.name.toLowerCase() === opts.fileField.toLowerCase()) {
      const file: FormFile = {
        name: d.name,
        filename: d.filename ?? '',
        stream: Readable.from(fileBytes(), { objectMode: false }),
      };
      const ct = headers.get('content-type');
      if (ct !== undefined) file.contentType = ct;
      return { fields, file, drain };
    }
    fields.push({ name: d.name, value: (await until(delimiter)).toString('utf8') });
  }

  /** Read and drop what follows, up to `limit` bytes; true when the body ended within it. */
  async function drain(limit = Infinity): Promise<boolean> {
    let n = buf.length;
    buf = Buffer.alloc(0);
    while (n <= limit) {
      if (!(await more())) return true;
      n += buf.length;
      buf = Buffer.alloc(0);
    }
    return false;
  }

  /** The file part's bytes: all but a delimiter's length of the buffer at a time, until the delimiter. */
  async function* fileBytes(): AsyncGenerator<Buffer> {
    for (;;) {
      const i = buf.indexOf(delimiter);
      if (i >= 0) {
        if (i > 0) yield buf.subarray(0, i);
        buf = buf.subarray(i + delimiter.length);
        return;
      }
      const keep = delimiter.length - 1;
      if (buf.length > keep) {
        const out = buf.subarray(0, buf.length - keep);
        buf = Buffer.from(buf.subarray(buf.length - keep));
        yield out;
      }
      if (!(await more())) throw new FormError('malformed', 'The form ended inside the file.');
    }
  }
}
