import { createHash, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

// X.509 certificates built with node-forge's ASN.1/DER helpers only (cheap:
// well under a millisecond for a leaf), so the signature itself can be made
// by node:crypto, natively and off the event loop (see ca.ts). No forge RSA.

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
type Asn1 = forge.asn1.Asn1;

/** Binary string (what forge's ASN.1 values are) of a Buffer, and back. */
const bin = (b: Buffer): string => b.toString('binary');
const buf = (s: string): Buffer => Buffer.from(s, 'binary');

const seq = (items: Asn1[]): Asn1 => asn1.create(U, T.SEQUENCE, true, items);
const oid = (id: string): Asn1 => asn1.create(U, T.OID, false, asn1.oidToDer(id).getBytes());
const octets = (b: Buffer): Asn1 => asn1.create(U, T.OCTETSTRING, false, bin(b));

const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
} as const;

/** A parsed DER structure (forge ASN.1), BIT STRINGs left as raw bytes so re-encoding is exact. */
function parse(der: Buffer): Asn1 {
  return (asn1.fromDer as unknown as (b: string, o: object) => Asn1)(bin(der), { decodeBitStrings: false, strict: true });
}

/** A Name of UTF8String attributes, e.g. `[['2.5.4.3', 'shop.example']]`. */
export function nameOf(attributes: Array<[keyof typeof OID, string]>): Asn1 {
  return seq(attributes.map(([k, v]) =>
    asn1.create(U, T.SET, true, [seq([oid(OID[k]), asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(v))])])));
}

/** One certificate extension. */
export interface Extension {
  oid: string;
  critical: boolean;
  value: Asn1;
}

/** `basicConstraints`: CA or not (critical for a CA). */
export function basicConstraints(ca: boolean): Extension {
  return { oid: OID.basicConstraints, critical: ca, value: seq(ca ? [asn1.create(U, T.BOOLEAN, false, '\xff')] : []) };
}

/** `keyUsage` (critical) from RFC 5280 bit numbers: 0 digitalSignature, 2 keyEncipherment, 5 keyCertSign, 6 cRLSign. */
export function keyUsage(bits: number[]): Extension {
  const last = Math.max(...bits);
  const bytes = Buffer.alloc((last >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = 7 - (last & 7); // DER: trailing zero bits are not encoded
  return { oid: OID.keyUsage, critical: true, value: asn1.create(U, T.BITSTRING, false, String.fromCharCode(unused) + bin(bytes)) };
}

/** `extKeyUsage`: TLS server authentication. */
export function serverAuth(): Extension {
  return { oid: OID.extKeyUsage, critical: false, value: seq([oid(OID.serverAuth)]) };
}

/** `subjectAltName`: one DNS name, or one IP address (4 or 16 bytes). */
export function subjectAltName(host: string, ip: Buffer | null): Extension {
  const C = asn1.Class.CONTEXT_SPECIFIC;
  const general = ip ? asn1.create(C, 7 as forge.asn1.Type, false, bin(ip)) : asn1.create(C, 2 as forge.asn1.Type, false, host);
  return { oid: OID.subjectAltName, critical: false, value: seq([general]) };
}

/** `subjectKeyIdentifier`. */
export function subjectKeyId(id: Buffer): Extension {
  return { oid: OID.subjectKeyIdentifier, critical: false, value: octets(id) };
}

/** `authorityKeyIdentifier` with the issuer's key identifier. */
export function authorityKeyId(id: Buffer): Extension {
  return { oid: OID.authorityKeyIdentifier, critical: false, value: seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0 as forge.asn1.Type, false, bin(id))]) };
}

/** A public key as the certificate needs it: the SubjectPublicKeyInfo and its RFC 5280 key identifier. */
export interface PublicKeyInfo {
  spki: Asn1;
  keyId: Buffer;
}

/** Parses a public key once, for any number of certificates. */
export function publicKeyInfo(key: KeyObject): PublicKeyInfo {
  const der = key.export({ type: 'spki', format: 'der' });
  const spki = parse(der);
  const bits = (spki.value as Asn1[])[1]!.value as string; // unused-bits byte, then the key
  // Method 1 of RFC 5280 §4.2.1.2: SHA-1 of the subjectPublicKey bits.
  return { spki, keyId: createHash('sha1').update(buf(bits).subarray(1)).digest() };
}

/** What a certificate says, before it is signed. */
export interface CertificateFields {
  /** Positive, at most 20 bytes, first byte 0x01–0x7f (DER minimal and positive). */
  serial: Buffer;
  issuer: Asn1;
  subject: Asn1;
  notBefore: Date;
  notAfter: Date;
  publicKey: PublicKeyInfo;
  extensions: Extension[];
}

/** The signature algorithm for a signing key: sha256WithRSAEncryption or ecdsa-with-SHA256. */
function algorithmFor(signer: KeyObject): Asn1 {
  if (signer.asymmetricKeyType === 'rsa') return seq([oid(OID.sha256WithRSAEncryption), asn1.create(U, T.NULL, false, '')]);
  if (signer.asymmetricKeyType === 'ec') return seq([oid(OID.ecdsaWithSHA256)]);
  throw new Error(`unsupported CA key type ${signer.asymmetricKeyType ?? 'unknown'} (RSA or EC only)`);
}

function timeOf(d: Date): Asn1 {
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return d.getUTCFullYear() < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

/** The DER TBSCertificate (the bytes that get signed) for `fields`, to be signed by `signer`. */
export function tbsCertificate(fields: CertificateFields, signer: KeyObject): Buffer {
  const ext = fields.extensions.map((e) =>
    seq([oid(e.oid), ...(e.critical ? [asn1.create(U, T.BOOLEAN, false, '\xff')] : []), octets(buf(asn1.toDer(e.value).getBytes()))]));
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0 as forge.asn1.Type, true, [asn1.create(U, T.INTEGER, false, '\x02')]), // v3
    asn1.create(U, T.INTEGER, false, bin(fields.serial)),
    algorithmFor(signer),
    fields.issuer,
    seq([timeOf(fields.notBefore), timeOf(fields.notAfter)]),
    fields.subject,
    fields.publicKey.spki,
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3 as forge.asn1.Type, true, [seq(ext)]),
  ]);
  return buf(asn1.toDer(tbs).getBytes());
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** The signed certificate as PEM: SEQUENCE { tbs, algorithm, BIT STRING signature }. */
export function certificatePem(tbs: Buffer, signature: Buffer, signer: KeyObject): string {
  const rest = buf(asn1.toDer(algorithmFor(signer)).getBytes() + asn1.toDer(asn1.create(U, T.BITSTRING, false, '\x00' + bin(signature))).getBytes());
  const body = Buffer.concat([tbs, rest]);
  const der = Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** From a CA certificate (DER): its subject (the issuer of what it signs) and its key identifier, if it has one. */
export function issuerOf(caDer: Buffer): { subject: Asn1; keyId: Buffer | null } {
  const tbs = ((parse(caDer).value as Asn1[])[0]!.value as Asn1[]);
  const fields = tbs.filter((f) => f.tagClass === U); // drop [0] version, [1]/[2] unique ids, [3] extensions
  const subject = fields[4]!; // serial, signature, issuer, validity, subject, spki
  let keyId: Buffer | null = null;
  const exts = tbs.find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && (f.type as number) === 3);
  for (const e of ((exts?.value as Asn1[] | undefined)?.[0]?.value as Asn1[] | undefined) ?? []) {
    const parts = e.value as Asn1[];
    if (asn1.derToOid(parts[0]!.value as string) !== OID.subjectKeyIdentifier) continue;
    const inner = parse(buf(parts[parts.length - 1]!.value as string));
    keyId = buf(inner.value as string);
  }
  return { subject, keyId };
}
