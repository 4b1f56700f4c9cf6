import { describe, expect, it } from 'vitest';
import { corsConfigurationDoc, decodeCorsConfiguration } from '../../../../src/s3/xml/corsXml.js';
import { renderXml } from '../../../../src/s3/xml/encode.js';

const rule = (inner: string) => `<CORSRule>${inner}</CORSRule>`;
const cfg = (...rules: string[]) =>
  `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.join('')}</CORSConfiguration>`;
const basic = '<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>';

describe('decodeCorsConfiguration', () => {
  it('reads every element, one or many, and round-trips through the GetBucketCors document', () => {
    const text = cfg(
      rule(
        '<ID>r1</ID><AllowedHeader>*</AllowedHeader><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>' +
          '<AllowedOrigin>https://*.a.com</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>' +
          '<MaxAgeSeconds>3000</MaxAgeSeconds>',
      ),
      rule(basic),
    );
    const rules = decodeCorsConfiguration(text);
    expect(rules).toEqual([
      {
        id: 'r1',
        allowedHeaders: ['*'],
        allowedMethods: ['PUT', 'POST'],
        allowedOrigins: ['https://*.a.com'],
        exposeHeaders: ['ETag', 'x-amz-request-id'],
        maxAgeSeconds: 3000,
      },
      { allowedHeaders: [], allowedMethods: ['GET'], allowedOrigins: ['*'], exposeHeaders: [] },
    ]);
    expect(decodeCorsConfiguration(renderXml(corsConfigurationDoc(rules)))).toEqual(rules);
  });

  it('refuses what AWS refuses', () => {
    const cases: Array<[string, string, RegExp?]> = [
      [cfg(), 'MalformedXML'],
      ['<Other/>', 'MalformedXML'],
      [cfg(rule('<AllowedOrigin>*</AllowedOrigin>')), 'MalformedXML'],
      [cfg(rule('<AllowedMethod>GET</AllowedMethod>')), 'MalformedXML'],
      [cfg(rule(basic + '<Bogus>1</Bogus>')), 'MalformedXML'],
      [
        cfg(rule('<AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin>')),
        'InvalidRequest',
        /Unsupported method is PATCH/,
      ],
      [cfg(rule('<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>')), 'InvalidRequest'],
      [
        cfg(rule('<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*.*</AllowedOrigin>')),
        'InvalidRequest',
        /more than one wildcard/,
      ],
      [cfg(rule(basic + '<AllowedHeader>x-*-*</AllowedHeader>')), 'InvalidRequest', /AllowedHeader/],
      [cfg(rule(basic + '<ExposeHeader>*</ExposeHeader>')), 'InvalidRequest', /ExposeHeader/],
      [cfg(rule(basic + '<MaxAgeSeconds>ten</MaxAgeSeconds>')), 'MalformedXML'],
      [cfg(rule(basic + `<ID>${'i'.repeat(256)}</ID>`)), 'InvalidArgument'],
      [cfg(...Array.from({ length: 101 }, () => rule(basic))), 'InvalidRequest', /100/],
    ];
    for (const [text, code, message] of cases) {
      let err: { code?: string; message?: string } | undefined;
      try {
        decodeCorsConfiguration(text);
      } catch (e) {
        err = e as typeof err;
      }
      expect(err?.code, text.slice(0, 200)).toBe(code);
      if (message) expect(err?.message).toMatch(message);
    }
    expect(decodeCorsConfiguration(cfg(...Array.from({ length: 100 }, () => rule(basic))))).toHaveLength(100);
  });
});
