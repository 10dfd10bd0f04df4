import { createPrivateKey, generateKeyPair, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InputError, messageOf } from '../model/errors.js';
import {
  authorityKeyId, basicConstraints, certificatePem, issuerOf, keyUsage, nameOf, publicKeyInfo, serverAuth,
  subjectAltName, subjectKeyId, tbsCertificate, type PublicKeyInfo,
} from './cert-der.js';

// Certificates are built as DER with node-forge's ASN.1 helpers (cert-der.ts)
// and signed by node:crypto: `ca init` signs its one certificate natively in
// place; the recorder signs leaf certificates with the callback form of
// crypto.sign and generates its leaf key with crypto.generateKeyPair, both on
// libuv's thread pool, so issuing a certificate for a new host never blocks
// the event loop (node-forge's JavaScript RSA took 40–80 ms of it per host).

/** File names inside a CA directory. */
export const CA_CERT_FILE = 'flashback-ca.pem';
export const CA_KEY_FILE = 'flashback-ca-key.pem';

const CA_COMMON_NAME = 'flashback local CA';
const CA_VALID_YEARS = 10;
/** Browsers refuse leaf certificates valid for more than 398 days. */
const LEAF_VALID_DAYS = 397;
const DAY_MS = 24 * 3600 * 1000;

const signAsync = promisify(sign);
const generateRsaAsync = promisify(generateKeyPair);

/** A certificate for one host: PEM strings for `tls.createSecureContext({ key, cert })`. */
export interface HostCertificate {
  key: string;
  /** The leaf certificate followed by the CA certificate (a full chain). */
  cert: string;
}

/** The key pair all leaf certificates of one process share. */
interface LeafKey {
  pem: string;
  info: PublicKeyInfo;
}

/** A local certificate authority loaded in memory, with its per-host certificate cache. */
export interface LocalCa {
  dir: string;
  certPath: string;
  keyPath: string;
  /** The CA certificate, PEM (what clients must trust). */
  certPem: string;
  /** SHA-256 fingerprint of the CA certificate, `AB:CD:…`. */
  fingerprint: string;
  /** The CA's private key (native). */
  key: KeyObject;
  /** Issuer name and key identifier for the certificates this CA signs. */
  issuer: ReturnType<typeof issuerOf>;
  /**
   * One RSA-2048 key pair for all leaf certificates of this process, generated
   * once, asynchronously, on first use or by {@link prepareLeafKey} (generating
   * RSA keys is the slow part; mitmproxy does the same).
   */
  leafKey: Promise<LeafKey> | null;
  /** Per host: the certificate, or the one generation in flight (concurrent first requests share it). */
  cache: Map<string, Promise<HostCertificate>>;
  /** Certificates signed so far (each host once). */
  issued: number;
}

/** `~/.flashback/ca`. */
export function defaultCaDir(): string {
  return join(homedir(), '.flashback', 'ca');
}

/** A positive random serial number: 16 bytes, first byte 0x40–0x7f (positive and DER-minimal). */
function serial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x3f) | 0x40;
  return b;
}

/**
 * Creates a CA in `dir` (made with mode 0700): a self-signed RSA-2048
 * certificate valid 10 years (`flashback-ca.pem`) and its private key
 * (`flashback-ca-key.pem`, mode 0600). Refuses to replace an existing CA
 * unless `force` ({@link InputError}). Returns the loaded CA. Synchronous
 * (native key generation and signing, ~0.1 s): for `flashback ca init`, not
 * for a running proxy.
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
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const info = publicKeyInfo(publicKey);
  const notAfter = new Date(now.getTime());
  notAfter.setFullYear(now.getFullYear() + CA_VALID_YEARS);
  const name = nameOf([['commonName', CA_COMMON_NAME], ['organizationName', 'flashback']]);
  const tbs = tbsCertificate({
    serial: serial(),
    issuer: name,
    subject: name,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter,
    publicKey: info,
    extensions: [basicConstraints(true), keyUsage([0, 5, 6]), subjectKeyId(info.keyId)],
  }, privateKey);
  const certPem = certificatePem(tbs, sign('sha256', tbs, privateKey), privateKey);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    chmodSync(keyPath, 0o600); // the mode above is subject to umask and to an existing file's mode
    writeFileSync(certPath, certPem, { mode: 0o644 });
  } catch (e) {
    throw new InputError(`Failed to create CA in ${dir}: ${messageOf(e)}`, { cause: e });
  }
  return loadCa(dir);
}

/**
 * Loads the CA in `dir` (reads and parses two files; no key generation).
 * Throws {@link InputError} naming the directory when it holds no CA (hint:
 * `flashback ca init`) or the files are not a certificate and key that
 * belong together.
 */
export function loadCa(dir: string): LocalCa {
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    throw new InputError(`Failed to load CA from ${dir}: no ${CA_CERT_FILE} and ${CA_KEY_FILE} there`, {
      hint: `create one with: flashback ca init --dir ${dir}`,
    });
  }
  let x509: X509Certificate;
  let key: KeyObject;
  let certPem: string;
  let issuer: LocalCa['issuer'];
  try {
    certPem = readFileSync(certPath, 'utf8');
    x509 = new X509Certificate(certPem);
    key = createPrivateKey(readFileSync(keyPath, 'utf8'));
    issuer = issuerOf(x509.raw);
  } catch (e) {
    throw new InputError(`Failed to load CA from ${dir}: ${messageOf(e)}`, { cause: e });
  }
  if (!x509.checkPrivateKey(key)) {
    throw new InputError(`Failed to load CA from ${dir}: ${CA_KEY_FILE} is not the key of ${CA_CERT_FILE}`);
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw new InputError(`Failed to load CA from ${dir}: ${CA_KEY_FILE} is a ${key.asymmetricKeyType ?? 'unknown'} key (RSA or EC needed)`);
  }
  return { dir, certPath, keyPath, certPem, fingerprint: x509.fingerprint256, key, issuer, leafKey: null, cache: new Map(), issued: 0 };
}

/**
 * Starts generating the shared leaf key (on the thread pool) if it is not
 * already there or under way, so the first new host does not wait for it.
 * Returns the same promise every time.
 */
export function prepareLeafKey(ca: LocalCa): Promise<LeafKey> {
  if (!ca.leafKey) {
    const pending = generateRsaAsync('rsa', { modulusLength: 2048 }).then(({ privateKey, publicKey }) => ({
      pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      info: publicKeyInfo(publicKey),
    }));
    ca.leafKey = pending;
    pending.catch(() => {
      if (ca.leafKey === pending) ca.leafKey = null; // let a later host try again
    });
  }
  return ca.leafKey;
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
 * serving TLS as that host (`record --forward --mitm`). Never blocks the
 * event loop for long: the shared leaf key is generated and the certificate
 * signed on libuv's thread pool; building the certificate takes well under
 * a millisecond. Cached per host for the life of `ca`, and concurrent calls
 * for a new host share one generation. A failure is not cached.
 */
export function certForHost(ca: LocalCa, host: string): Promise<HostCertificate> {
  const name = hostOnly(host);
  let pending = ca.cache.get(name);
  if (!pending) {
    pending = issue(ca, name);
    ca.cache.set(name, pending);
    const mine = pending;
    pending.catch(() => {
      if (ca.cache.get(name) === mine) ca.cache.delete(name);
    });
  }
  return pending;
}

async function issue(ca: LocalCa, name: string): Promise<HostCertificate> {
  const leaf = await prepareLeafKey(ca);
  const now = Date.now();
  const ipVersion = isIP(name);
  const ip = ipVersion === 4 ? Buffer.from(name.split('.').map(Number)) : ipVersion === 6 ? ipv6Bytes(name) : null;
  const tbs = tbsCertificate({
    serial: serial(),
    issuer: ca.issuer.subject,
    subject: nameOf([['commonName', name.slice(0, 64)]]),
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + LEAF_VALID_DAYS * DAY_MS),
    publicKey: leaf.info,
    extensions: [
      basicConstraints(false),
      keyUsage([0, 2]),
      serverAuth(),
      subjectAltName(name, ip),
      subjectKeyId(leaf.info.keyId),
      ...(ca.issuer.keyId ? [authorityKeyId(ca.issuer.keyId)] : []),
    ],
  }, ca.key);
  const signature = await signAsync('sha256', tbs, ca.key); // thread pool
  ca.issued++;
  return { key: leaf.pem, cert: certificatePem(tbs, signature, ca.key) + ca.certPem };
}

/** `::1` → 16 bytes. */
function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, null];
  const groups = (s: string | null | undefined): string[] => (s ? s.split(':') : []);
  let parts = [...groups(head), ...groups(tail)];
  // A trailing dotted IPv4 (::ffff:1.2.3.4) is two groups.
  const last = parts[parts.length - 1];
  if (last?.includes('.')) {
    const b = last.split('.').map(Number);
    parts = [...parts.slice(0, -1), ((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)];
  }
  const headCount = tail === null ? parts.length : groups(head).length;
  const fill = tail === null ? [] : Array<string>(8 - parts.length).fill('0');
  const all = [...parts.slice(0, headCount), ...fill, ...parts.slice(headCount)];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
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
