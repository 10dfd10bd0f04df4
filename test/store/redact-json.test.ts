import { describe, expect, it } from 'vitest';
import { redactJsonText } from '../../src/store/redact-json.js';
import { isSecretKey } from '../../src/store/redact-text.js';
import { seededRandom as rng } from '../../src/model/seeded-random.js';

const tokenize = (v: string): string => `redacted:${Buffer.from(v).toString('base64url').slice(0, 16).padEnd(16, '_')}`;


const KEYS = ['id', 'name', 'password', 'items', 'qty', 'cardNumber', 'note', 'token', 'company', 'price', 'nested', 'Ünïcode', 'a"quote', 'x\\y'];
const STRINGS = ['', 'plain', 'with "quotes" and \\ slashes', 'zoë ☕ 日本', 'line\nbreak', 'order 4111111111111112', '1712345678901'];

function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 5 : 7));
  switch (k) {
    case 0:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 1:
      return Math.floor(r() * 1e6) / (r() < 0.5 ? 1 : 100);
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return -1 - Math.floor(r() * 1000);
    case 5:
      return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) o[KEYS[Math.floor(r() * KEYS.length)]!] = value(r, depth + 1);
      return o;
    }
  }
}

/** What redaction must give for a parsed value: scalars under secret keys become tokens, everything else stays. */
function expected(v: unknown, secret: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => expected(x, secret));
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = expected(x, secret || isSecretKey(k));
    return o;
  }
  if (!secret || v === null || typeof v === 'boolean' || v === '') return v;
  return tokenize(typeof v === 'string' ? v : JSON.stringify(v));
}

describe('redactJsonText on generated documents', () => {
  it('gives valid JSON where exactly the secret scalars changed, for 300 seeded documents, compact and pretty', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const doc = value(rng(seed), 0);
      for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2)]) {
        const latin1 = Buffer.from(text, 'utf8').toString('latin1');
        const out = redactJsonText(latin1, tokenize);
        expect(out, `seed ${seed}`).not.toBeNull();
        const parsed = JSON.parse(Buffer.from(out!, 'latin1').toString('utf8'));
        expect(parsed, `seed ${seed}`).toEqual(expected(doc, false));
      }
    }
  });

  it('returns the very same string when nothing is secret', () => {
    const text = '{"id": 1, "items": [{"name": "a"}], "price": 19.99}';
    expect(redactJsonText(text, tokenize)).toBe(text);
  });

  it('says null for text that is not JSON', () => {
    expect(redactJsonText('<html>', tokenize)).toBeNull();
    expect(redactJsonText('{"a" 1 ]', tokenize)).toBeNull();
  });
});
