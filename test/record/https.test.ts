import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certForHost, createCa, type LocalCa } from '../../src/record/ca.js';
import { startProxy, until } from './helpers.js';

let dir: string;
let ca: LocalCa;
let tlsServer: Server;
let origin: string;
let authority: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fb-record-tls-'));
  ca = createCa(join(dir, 'ca'));
  // The staging server's own certificate: self-signed as far as the proxy knows (it does not trust our CA).
  const staging = createCa(join(dir, 'staging-ca'));
  tlsServer = createServer(await certForHost(staging, '127.0.0.1'), (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'sid=tls1' });
    res.end(JSON.stringify({ secure: true, path: req.url }));
  });
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  authority = `127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  origin = `https://${authority}`;
});

afterAll(async () => {
  tlsServer.closeAllConnections();
  await new Promise<void>((r) => tlsServer.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('recording an https target', () => {
  it('with --insecure, talks TLS to a self-signed target and records the exchange as https', async () => {
    const { proxy, sink, url } = await startProxy(origin, { insecure: true });
    try {
      const res = await request(`${url}/secure?x=1`);
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toEqual({ secure: true, path: '/secure?x=1' });
      await until(() => sink.exchanges.length === 1, 'the exchange');
      expect(sink.exchanges[0]!.scheme).toBe('https');
      expect(sink.exchanges[0]!.host).toBe(authority);
    } finally {
      await proxy.close();
    }
  });

  it('without --insecure, refuses the self-signed certificate: 502, recorded as a tls error', async () => {
    const { proxy, sink, url } = await startProxy(origin);
    try {
      const res = await request(`${url}/secure`);
      expect(res.statusCode).toBe(502);
      await res.body.dump();
      await until(() => sink.exchanges.length === 1, 'the exchange');
      expect(sink.exchanges[0]!.error).toBe('tls');
    } finally {
      await proxy.close();
    }
  });
});

describe('forward proxy with --mitm', () => {
  it('decrypts a CONNECT tunnel for a client that trusts the local CA and records what is inside', async () => {
    const { proxy, sink, url } = await startProxy(null, { forward: true, mitmCa: ca, insecure: true });
    const client = new ProxyAgent({ uri: url, requestTls: { ca: ca.certPem } });
    try {
      const res = await request(`${origin}/inside/42?q=1`, { dispatcher: client, method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toEqual({ secure: true, path: '/inside/42?q=1' });
      await until(() => sink.exchanges.length === 1, 'the exchange');
      const ex = sink.exchanges[0]!;
      expect(ex.scheme).toBe('https');
      expect(ex.host).toBe(authority);
      expect(ex.method).toBe('POST');
      expect(ex.target).toBe('/inside/42?q=1');
      expect(Buffer.from(ex.requestBody!).toString()).toBe('{"a":1}');
      expect(ex.sessionKey).toBe('sid:tls1');
      expect(proxy.stats().intercepted).toBe(1);
      expect(proxy.stats().tunnels).toBe(0);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('presents its own certificate: a client that does not trust the CA refuses it', async () => {
    const { proxy, sink, url } = await startProxy(null, { forward: true, mitmCa: ca, insecure: true });
    const client = new ProxyAgent({ uri: url });
    try {
      await expect(request(`${origin}/nope`, { dispatcher: client })).rejects.toThrow(/certificate/i);
      expect(sink.exchanges).toHaveLength(0);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('without --mitm, tunnels CONNECT end to end (the client sees the target certificate) and records nothing', async () => {
    const { proxy, sink, url } = await startProxy(null, { forward: true });
    const client = new ProxyAgent({ uri: url, requestTls: { rejectUnauthorized: false } });
    try {
      const res = await request(`${origin}/through`, { dispatcher: client });
      expect(await res.body.json()).toEqual({ secure: true, path: '/through' });
      expect(proxy.stats().tunnels).toBe(1);
      expect(sink.exchanges).toHaveLength(0);
    } finally {
      await client.close();
      await proxy.close();
    }
  });
});

