import { HOP_BY_HOP, type HeaderList } from '../model/exchange.js';

/**
 * Normalizes headers from an imported file: lower-case names, HTTP/2
 * pseudo-headers (`:authority`, `:path`, …) and hop-by-hop headers dropped,
 * and every `cookie` header merged into one (HTTP/2 clients send one per
 * cookie; HTTP/1.1 servers expect one). Order is kept; `set-cookie` stays
 * one header per cookie.
 */
export function normalizeHeaders(pairs: Iterable<[string, string]>): HeaderList {
  const out: HeaderList = [];
  let cookieIndex = -1;
  for (const [rawName, value] of pairs) {
    const name = rawName.trim().toLowerCase();
    if (name === '' || name.startsWith(':') || HOP_BY_HOP.has(name)) continue;
    if (name === 'cookie') {
      if (cookieIndex >= 0) {
        const prev = out[cookieIndex]![1];
        out[cookieIndex]![1] = mergeCookies(prev, value);
        continue;
      }
      cookieIndex = out.length;
    }
    out.push([name, String(value)]);
  }
  return out;
}

/** `a=1; b=2` + `b=2; c=3` → `a=1; b=2; c=3` (an exact duplicate pair is kept once). */
export function mergeCookies(a: string, b: string): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const p of `${a};${b}`.split(';')) {
    const t = p.trim();
    if (t === '' || seen.has(t)) continue;
    seen.add(t);
    parts.push(t);
  }
  return parts.join('; ');
}

/** The `:authority` (or `host`) of a raw header list, before normalization drops pseudo-headers. */
export function authorityOf(pairs: Iterable<[string, string]>): string | null {
  let host: string | null = null;
  for (const [n, v] of pairs) {
    const name = n.toLowerCase();
    if (name === ':authority') return v;
    if (name === 'host' && host === null) host = v;
  }
  return host;
}
