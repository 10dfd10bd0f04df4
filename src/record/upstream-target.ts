import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { UsageError } from '../model/errors.js';
import type { UpstreamTarget } from './proxied-exchange.js';

const ABSOLUTE_URI = /^(https?):\/\/([^/?#\s]+)([^#\s]*)/i;

/**
 * Validates `--target`: an `http://` or `https://` origin, optionally with a
 * trailing `/`. Returns the normalised origin. Throws UsageError otherwise.
 */
export function parseTargetOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--target must be a URL like http://127.0.0.1:3000 (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--target must be an http:// or https:// URL (got "${text}")`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new UsageError(`--target must be an origin without a path, query or credentials, like ${url.origin} (got "${text}")`);
  }
  return url.origin;
}

/** Parses `--listen` (`8080`, `127.0.0.1:8080`, `[::1]:8080`, `:8080`) into host and port. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be HOST:PORT or PORT, like 127.0.0.1:8080 (got "${text}")`);
  const rawHost = m[1] ?? '';
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return { host: host || '127.0.0.1', port };
}

/**
 * Decides where each request goes: `resolve(requestUrl)` gives the upstream
 * target, or a one-line reason when the request cannot be proxied.
 */
export class UpstreamResolver {
  private readonly origin: string | null;
  private readonly host: string | null;
  private readonly scheme: 'http' | 'https';
  private readonly forward: boolean;

  /** `origin` is the validated `--target` (reverse mode) or null (forward mode). */
  constructor(origin: string | null, forward: boolean) {
    this.forward = forward;
    this.origin = origin;
    const url = origin ? new URL(origin) : null;
    this.host = url ? url.host : null;
    this.scheme = url?.protocol === 'https:' ? 'https' : 'http';
  }

  /** Upstream of a request whose request-target is `requestUrl`. */
  resolve(requestUrl: string): UpstreamTarget | string {
    const m = ABSOLUTE_URI.exec(requestUrl);
    if (this.forward && m) {
      const scheme = m[1]!.toLowerCase() as 'http' | 'https';
      const host = m[2]!.toLowerCase();
      // RFC 9110 §4.2.4: userinfo in an http(s) URI is an error; kept, it would land in the recording's host.
      if (host.includes('@')) return 'an absolute-URI must not carry credentials (user@host)';
      return { origin: `${scheme}://${host}`, path: normalisePath(m[3]!), host, scheme };
    }
    if (!this.origin || !this.host) {
      return `a forward proxy needs absolute-URI requests like "GET http://host/path" (got "${requestUrl.slice(0, 100)}")`;
    }
    const path = m ? normalisePath(m[3]!) : requestUrl;
    if (!path.startsWith('/')) return `request-target must start with "/" (got "${requestUrl.slice(0, 100)}")`;
    return { origin: this.origin, path, host: this.host, scheme: this.scheme };
  }
}

function normalisePath(rest: string): string {
  if (rest === '') return '/';
  return rest.startsWith('?') ? '/' + rest : rest;
}

/** Opens a socket to `upstream`'s origin: TCP, or TLS (HTTP/1.1 by ALPN) for `https`, checking the certificate unless `insecure`. */
export function connectUpstream(upstream: UpstreamTarget, insecure: boolean): Socket {
  const url = new URL(upstream.origin);
  const port = Number(url.port || (upstream.scheme === 'https' ? 443 : 80));
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return upstream.scheme === 'https'
    ? connectTls({ host: hostname, port, servername: hostname, rejectUnauthorized: !insecure, ALPNProtocols: ['http/1.1'] })
    : connectTcp({ host: hostname, port });
}
