import { X509Certificate } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { CA_CERT_FILE, CA_KEY_FILE, certForHost, createCa, hostOnly, loadCa, trustInstructions } from '../../src/record/ca.js';

const dir = mkdtempSync(join(tmpdir(), 'fb-ca-'));
const ca = createCa(join(dir, 'ca'));

function get(port: number, servername: string, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', servername, ca: caPem, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local CA', () => {
  it('writes the key with mode 0600 and a CA certificate', () => {
    expect(statSync(join(dir, 'ca', CA_KEY_FILE)).mode & 0o777).toBe(0o600);
    const x = new X509Certificate(ca.certPem);
    expect(x.ca).toBe(true);
    expect(x.subject).toContain('CN=flashback local CA');
    expect(ca.fingerprint).toBe(x.fingerprint256);
  });

  it('refuses to replace an existing CA unless forced, and loads it back', () => {
    expect(() => createCa(join(dir, 'ca'))).toThrow(/a CA already exists there/);
    expect(loadCa(join(dir, 'ca')).certPem).toBe(ca.certPem);
  });

  it('names the directory when there is no CA, or the key does not match', () => {
    expect(() => loadCa(join(dir, 'none'))).toThrow(InputError);
    const other = createCa(join(dir, 'other'));
    writeFileSync(join(dir, 'other', CA_CERT_FILE), ca.certPem);
    expect(() => loadCa(join(dir, 'other'))).toThrow(/is not the key of/);
    expect(other.certPem).not.toBe(ca.certPem);
  });

  it('issues a cached per-host certificate with the host as SAN, signed by the CA', async () => {
    const a = await certForHost(ca, 'Shop.Example:443');
    expect(await certForHost(ca, 'shop.example')).toBe(a);
    const leaf = new X509Certificate(a.cert);
    expect(leaf.subjectAltName).toBe('DNS:shop.example');
    expect(leaf.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(new X509Certificate((await certForHost(ca, '127.0.0.1')).cert).subjectAltName).toBe('IP Address:127.0.0.1');
    expect(hostOnly('[::1]:8443')).toBe('::1');
  });

  it('serves TLS that a client trusting only the CA accepts, by name and by IP', async () => {
    const server: Server = createServer({
      SNICallback: (name, cb) => {
        certForHost(ca, name).then(({ key, cert }) => cb(null, createSecureContext({ key, cert })), (e: Error) => cb(e));
      },
      ...(await certForHost(ca, '127.0.0.1')),
    }, (_req, res) => res.end('hello'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await get(port, 'localhost', ca.certPem)).toBe('hello');
      const stranger = createCa(join(dir, 'stranger'));
      await expect(get(port, 'localhost', stranger.certPem)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    } finally {
      server.close();
    }
  });

  it('prints trust steps for Debian, macOS, Firefox and Node', () => {
    const text = trustInstructions(ca).join('\n');
    for (const word of ['update-ca-certificates', 'security add-trusted-cert', 'Firefox', 'NODE_EXTRA_CA_CERTS']) expect(text).toContain(word);
  });
});
