import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBodyDecoder, declaredLength, stripAwsChunked } from '../../../../src/auth/sigv4/bodyDecoder.js';
import { SigV4Error, type SigV4ErrorCode } from '../../../../src/auth/sigv4/errors.js';
import { authFor, run, session, splitAt } from './chunkedFixtures.js';

const S = session();

async function expectError(p: Promise<{ error?: Error; ended: boolean }>, code: SigV4ErrorCode): Promise<void> {
  const r = await p;
  expect(r.error).toBeInstanceOf(SigV4Error);
  expect((r.error as SigV4Error).code).toBe(code);
  expect(r.ended).toBe(false);
}

describe('non-chunked bodies', () => {
  const body = Buffer.from('Welcome to Amazon S3.');
  const hash = createHash('sha256').update(body).digest('hex');

  it('sha256: passes the body through when the hash matches', async () => {
    const d = createBodyDecoder(
      { ...authFor(S, 'sha256'), payloadHash: hash },
      { 'content-length': String(body.length) },
    );
    expect(d.expectedLength).toBe(body.length);
    const r = await run(d.stream, splitAt(body, 3, 10));
    expect(r.error).toBeUndefined();
    expect(r.output.equals(body)).toBe(true);
    expect(d.result()).toEqual({ trailers: {}, decodedLength: body.length });
  });

  it('sha256: a mismatch errors the stream before it ends', async () => {
    const d = createBodyDecoder({ ...authFor(S, 'sha256'), payloadHash: hash }, {});
    await expectError(run(d.stream, [Buffer.from('Welcome to Amazon S4.')]), 'XAmzContentSHA256Mismatch');
  });

  it('unsigned: passes anything through', async () => {
    const d = createBodyDecoder(authFor(S, 'unsigned'), {});
    expect(d.expectedLength).toBeUndefined();
    const r = await run(d.stream, [body]);
    expect(r.output.equals(body)).toBe(true);
    expect(d.result().decodedLength).toBe(body.length);
  });
});

describe('createBodyDecoder: headers', () => {
  it('streaming without x-amz-decoded-content-length -> MissingContentLength', () => {
    expect(() => createBodyDecoder(authFor(S, 'streaming-unsigned-trailer'), { 'content-length': '10' })).toThrow(
      expect.objectContaining({ code: 'MissingContentLength' }),
    );
  });

  it('a malformed length -> InvalidArgument', () => {
    expect(() => createBodyDecoder(authFor(S, 'streaming-signed'), { 'x-amz-decoded-content-length': '-1' })).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' }),
    );
  });

  it('declaredLength: x-amz-decoded-content-length for an aws-chunked body, Content-Length otherwise', () => {
    const both = { 'content-length': '200', 'x-amz-decoded-content-length': '150' };
    for (const mode of ['streaming-signed', 'streaming-signed-trailer', 'streaming-unsigned-trailer'] as const)
      expect(declaredLength(mode, both)).toBe(150);
    for (const mode of ['sha256', 'unsigned'] as const) expect(declaredLength(mode, both)).toBe(200);
    expect(declaredLength('unsigned', {})).toBeUndefined();
    expect(declaredLength('sha256', { 'content-length': ' 7 ' })).toBe(7);
    expect(() => declaredLength('streaming-signed', { 'content-length': '10' })).toThrow(
      expect.objectContaining({ code: 'MissingContentLength' }),
    );
    expect(() => declaredLength('streaming-signed', { 'x-amz-decoded-content-length': 'ten' })).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' }),
    );
  });

  it('stripAwsChunked removes only the aws-chunked coding', () => {
    expect(stripAwsChunked('aws-chunked')).toBeUndefined();
    expect(stripAwsChunked('aws-chunked,gzip')).toBe('gzip');
    expect(stripAwsChunked('gzip, AWS-Chunked')).toBe('gzip');
    expect(stripAwsChunked(undefined)).toBeUndefined();
  });
});
