import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FormError, formBoundary, readForm } from '../../../src/util/multipartForm.js';

const B = 'XyZ-boundary-123';

function form(parts: Array<{ name: string; value: string | Buffer; filename?: string; type?: string }>): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    let h = `--${B}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) h += `; filename="${p.filename}"`;
    h += '\r\n';
    if (p.type) h += `Content-Type: ${p.type}\r\n`;
    out.push(Buffer.from(h + '\r\n'), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${B}--\r\n`));
  return Buffer.concat(out);
}

/** The body cut into chunks of `size` bytes (boundaries then fall across chunks). */
function pieces(buf: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return chunks;
}
const chunked = (buf: Buffer, size: number): Readable => Readable.from(pieces(buf, size));

async function all(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

const opts = { boundary: B, fileField: 'file', maxFieldBytes: 20 * 1024 };

describe('formBoundary', () => {
  it('reads the boundary, quoted or not, and refuses other types', () => {
    expect(formBoundary(`multipart/form-data; boundary=${B}`)).toBe(B);
    expect(formBoundary(`Multipart/Form-Data; charset=utf-8; boundary="a b"`)).toBe('a b');
    expect(formBoundary('application/x-www-form-urlencoded')).toBeUndefined();
    expect(formBoundary('multipart/form-data')).toBeUndefined();
    expect(formBoundary(`multipart/form-data; boundary=${'x'.repeat(71)}`)).toBeUndefined();
  });
});

describe('readForm', () => {
  const file = Buffer.alloc(300_000);
  for (let i = 0; i < file.length; i++) file[i] = (i * 7) & 0xff;
  // A file holding most of the delimiter, and CRLFs, must come through intact.
  file.write(`\r\n--${B.slice(0, -1)}`, 1000, 'latin1');
  const body = form([
    { name: 'key', value: 'user/${filename}' },
    { name: 'Policy', value: 'eyJ9' },
    { name: 'x-amz-meta-note', value: 'h\u00e9llo\r\nline two' },
    { name: 'file', value: file, filename: 'cat \\"1\\".jpg', type: 'image/jpeg' },
    { name: 'after', value: 'ignored' },
  ]);

  for (const size of [1, 7, 64, 4096, 65536, body.length]) {
    it(`gives the fields and streams the file, in chunks of ${size}`, async () => {
      const f = await readForm(chunked(body, size), opts);
      expect(f.fields).toEqual([
        { name: 'key', value: 'user/${filename}' },
        { name: 'Policy', value: 'eyJ9' },
        { name: 'x-amz-meta-note', value: 'h\u00e9llo\r\nline two' },
      ]);
      expect(f.file?.filename).toBe('cat "1".jpg');
      expect(f.file?.contentType).toBe('image/jpeg');
      expect((await all(f.file!.stream)).equals(file)).toBe(true);
      await f.drain();
    });
  }

  it('reads the file lazily: nothing past the file headers is pulled before the stream is read', async () => {
    let pulled = 0;
    const chunks = pieces(body, 1024);
    const src = Readable.from(
      (function* () {
        for (const c of chunks) {
          pulled++;
          yield c;
        }
      })(),
    );
    const f = await readForm(src, opts);
    expect(pulled).toBeLessThan(3);
    await all(f.file!.stream);
    expect(pulled).toBeGreaterThan(250);
  });

  it('a form without a file gives the fields only', async () => {
    const f = await readForm(chunked(form([{ name: 'a', value: '1' }]), 5), opts);
    expect(f.fields).toEqual([{ name: 'a', value: '1' }]);
    expect(f.file).toBeUndefined();
  });

  it('finds the file field case-insensitively and allows a preamble', async () => {
    const b = Buffer.concat([Buffer.from('preamble\r\n'), form([{ name: 'FILE', value: 'abc' }])]);
    const f = await readForm(chunked(b, 3), opts);
    expect(f.file?.name).toBe('FILE');
    expect(f.file?.filename).toBe('');
    expect((await all(f.file!.stream)).toString()).toBe('abc');
  });

  it('refuses fields over the bound', async () => {
    const big = form([
      { name: 'a', value: 'x'.repeat(15_000) },
      { name: 'b', value: 'y'.repeat(6_000) },
      { name: 'file', value: 'z' },
    ]);
    await expect(readForm(chunked(big, 1000), opts)).rejects.toMatchObject({ reason: 'fields-too-large' });
    // One huge field without its delimiter must not be read to the end either.
    const endless = Readable.from(
      (function* () {
        yield Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n`);
        for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024, 0x61);
      })(),
    );
    await expect(readForm(endless, opts)).rejects.toBeInstanceOf(FormError);
  });

  it('refuses malformed forms', async () => {
    const bad = [
      `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue`,
      `--${B}\r\nContent-Type: text/plain\r\n\r\nvalue\r\n--${B}--`,
      `--${B}\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n--${B}--`,
      `--${B}\r\nno colon here\r\n\r\nv\r\n--${B}--`,
      `--${B}\r\nContent-Disposition: form-data; filename="x"\r\n\r\nv\r\n--${B}--`,
      'nothing at all',
    ];
    for (const b of bad)
      await expect(readForm(chunked(Buffer.from(b), 4), opts), b).rejects.toMatchObject({ reason: 'malformed' });
  });

  it('a body cut inside the file fails the file stream', async () => {
    const cut = body.subarray(0, body.length - 200_000);
    const f = await readForm(chunked(cut, 1000), opts);
    await expect(all(f.file!.stream)).rejects.toBeInstanceOf(FormError);
  });
});
