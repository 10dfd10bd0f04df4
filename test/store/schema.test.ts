import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingWriter } from '../../src/store/recording-writer.js';
import {
  EXCHANGE_COL,
  EXCHANGE_COLUMNS,
  FULL_COLUMNS,
  INSERT_COLUMNS,
  INSERT_EXCHANGE_SQL,
  LIST_COLUMN_COUNT,
  LIST_COLUMNS,
} from '../../src/store/schema.js';
import { ROW, ROW_LENGTH } from '../../src/store/writer-protocol.js';
import { makeExchange, tempDir, TEST_META } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

// The `exchanges` columns of schema version 1, as files already written hold them. The column
// table may only change with the schema version: readers select these names in this order.
const SCHEMA_V1 = [
  'id', 'session_key', 'seq', 'start_us', 'duration_us', 'method', 'target', 'host', 'scheme', 'route', 'status', 'error',
  'error_detail', 'req_body_bytes', 'req_truncated', 'res_body_bytes', 'res_truncated', 'res_encoding', 'req_headers',
  'res_headers', 'req_body', 'res_body',
];

describe('the one table of exchange columns', () => {
  it('is still the column list of schema version 1', () => {
    expect(EXCHANGE_COLUMNS.map((c) => c.name)).toEqual(SCHEMA_V1);
  });

  it('is what a new file holds, in order, with the declared types', async () => {
    const path = join(dir, 'schema.db');
    const w = await RecordingWriter.create(path, TEST_META);
    w.add(makeExchange(), {});
    await w.close();
    const db = new Database(path, { readonly: true });
    const info = db.prepare('PRAGMA table_info(exchanges)').all() as Array<{ name: string; type: string; notnull: number; pk: number }>;
    db.close();
    expect(info.map((c) => c.name)).toEqual(EXCHANGE_COLUMNS.map((c) => c.name));
    expect(info.map((c) => `${c.type}${c.notnull ? ' NOT NULL' : ''}${c.pk ? ' PRIMARY KEY' : ''}`)).toEqual(
      EXCHANGE_COLUMNS.map((c) => c.decl),
    );
  });

  it('names every position by its column, and the lists select in that order', () => {
    EXCHANGE_COLUMNS.forEach((c, i) => expect(EXCHANGE_COL[c.key]).toBe(i));
    expect(FULL_COLUMNS.split(', ')).toEqual(SCHEMA_V1.map((n) => `e.${n}`));
    // Bodies last: a row selected without them is a prefix of one selected with them.
    expect(LIST_COLUMNS.split(', ')).toEqual(SCHEMA_V1.slice(0, -2).map((n) => `e.${n}`));
    expect(LIST_COLUMN_COUNT).toBe(20);
  });

  it('gives the writer an INSERT whose values are the head of its row tuple', () => {
    const names = INSERT_COLUMNS.map((c) => c.name);
    expect(names).toEqual(SCHEMA_V1.slice(1));
    expect(INSERT_EXCHANGE_SQL).toBe(`INSERT INTO exchanges (${names.join(', ')}) VALUES (${names.map(() => '?').join(',')})`);
    INSERT_COLUMNS.forEach((c, i) => expect(ROW[c.key]).toBe(i));
    const extras = [ROW.cohortJson, ROW.reqOff, ROW.reqLen, ROW.resOff, ROW.resLen, ROW.keyedBy];
    expect(extras).toEqual([21, 22, 23, 24, 25, 26]);
    expect(ROW_LENGTH).toBe(27);
  });
});
