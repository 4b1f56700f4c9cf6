import { describe, expect, it } from 'vitest';
import { parseXml } from '../../../../src/s3/xml/decode.js';
import { httpDate, isoDate, quoteEtag, renderXml, urlEncodeKey } from '../../../../src/s3/xml/encode.js';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

describe('renderXml', () => {
  it('puts the declaration first and the S3 namespace on the root by default', () => {
    expect(renderXml({ root: 'LocationConstraint', body: {} })).toBe(
      `${DECL}<LocationConstraint xmlns="${NS}"></LocationConstraint>`,
    );
    expect(renderXml({ root: 'R', ns: true, body: { A: 'x' } })).toBe(`${DECL}<R xmlns="${NS}"><A>x</A></R>`);
  });

  it('ns: false leaves the namespace off (error documents)', () => {
    expect(renderXml({ root: 'Error', ns: false, body: { Code: 'NoSuchKey', Message: 'm' } })).toBe(
      `${DECL}<Error><Code>NoSuchKey</Code><Message>m</Message></Error>`,
    );
  });

  it('escapes < > & \' " in text, so keys survive a round trip through a parser', () => {
    const key = `a<b>c&d'e"f</Key><Injected>`;
    const xml = renderXml({ root: 'R', ns: false, body: { Key: key } });
    expect(xml).not.toContain('<Injected>');
    expect(xml).toContain('&lt;');
    expect(xml).toContain('&amp;');
    expect(parseXml(xml)).toMatchObject({ R: { Key: key } });
  });

  it('escapes an already-escaped-looking key again (no double meaning)', () => {
    const xml = renderXml({ root: 'R', ns: false, body: { Key: 'a&amp;b&#65;' } });
    expect(xml).toContain('<Key>a&amp;amp;b&amp;#65;</Key>');
    expect(parseXml(xml)).toMatchObject({ R: { Key: 'a&amp;b&#65;' } });
  });

  it('keeps unicode as UTF-8 text', () => {
    const xml = renderXml({ root: 'R', ns: false, body: { Key: 'été/日本/😀' } });
    expect(xml).toContain('<Key>été/日本/😀</Key>');
  });

  it('a carriage return in a key is written as a character reference (XML parsers turn a raw CR into LF)', () => {
    const xml = renderXml({ root: 'R', ns: false, body: { Key: 'a\rb\r\nc' } });
    expect(xml).not.toContain('\r');
    expect(xml).toMatch(/a&#(13|x[dD]);b/);
  });

  it('renders arrays as repeated elements, in order', () => {
    const xml = renderXml({
      root: 'ListBucketResult',
      ns: false,
      body: {
        Name: 'b',
        Contents: [
          { Key: 'a', Size: 1 },
          { Key: 'b', Size: 2 },
        ],
        CommonPrefixes: [{ Prefix: 'p/' }],
      },
    });
    expect(xml).toBe(
      `${DECL}<ListBucketResult><Name>b</Name><Contents><Key>a</Key><Size>1</Size></Contents><Contents><Key>b</Key><Size>2</Size></Contents><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>`,
    );
  });

  it('an empty array renders nothing', () => {
    expect(renderXml({ root: 'R', ns: false, body: { A: 'x', Contents: [], B: 'y' } })).toBe(
      `${DECL}<R><A>x</A><B>y</B></R>`,
    );
  });

  it('drops undefined fields at every depth, keeps empty strings, zero and false', () => {
    const xml = renderXml({
      root: 'R',
      ns: false,
      body: {
        Gone: undefined,
        Empty: '',
        Zero: 0,
        False: false,
        True: true,
        Nested: { Keep: 'k', Drop: undefined },
        List: [{ In: 1, Out: undefined }],
      },
    });
    expect(xml).toBe(
      `${DECL}<R><Empty></Empty><Zero>0</Zero><False>false</False><True>true</True><Nested><Keep>k</Keep></Nested><List><In>1</In></List></R>`,
    );
    expect(xml).not.toContain('Gone');
    expect(xml).not.toContain('Drop');
    expect(xml).not.toContain('undefined');
  });

  it('does not mutate the document it renders', () => {
    const body = { A: undefined, B: [{ C: undefined, D: 'd' }] };
    renderXml({ root: 'R', body });
    expect(body).toEqual({ A: undefined, B: [{ C: undefined, D: 'd' }] });
    expect('@_xmlns' in body).toBe(false);
  });

  it('renders numbers as plain decimals (sizes beyond 2^32)', () => {
    expect(renderXml({ root: 'R', ns: false, body: { Size: 5 * 1024 ** 4 } })).toContain('<Size>5497558138880</Size>');
  });
});

describe('urlEncodeKey (encoding-type=url)', () => {
  it('keeps unreserved characters and "/"', () => {
    expect(urlEncodeKey('AZaz09-_.~/dir/')).toBe('AZaz09-_.~/dir/');
  });

  it('encodes space as %20 and "+" as %2B', () => {
    expect(urlEncodeKey('a b+c')).toBe('a%20b%2Bc');
  });

  it("encodes !'()* too (encodeURIComponent leaves them)", () => {
    expect(urlEncodeKey("!'()*")).toBe('%21%27%28%29%2A');
  });

  it('encodes reserved and XML-special characters', () => {
    expect(urlEncodeKey('?#&=%:;,@$<>"')).toBe('%3F%23%26%3D%25%3A%3B%2C%40%24%3C%3E%22');
  });

  it('encodes UTF-8 bytes with upper-case hex', () => {
    expect(urlEncodeKey('é😀')).toBe('%C3%A9%F0%9F%98%80');
  });

  it('encodes control characters that XML cannot carry', () => {
    expect(urlEncodeKey('a\r\n\u0001b')).toBe('a%0D%0A%01b');
  });

  it('round-trips through decodeURIComponent for any key', () => {
    for (const k of ['plain', 'with space', 'a+b', "it's (1)*!", 'dir/sub/', '100%', 'é/😀/日本', '\u0001\u007f']) {
      expect(decodeURIComponent(urlEncodeKey(k))).toBe(k);
    }
  });
});

describe('dates and ETags', () => {
  it('isoDate is ISO-8601 UTC with milliseconds', () => {
    expect(isoDate(Date.UTC(2024, 0, 2, 3, 4, 5, 6))).toBe('2024-01-02T03:04:05.006Z');
  });

  it('httpDate is RFC 1123 (IMF-fixdate)', () => {
    expect(httpDate(Date.UTC(2024, 0, 2, 3, 4, 5, 999))).toBe('Tue, 02 Jan 2024 03:04:05 GMT');
  });

  it('quoteEtag wraps in double quotes', () => {
    expect(quoteEtag('d41d8cd98f00b204e9800998ecf8427e')).toBe('"d41d8cd98f00b204e9800998ecf8427e"');
    expect(quoteEtag('abc-2')).toBe('"abc-2"');
  });
});
