/**
 * X.509 v3 certificates for local TLS (`coffer tls init`), written with
 * node:crypto alone: Node generates the keys and makes the ECDSA signature
 * (crypto.sign), and der.ts encodes the TBSCertificate it signs. Node has no
 * API that issues a certificate, but one is only DER around a signature, so no
 * certificate library (or openssl binary) is needed.
 *
 * What is written is deliberately plain and strict-verifier friendly (Python's
 * VERIFY_X509_STRICT, Go's crypto/x509): ECDSA P-256 with SHA-256, a positive
 * 127-bit serial, subjectKeyIdentifier everywhere and authorityKeyIdentifier
 * on every issued certificate, critical basicConstraints and keyUsage,
 * extendedKeyUsage on leaves, and subjectAltName (DNS names and IP addresses)
 * on server certificates: clients check the name there, not in the CN.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { bitString, boolTrue, integer, namedBits, octets, oid, seq, set, tlv, time, utf8 } from './der.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** keyUsage bit numbers (RFC 5280 4.2.1.3). */
const KU = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

export interface Issuer {
  commonName: string;
  key: KeyObject;
  /** Its subjectKeyIdentifier. */
  keyId: Buffer;
}

export interface CertificateRequest {
  commonName: string;
  publicKey: KeyObject;
  /** Who signs: omitted = self-signed with `selfKey` (the private key of `publicKey`). */
  issuer?: Issuer;
  selfKey?: KeyObject;
  days: number;
  /** A CA certificate (may sign others, pathLen 0) instead of a leaf. */
  ca?: boolean;
  /** Leaf uses: extendedKeyUsage. */
  serverAuth?: boolean;
  clientAuth?: boolean;
  /** Host names and IP addresses the certificate is for (subjectAltName). */
  altNames?: string[];
  /** Defaults to now; tests issue expired or not-yet-valid ones. */
  notBefore?: Date;
}

export interface IssuedCertificate {
  pem: string;
  der: Buffer;
  keyId: Buffer;
}

const ORGANIZATION = 'Coffer local TLS';

function name(commonName: string): Buffer {
  const rdn = (type: string, value: string) => set(seq(oid(type), utf8(value)));
  return seq(rdn(OID.organization, ORGANIZATION), rdn(OID.commonName, commonName));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), boolTrue(), octets(value)) : seq(oid(id), octets(value));
}

/** An IP address as subjectAltName wants it: 4 or 16 bytes. */
function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail] = ip.split('::') as [string, string | undefined];
  const part = (s: string) => (s ? s.split(':') : []);
  let groups = part(head);
  if (tail !== undefined) {
    const t = part(tail);
    // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
    const last = t[t.length - 1];
    if (last?.includes('.')) {
      const b = last.split('.').map(Number);
      t.splice(t.length - 1, 1, ((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16));
    }
    groups = [...groups, ...Array<string>(8 - groups.length - t.length).fill('0'), ...t];
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function altNames(names: string[]): Buffer {
  return seq(...names.map((n) => (isIP(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n.toLowerCase(), 'ascii')))));
}

/** subjectKeyIdentifier: SHA-1 of the public key's SubjectPublicKeyInfo (RFC 7093 allows any stable hash). */
export function keyIdOf(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
}

export function issueCertificate(req: CertificateRequest): IssuedCertificate {
  const signer = req.issuer?.key ?? req.selfKey;
  if (!signer) throw new Error('a certificate needs an issuer or, self-signed, its own private key');
  if (!req.ca && !req.serverAuth && !req.clientAuth)
    throw new Error('a leaf certificate needs serverAuth or clientAuth');
  for (const n of req.altNames ?? [])
    if (!isIP(n) && !/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(n))
      throw new Error(`not a host name or IP address: ${JSON.stringify(n)}`);
  const keyId = keyIdOf(req.publicKey);
  const notBefore = req.notBefore ?? new Date(Date.now() - 60_000); // a minute of slack for clock skew
  const notAfter = new Date(notBefore.getTime() + req.days * 86_400_000);
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01; // positive, and 16 bytes long

  const exts: Buffer[] = [
    extension(OID.basicConstraints, true, req.ca ? seq(boolTrue(), integer(0)) : seq()),
    extension(
      OID.keyUsage,
      true,
      namedBits(req.ca ? [KU.digitalSignature, KU.keyCertSign, KU.cRLSign] : [KU.digitalSignature]),
    ),
    extension(OID.subjectKeyIdentifier, false, octets(keyId)),
  ];
  if (req.issuer) exts.push(extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, req.issuer.keyId))));
  if (!req.ca) {
    const uses = [...(req.serverAuth ? [OID.serverAuth] : []), ...(req.clientAuth ? [OID.clientAuth] : [])];
    exts.push(extension(OID.extKeyUsage, false, seq(...uses.map(oid))));
  }
  if (req.altNames?.length) exts.push(extension(OID.subjectAltName, false, altNames(req.altNames)));

  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    tlv(0xa0, integer(2)), // v3
    integer(serial),
    algorithm,
    name(req.issuer?.commonName ?? req.commonName),
    seq(time(notBefore), time(notAfter)),
    name(req.commonName),
    req.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, signer); // DER ECDSA-Sig-Value for an EC key
  const der = seq(tbs, algorithm, bitString(signature));
  return { der, pem: toPem('CERTIFICATE', der), keyId };
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

export function newKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}
