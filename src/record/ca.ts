import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { InputError, messageOf } from '../model/errors.js';

/** File names inside a CA directory. */
export const CA_CERT_FILE = 'flashback-ca.pem';
export const CA_KEY_FILE = 'flashback-ca-key.pem';

const CA_COMMON_NAME = 'flashback local CA';
const CA_VALID_YEARS = 10;
/** Browsers refuse leaf certificates valid for more than 398 days. */
const LEAF_VALID_DAYS = 397;

/** A local certificate authority loaded in memory, with its per-host certificate cache. */
export interface LocalCa {
  dir: string;
  certPath: string;
  keyPath: string;
  /** The CA certificate, PEM (what clients must trust). */
  certPem: string;
  /** SHA-256 fingerprint of the CA certificate, `AB:CD:…`. */
  fingerprint: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  /** One key pair for all leaf certificates of this process (generating RSA keys is the slow part). */
  leafKeyPem: string;
  leafPublicKey: forge.pki.rsa.PublicKey;
  cache: Map<string, { key: string; cert: string }>;
}

/** `~/.flashback/ca`. */
export function defaultCaDir(): string {
  return join(homedir(), '.flashback', 'ca');
}

function rsaKeyPair(): { privatePem: string; publicPem: string } {
  // Node's native generator takes ~0.1 s; node-forge's pure-JS one takes seconds.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

/** A positive random serial number (hex), as CAs issue them. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function fingerprintOf(certPem: string): string {
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(certPem))).getBytes();
  const hex = createHash('sha256').update(Buffer.from(der, 'binary')).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/**
 * Creates a CA in `dir` (made with mode 0700): a self-signed RSA-2048
 * certificate valid 10 years (`flashback-ca.pem`) and its private key
 * (`flashback-ca-key.pem`, mode 0600). Refuses to replace an existing CA
 * unless `force` ({@link InputError}). Returns the loaded CA.
 */
export function createCa(dir: string, options: { force?: boolean; now?: Date } = {}): LocalCa {
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  if (!options.force && (existsSync(certPath) || existsSync(keyPath))) {
    throw new InputError(`Failed to create CA in ${dir}: a CA already exists there`, {
      hint: 'pass --force to replace it (clients that trusted the old one must trust the new one)',
    });
  }
  const now = options.now ?? new Date();
  const keys = rsaKeyPair();
  const key = forge.pki.privateKeyFromPem(keys.privatePem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now.getTime());
  cert.validity.notAfter.setFullYear(now.getFullYear() + CA_VALID_YEARS);
  const subject = [
    { name: 'commonName', value: CA_COMMON_NAME },
    { name: 'organizationName', value: 'flashback' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, keys.privatePem, { mode: 0o600 });
    chmodSync(keyPath, 0o600); // the mode above is subject to umask and to an existing file's mode
    writeFileSync(certPath, certPem, { mode: 0o644 });
  } catch (e) {
    throw new InputError(`Failed to create CA in ${dir}: ${messageOf(e)}`, { cause: e });
  }
  return loadCa(dir);
}

/**
 * Loads the CA in `dir`. Throws {@link InputError} naming the directory when
 * it holds no CA (hint: `flashback ca init`) or the files are not a
 * certificate and key that belong together.
 */
export function loadCa(dir: string): LocalCa {
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    throw new InputError(`Failed to load CA from ${dir}: no ${CA_CERT_FILE} and ${CA_KEY_FILE} there`, {
      hint: `create one with: flashback ca init --dir ${dir}`,
    });
  }
  let cert: forge.pki.Certificate;
  let key: forge.pki.rsa.PrivateKey;
  let certPem: string;
  try {
    certPem = readFileSync(certPath, 'utf8');
    cert = forge.pki.certificateFromPem(certPem);
    key = forge.pki.privateKeyFromPem(readFileSync(keyPath, 'utf8')) as forge.pki.rsa.PrivateKey;
  } catch (e) {
    throw new InputError(`Failed to load CA from ${dir}: ${messageOf(e)}`, { cause: e });
  }
  const pub = cert.publicKey as forge.pki.rsa.PublicKey;
  if (pub.n.compareTo(key.n) !== 0) {
    throw new InputError(`Failed to load CA from ${dir}: ${CA_KEY_FILE} is not the key of ${CA_CERT_FILE}`);
  }
  const leaf = rsaKeyPair();
  return {
    dir,
    certPath,
    keyPath,
    certPem,
    fingerprint: fingerprintOf(certPem),
    cert,
    key,
    leafKeyPem: leaf.privatePem,
    leafPublicKey: forge.pki.publicKeyFromPem(leaf.publicPem),
    cache: new Map(),
  };
}

/** `Example.com:443` → `example.com`; `[::1]:8443` → `::1`. */
export function hostOnly(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  if (isIP(h) === 6) return h;
  const colon = h.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  return h;
}

/**
 * A certificate for `host` (name or IP, port ignored) signed by the CA, with
 * the host as subject alternative name (DNS or IP), valid 397 days, for
 * serving TLS as that host (`record --forward --mitm`). Cached per host for
 * the life of `ca`; all hosts share one key. Returns PEM strings for
 * `tls.createSecureContext({ key, cert })`; `cert` includes the CA
 * certificate after the leaf (a full chain).
 */
export function certForHost(ca: LocalCa, host: string): { key: string; cert: string } {
  const name = hostOnly(host);
  const cached = ca.cache.get(name);
  if (cached) return cached;
  const cert = forge.pki.createCertificate();
  cert.publicKey = ca.leafPublicKey;
  cert.serialNumber = serial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + LEAF_VALID_DAYS * 24 * 3600 * 1000);
  cert.setSubject([{ name: 'commonName', value: name.slice(0, 64) }]);
  cert.setIssuer(ca.cert.subject.attributes);
  const ipVersion = isIP(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [ipVersion ? { type: 7, ip: name } : { type: 2, value: name }] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  const pair = { key: ca.leafKeyPem, cert: forge.pki.certificateToPem(cert) + ca.certPem };
  ca.cache.set(name, pair);
  return pair;
}

/** How to make clients trust the CA, one line per step (Debian, macOS, Firefox, Node). */
export function trustInstructions(ca: Pick<LocalCa, 'certPath'>): string[] {
  const p = ca.certPath;
  return [
    `Debian/Ubuntu:  sudo cp ${p} /usr/local/share/ca-certificates/flashback-ca.crt && sudo update-ca-certificates`,
    `macOS:          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${p}`,
    `Firefox:        Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import… → ${p}`,
    `                (or set security.enterprise_roots.enabled = true in about:config to use the system store)`,
    `Node.js:        NODE_EXTRA_CA_CERTS=${p} node app.js`,
    `curl:           curl --cacert ${p} --proxy http://127.0.0.1:8080 https://example.com/`,
    `Remove the trust when you are done: anyone with ${CA_KEY_FILE} can impersonate any site to these clients.`,
  ];
}
