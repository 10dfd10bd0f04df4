import { describe, expect, it } from 'vitest';
import { JsonArrayScanner, JsonScanError, type ScannedElement } from '../../src/import/json-array-scanner.js';

const wanted = (keys: readonly string[]): boolean => keys.length === 3 && keys[1] === 'log' && (keys[2] === 'entries' || keys[2] === 'pages');

function scan(text: string, chunkSize: number): ScannedElement[] {
  const scanner = new JsonArrayScanner(wanted);
  const out: ScannedElement[] = [];
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += chunkSize) scanner.push(bytes.subarray(i, i + chunkSize), out);
  scanner.end();
  return out;
}

const DOC = {
  log: {
    version: '1.2',
    "we\"ird": ['[', '{'],
    creator: { name: 'x', nested: { entries: [1, 2] } },
    pages: [{ id: 'p1', title: 'a } tricky ] title' }],
    entries: [
      { request: { url: 'http://a/"quoted"\\', headers: [{ name: 'x', value: '\\\\' }] }, n: 1 },
      { request: { url: 'http://a/é✓😀' }, arr: [[1, [2]], { deep: { er: [] } }], s: '\\"' },
      { request: { url: 'http://a/3' }, empty: {} },
    ],
  },
};

describe('JsonArrayScanner', () => {
  it.each([1, 2, 3, 7, 64, 1 << 20])('yields the wanted arrays element by element with chunks of %i bytes', (size) => {
    const out = scan(JSON.stringify(DOC, null, size % 2 ? 0 : 2), size);
    expect(out.map((e) => `${e.path}[${e.index}]`)).toEqual(['log.pages[0]', 'log.entries[0]', 'log.entries[1]', 'log.entries[2]']);
    expect(out.slice(1).map((e) => e.value)).toEqual(DOC.log.entries);
    expect(out[0]!.value).toEqual(DOC.log.pages[0]);
  });

  it('does not take an array named entries deeper in the document', () => {
    const out = scan(JSON.stringify({ log: { creator: { entries: [{ a: 1 }] }, entries: [] } }), 5);
    expect(out).toEqual([]);
  });

  it.each([
    ['truncated inside an entry', JSON.stringify(DOC).slice(0, 150), /ends early/],
    ['truncated after the entries', JSON.stringify(DOC).slice(0, -2), /ends early/],
    ['not JSON', 'GET / HTTP/1.1', /does not start with \{ or \[/],
    ['a bad entry', '{"log":{"entries":[{"a":tru}]}}', /element 0 of log\.entries is not valid JSON/],
    ['an entry that is not an object', '{"log":{"entries":[1]}}', /element 0 of log\.entries is not an object/],
    ['mismatched brackets', '{"log":{"entries":[]]}', /brackets do not match/],
    ['data after the end', '{"log":{"entries":[]}} {}', /unexpected data after the end/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => scan(text, 4)).toThrow(JsonScanError);
    expect(() => scan(text, 4)).toThrow(message);
  });
});
