import { randomBytes } from 'node:crypto';
import { deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/store/redact.js';
import { MAX_INFLATED_BYTES } from '../../src/store/redact-body.js';
import { isCardNumber, isSecretKey, luhnValid, redactCards } from '../../src/store/redact-text.js';

const r = new Redactor(Buffer.alloc(32, 9));
const CARD = '5555555555554444';
const AMEX = '378282246310005';
const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const dec = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('card numbers', () => {
  const cards: Array<[string, string, string]> = [
    ['a Visa test number', '4111111111111111', 'x 4111111111111111 y'],
    ['a Mastercard in groups of four', CARD, 'x 5555 5555 5555 4444 y'],
    ['an Amex in 4-6-5 groups', AMEX, 'x 3782 822463 10005 y'],
    ['a dashed Discover number', '6011111111111117', 'x 6011-1111-1111-1117 y'],
    ['a card after a short number in the same run', '4111111111111111', 'x 12 4111 1111 1111 1111 y'],
  ];
  it.each(cards)('redacts %s', (_name, digits, text) => {
    const out = redactCards(text, r.tokenize);
    expect(out).toContain(r.token(digits));
    expect(out.replace(/redacted:[\w-]{16}/g, '')).not.toMatch(/\d{4}[ -]?\d{4}/);
  });

  const notCards: Array<[string, string]> = [
    ['a number failing Luhn', '4111111111111112'],
    ['a Luhn-valid number starting with 1 (a timestamp)', '1234567812345670'],
    ['a Luhn-valid number starting with 9', '9234567812345678'],
    ['twelve digits', '411111111113'],
    ['twenty digits', '41111111111111111113'],
  ];
  it.each(notCards)('leaves %s alone', (_name, digits) => {
    expect(isCardNumber(digits)).toBe(false);
    expect(redactCards(`x ${digits} y`, r.tokenize)).toBe(`x ${digits} y`);
  });

  it('checks Luhn sums', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(luhnValid('7992739871x')).toBe(false);
  });
});

describe('secret field names', () => {
  it.each(['password', 'Password', 'new_password', 'passwordConfirmation', 'passwd', 'pwd', 'client_secret', 'accessToken', 'refresh-token', 'card', 'cardNumber', 'creditcard', 'cvv', 'cvc', 'pan', 'ssn', 'api_key', 'apiKey', 'X-Api-Key'])(
    '%s is secret',
    (k) => expect(isSecretKey(k)).toBe(true),
  );
  it.each(['company', 'span', 'classname', 'max_tokens', 'cartId', 'discard', 'cards', 'productId', 'qty', 'email', 'idempotencyKey'])(
    '%s is not',
    (k) => expect(isSecretKey(k)).toBe(false),
  );
});

describe('bodies', () => {
  it('redacts a multipart password part and leaves a binary file part byte for byte', () => {
    const file = Buffer.from([0, 1, 2, 255, 52, 49, 49, 49]);
    const body = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="user"\r\n\r\nann\r\n'),
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\nhunter2\r\n'),
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'),
      file,
      Buffer.from('\r\n--XyZ--\r\n'),
    ]);
    const out = Buffer.from(r.redactBody(body, 'multipart/form-data; boundary=XyZ', null));
    expect(out.toString('latin1')).toContain(`name="password"\r\n\r\n${r.token('hunter2')}\r\n`);
    expect(out.toString('latin1')).toContain('name="user"\r\n\r\nann\r\n');
    expect(out.includes(file)).toBe(true);
  });

  it('keeps non-ASCII text and redacts a non-ASCII password by its real value', () => {
    const body = enc('{"name":"Zoë ☕","password":"pässwörd"}');
    const out = dec(r.redactBody(body, 'application/json', null));
    expect(out).toBe(`{"name":"Zoë ☕","password":"${r.token('pässwörd')}"}`);
    const escaped = dec(r.redactBody(enc('{"password":"p\\u00e4ssw\\u00f6rd"}'), 'application/json', null));
    expect(escaped).toBe(`{"password":"${r.token('pässwörd')}"}`);
  });

  it('gives a password the same token in JSON and in a form', () => {
    const json = dec(r.redactBody(enc('{"password":"a b&c"}'), 'application/json', null));
    const form = dec(r.redactBody(enc('password=a+b%26c'), 'application/x-www-form-urlencoded', null));
    expect(json).toBe(`{"password":"${r.token('a b&c')}"}`);
    expect(form).toBe(`password=${r.token('a b&c')}`);
  });

  it('redacts a JSON body cut at the capture cap', () => {
    const out = dec(r.redactBody(enc('{"items":[1,2],"password":"hunt'), 'application/json', null));
    expect(out).toBe(`{"items":[1,2],"password":"${r.token('hunt')}`);
  });

  it('redacts a truncated gzip body and stores valid gzip', () => {
    const pad = randomBytes(4000).toString('hex');
    const full = gzipSync(Buffer.from(`{"token":"abc","pad":"${pad}"}`));
    const cut = full.subarray(0, Math.floor(full.length / 2));
    const out = r.redactBody(cut, 'application/json', 'gzip');
    const text = gunzipSync(out).toString();
    expect(text.startsWith(`{"token":"${r.token('abc')}","pad":"${pad.slice(0, 100)}`)).toBe(true);
    expect(text.length).toBeLessThan(pad.length);
  });

  it('sniffs JSON when there is no content type', () => {
    expect(dec(r.redactBody(enc(' {"secret": "s"}'), undefined, null))).toBe(` {"secret": "${r.token('s')}"}`);
  });

  it('sniffs a form when there is no content type', () => {
    expect(dec(r.redactBody(enc('user=a&pwd=s'), undefined, null))).toBe(`user=a&pwd=${r.token('s')}`);
  });

  it('redacts every line of NDJSON', () => {
    const out = dec(r.redactBody(enc('{"token":"a"}\n{"token":"b"}\n'), 'application/x-ndjson', null));
    expect(out).toBe(`{"token":"${r.token('a')}"}\n{"token":"${r.token('b')}"}\n`);
  });

  it('falls back to card scanning when a JSON body is not JSON', () => {
    const out = dec(r.redactBody(enc(`oops <html> ${CARD}`), 'application/json', null));
    expect(out).toBe(`oops <html> ${r.token(CARD)}`);
  });

  it('reads raw deflate sent as "deflate" and keeps it raw', () => {
    const out = r.redactBody(deflateRawSync(Buffer.from('{"password":"p"}')), 'application/json', 'deflate');
    expect(inflateRawSync(out).toString()).toBe(`{"password":"${r.token('p')}"}`);
  });

  it('stores a compressed body bigger than the bound unread rather than fail', () => {
    const big = gzipSync(Buffer.concat([Buffer.from(`{"password":"p","pad":"`), Buffer.alloc(MAX_INFLATED_BYTES + 10, 120), Buffer.from('"}')]));
    expect(r.redactBody(big, 'application/json', 'gzip')).toBe(big);
  });

  it('stores a body in an unknown encoding unread', () => {
    const body = enc('{"password":"p"}');
    expect(r.redactBody(body, 'application/json', 'zstd')).toBe(body);
  });

  it('does not treat a float as a card number', () => {
    const body = enc('{"x": 4111111111111111.5, "y": 0.5555555555554444}');
    expect(r.redactBody(body, 'application/json', null)).toBe(body);
  });
});

describe('XML bodies', () => {
  it('redacts secret-named leaf elements, with namespaces and attributes, and cards in text', () => {
    const xml = '<?xml version="1.0"?><s:Envelope><s:Body><Login><user>ann</user><ns:Password type="x">hunter2</ns:Password></Login><note>pay 5555 5555 5555 4444</note></s:Body></s:Envelope>';
    const out = dec(r.redactBody(enc(xml), 'text/xml', null));
    expect(out).toContain(`<ns:Password type="x">${r.token('hunter2')}</ns:Password>`);
    expect(out).toContain('<user>ann</user>');
    expect(out).toContain(`<note>pay ${r.token(CARD)}</note>`);
  });

  it('redacts a password in XML that holds no card number', () => {
    const out = dec(r.redactBody(enc('<login><user>ann</user><password>hunter2</password></login>'), 'application/xml', null));
    expect(out).toBe(`<login><user>ann</user><password>${r.token('hunter2')}</password></login>`);
  });

  it('leaves XML without secrets byte for byte', () => {
    const body = enc('<?xml version="1.0"?><order><id>4111111111111112</id><company>ACME</company></order>');
    expect(r.redactBody(body, 'application/xml', null)).toBe(body);
  });
});

describe('card numbers in long runs', () => {
  it('takes a whole 19-digit card even when a 16-digit prefix is Luhn-valid', () => {
    const prefix = '4111 1111 1111 1111'; // valid on its own
    let tail = '';
    for (let d = 0; d < 1000 && tail === ''; d++) {
      const t = String(d).padStart(3, '0');
      if (isCardNumber(prefix.replace(/ /g, '') + t)) tail = t;
    }
    expect(tail).not.toBe('');
    const out = redactCards(`x ${prefix} ${tail} y`, r.tokenize);
    expect(out).toBe(`x ${r.token(prefix.replace(/ /g, '') + tail)} y`);
  });

  it('splits runs at double separators', () => {
    expect(redactCards(`1  4111 1111 1111 1111`, r.tokenize)).toBe(`1  ${r.token('4111111111111111')}`);
  });
});
