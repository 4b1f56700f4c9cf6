import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCertificate, newKeyPair, privateKeyPem } from '../../../../src/util/x509/certificate.js';
import { integer, namedBits, oid, time } from '../../../../src/util/x509/der.js';

describe('der', () => {
  it('encodes OIDs, integers, named bits and times as DER', () => {
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(integer(0).toString('hex')).toBe('020100');
    expect(integer(128).toString('hex')).toBe('02020080');
    expect(integer(Buffer.from([0, 0, 1])).toString('hex')).toBe('020101');
    expect(namedBits([0]).toString('hex')).toBe('03020780');
    expect(namedBits([0, 5, 6]).toString('hex')).toBe('03020186');
    expect(time(new Date('2030-01-02T03:04:05Z')).toString()).toContain('300102030405Z');
    expect(time(new Date('2050-01-02T03:04:05Z'))[0]).toBe(0x18);
  });
});

function pki() {
  const ca = newKeyPair();
  const caCert = issueCertificate({
    commonName: 'Test CA',
    publicKey: ca.publicKey,
    selfKey: ca.privateKey,
    days: 30,
    ca: true,
  });
  const issuer = { commonName: 'Test CA', key: ca.privateKey, keyId: caCert.keyId };
  const leaf = newKeyPair();
  const server = issueCertificate({
    commonName: 'localhost',
    publicKey: leaf.publicKey,
    issuer,
    days: 10,
    serverAuth: true,
    altNames: ['localhost', '127.0.0.1', '::1'],
  });
  return { ca, caCert, issuer, leaf, server };
}

describe('issueCertificate', () => {
  it('writes a CA and a server certificate Node parses and verifies, with the names in subjectAltName', () => {
    const { ca, caCert, server } = pki();
    const x = new X509Certificate(server.pem);
    const xca = new X509Certificate(caCert.pem);
    expect(xca.ca).toBe(true);
    expect(x.ca).toBe(false);
    expect(xca.verify(ca.publicKey)).toBe(true);
    expect(x.verify(ca.publicKey)).toBe(true);
    expect(x.checkIssued(xca)).toBe(true);
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.checkHost('example.com')).toBeUndefined();
    expect(x.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(x.validTo).getTime() - new Date(x.validFrom).getTime()).toBe(10 * 86_400_000);
    // Another key did not sign it.
    expect(x.verify(newKeyPair().publicKey)).toBe(false);
  });

  it('gives each certificate a positive serial of its own', () => {
    const a = new X509Certificate(pki().server.pem).serialNumber;
    const b = new X509Certificate(pki().server.pem).serialNumber;
    expect(a).not.toBe(b);
    expect(parseInt(a.slice(0, 2), 16) & 0x80).toBe(0);
  });

  it('refuses a leaf with no use and a name that is not a host name', () => {
    const k = newKeyPair();
    expect(() => issueCertificate({ commonName: 'x', publicKey: k.publicKey, selfKey: k.privateKey, days: 1 })).toThrow(
      /serverAuth or clientAuth/,
    );
    expect(() =>
      issueCertificate({
        commonName: 'x',
        publicKey: k.publicKey,
        selfKey: k.privateKey,
        days: 1,
        serverAuth: true,
        altNames: ['bad name'],
      }),
    ).toThrow(/not a host name/);
  });

  it('writes keys as PKCS#8 PEM that load back', () => {
    const k = newKeyPair();
    const pem = privateKeyPem(k.privateKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' })).toEqual(
      k.publicKey.export({ format: 'jwk' }),
    );
  });
});
