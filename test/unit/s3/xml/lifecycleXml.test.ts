import { describe, expect, it } from 'vitest';
import { S3Error } from '../../../../src/s3/errors.js';
import { renderXml } from '../../../../src/s3/xml/encode.js';
import { decodeLifecycleConfiguration, lifecycleConfigurationDoc } from '../../../../src/s3/xml/lifecycleXml.js';

const cfg = (...rules: string[]) =>
  `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.map((r) => `<Rule>${r}</Rule>`).join('')}</LifecycleConfiguration>`;
const expire = '<Expiration><Days>3</Days></Expiration>';

function refused(text: string): S3Error {
  try {
    decodeLifecycleConfiguration(text);
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('decodeLifecycleConfiguration: what it accepts', () => {
  it('reads every filter form and action, and the GetBucketLifecycleConfiguration document says it back', () => {
    const text = cfg(
      `<ID>legacy</ID><Prefix>logs/</Prefix><Status>Enabled</Status>${expire}`,
      '<ID>one</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Disabled</Status>' +
        '<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>',
      '<ID>and</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>x</Key><Value>1</Value></Tag><Tag><Key>y</Key><Value></Value></Tag>' +
        '<ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter>' +
        '<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays>' +
        '<NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>',
      '<ID>all</ID><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>' +
        '<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
    );
    const rules = decodeLifecycleConfiguration(text);
    expect(rules).toEqual([
      { id: 'legacy', status: 'Enabled', filterForm: 'prefix', prefix: 'logs/', expiration: { days: 3 } },
      {
        id: 'one',
        status: 'Disabled',
        filterForm: 'filter',
        tags: [{ key: 'k', value: 'v' }],
        expiration: { date: Date.UTC(2030, 0, 1) },
      },
      {
        id: 'and',
        status: 'Enabled',
        filterForm: 'and',
        prefix: 'a/',
        tags: [
          { key: 'x', value: '1' },
          { key: 'y', value: '' },
        ],
        sizeGreaterThan: 10,
        sizeLessThan: 100,
        noncurrentExpiration: { noncurrentDays: 7, newerNoncurrentVersions: 2 },
      },
      {
        id: 'all',
        status: 'Enabled',
        filterForm: 'filter',
        expiration: { expiredObjectDeleteMarker: true },
        abortIncompleteUploadDays: 1,
      },
    ]);
    const xml = renderXml(lifecycleConfigurationDoc(rules));
    expect(xml).toContain('<Rule><Expiration><Days>3</Days></Expiration><ID>legacy</ID><Prefix>logs/</Prefix>');
    expect(xml).toContain('<Filter><And><Prefix>a/</Prefix><Tag><Key>x</Key><Value>1</Value></Tag>');
    expect(xml).toContain('<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration><ID>one</ID>');
    expect(xml).toContain('<ID>all</ID><Filter></Filter><Status>Enabled</Status>');
    // What the document says reads back as the same rules.
    expect(decodeLifecycleConfiguration(xml)).toEqual(rules);
  });

  it('names a rule sent without an ID, and keeps a prefix as sent (spaces included)', () => {
    const [r] = decodeLifecycleConfiguration(
      cfg(`<Filter><Prefix> a </Prefix></Filter><Status>Enabled</Status>${expire}`),
    );
    expect(r!.id).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(r!.prefix).toBe(' a ');
  });

  it('takes 1000 rules', () => {
    const rules = Array.from({ length: 1000 }, (_, i) => `<ID>r${i}</ID><Filter/><Status>Enabled</Status>${expire}`);
    expect(decodeLifecycleConfiguration(cfg(...rules))).toHaveLength(1000);
  });
});

describe('decodeLifecycleConfiguration: what it refuses, with AWS codes', () => {
  const cases: Array<[string, string, string | RegExp]> = [
    ['not XML', '<LifecycleConfiguration><Rule>', 'MalformedXML'],
    ['another root', '<CORSConfiguration/>', 'MalformedXML'],
    ['no rule', cfg(), 'MalformedXML'],
    [
      '1001 rules',
      cfg(...Array.from({ length: 1001 }, (_, i) => `<ID>r${i}</ID><Filter/><Status>Enabled</Status>${expire}`)),
      'MalformedXML',
    ],
    ['an unknown element', cfg(`<Filter/><Status>Enabled</Status>${expire}<Colour>red</Colour>`), 'MalformedXML'],
    ['a bad Status', cfg(`<Filter/><Status>enabled</Status>${expire}`), 'MalformedXML'],
    ['no Status', cfg(`<Filter/>${expire}`), 'MalformedXML'],
    ['neither Filter nor Prefix', cfg(`<Status>Enabled</Status>${expire}`), 'MalformedXML'],
    ['both Filter and Prefix', cfg(`<Prefix>a</Prefix><Filter/><Status>Enabled</Status>${expire}`), 'MalformedXML'],
    [
      'two conditions in a Filter',
      cfg(
        `<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status>${expire}`,
      ),
      'MalformedXML',
    ],
    [
      'two tags without And',
      cfg(
        `<Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>1</Value></Tag></Filter><Status>Enabled</Status>${expire}`,
      ),
      'MalformedXML',
    ],
    ['an empty And', cfg(`<Filter><And></And></Filter><Status>Enabled</Status>${expire}`), 'MalformedXML'],
    [
      'a duplicate tag key',
      cfg(
        `<Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status>${expire}`,
      ),
      'InvalidArgument',
    ],
    [
      'a tag without a value',
      cfg(`<Filter><Tag><Key>a</Key></Tag></Filter><Status>Enabled</Status>${expire}`),
      'MalformedXML',
    ],
    [
      'a tag key of 129 characters',
      cfg(`<Filter><Tag><Key>${'k'.repeat(129)}</Key><Value>1</Value></Tag></Filter><Status>Enabled</Status>${expire}`),
      'InvalidTag',
    ],
    [
      'a size that is no number',
      cfg(`<Filter><ObjectSizeGreaterThan>big</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>${expire}`),
      'MalformedXML',
    ],
    [
      'size bounds the wrong way round',
      cfg(
        `<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>${expire}`,
      ),
      'InvalidArgument',
    ],
    [
      'an ID of 256 characters',
      cfg(`<ID>${'i'.repeat(256)}</ID><Filter/><Status>Enabled</Status>${expire}`),
      'InvalidArgument',
    ],
    [
      'a repeated ID',
      cfg(
        `<ID>x</ID><Filter/><Status>Enabled</Status>${expire}`,
        `<ID>x</ID><Filter/><Status>Enabled</Status>${expire}`,
      ),
      'InvalidArgument',
    ],
    ['no action', cfg('<ID>x</ID><Filter/><Status>Enabled</Status>'), 'InvalidRequest'],
    ['Days 0', cfg('<Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>'), 'InvalidArgument'],
    [
      'negative Days',
      cfg('<Filter/><Status>Enabled</Status><Expiration><Days>-1</Days></Expiration>'),
      'InvalidArgument',
    ],
    [
      'Days and Date',
      cfg('<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>'),
      'MalformedXML',
    ],
    [
      'a Date not at midnight',
      cfg('<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>'),
      'InvalidArgument',
    ],
    [
      'a Date that is none',
      cfg('<Filter/><Status>Enabled</Status><Expiration><Date>tomorrow</Date></Expiration>'),
      'InvalidArgument',
    ],
    ['an empty Expiration', cfg('<Filter/><Status>Enabled</Status><Expiration></Expiration>'), 'MalformedXML'],
    [
      'ExpiredObjectDeleteMarker with Days',
      cfg(
        '<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>',
      ),
      'InvalidArgument',
    ],
    [
      'ExpiredObjectDeleteMarker that is no boolean',
      cfg(
        '<Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration>',
      ),
      'MalformedXML',
    ],
    [
      'ExpiredObjectDeleteMarker with a tag filter',
      cfg(
        '<Filter><Tag><Key>a</Key><Value>1</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>',
      ),
      'InvalidRequest',
    ],
    [
      'AbortIncompleteMultipartUpload with a tag filter',
      cfg(
        '<Filter><And><Prefix>a</Prefix><Tag><Key>a</Key><Value>1</Value></Tag></And></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
      ),
      'InvalidRequest',
    ],
    [
      'DaysAfterInitiation 0',
      cfg(
        '<Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
      ),
      'InvalidArgument',
    ],
    [
      'NoncurrentDays missing',
      cfg(
        '<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration>',
      ),
      'MalformedXML',
    ],
    [
      'NoncurrentDays 0',
      cfg(
        '<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>',
      ),
      'InvalidArgument',
    ],
    [
      'NewerNoncurrentVersions 101',
      cfg(
        '<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>',
      ),
      'InvalidArgument',
    ],
    [
      'a Transition',
      cfg(
        '<Filter/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>',
      ),
      'NotImplemented',
    ],
    [
      'a NoncurrentVersionTransition',
      cfg(
        `<Filter/><Status>Enabled</Status>${expire}<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`,
      ),
      'NotImplemented',
    ],
    [
      'a prefix over 1024 bytes',
      cfg(`<Filter><Prefix>${'p'.repeat(1025)}</Prefix></Filter><Status>Enabled</Status>${expire}`),
      'InvalidArgument',
    ],
  ];
  for (const [what, text, code] of cases)
    it(what, () => {
      const e = refused(text);
      expect(e.code).toMatch(code);
      expect(e.message).not.toBe('');
    });
});
