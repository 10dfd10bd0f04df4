import type { Exchange } from '../model/exchange.js';
import type { Cohort } from '../model/session.js';
import { ROW, ROW_LENGTH, type RowTuple } from './writer-protocol.js';

/**
 * A tuple to copy and fill in: every slot set, so the copy is a packed
 * array, which structured clone posts densely (a holey `new Array(n)` goes
 * element by element as a sparse one). `seq` and the bodies stay 0 and null
 * here; the worker sets them.
 */
const ROW_TEMPLATE: unknown[] = [];
// Pushed one by one: `Array.from({ length })` and `new Array(n)` both start holey, and a copy stays so.
for (let i = 0; i < ROW_LENGTH; i++) ROW_TEMPLATE.push(i === ROW.seq ? 0 : null);

/** What a queued row costs besides its bodies and longer strings (the tuple, numbers, short strings), bytes. */
const ROW_OVERHEAD_BYTES = 400;

/** Size of a pooled body buffer; a batch is posted when its bodies would overflow one. */
export const BODY_CHUNK_BYTES = 1 << 20;

/**
 * The rows queued on the main thread before they are posted to the writer
 * worker. Bodies are copied at once into one `ArrayBuffer` per batch (so the
 * caller's buffers, which may be views into a shared pool, are never
 * detached or kept alive), and that buffer is transferred, not cloned. The
 * worker hands committed buffers back, and `take` reuses them: no fresh
 * memory (and no page faults) per batch in steady state.
 */
export class BodyBatch {
  /** Rows queued so far. */
  readonly rows: RowTuple[] = [];
  private buffer: ArrayBuffer | null = null;
  private view: Uint8Array | null = null;
  private used = 0;
  private held = 0;

  /**
   * @param take gives a buffer of at least `minBytes` (pooled when it can)
   * @param give takes back a buffer that was not sent after all
   */
  constructor(
    private readonly take: (minBytes: number) => ArrayBuffer,
    private readonly give: (buffer: ArrayBuffer) => void,
  ) {}

  /** Body bytes queued so far. */
  get bytes(): number {
    return this.used;
  }

  /** About what the queued rows hold in memory: the sum of what `add` returned. */
  get bytesHeld(): number {
    return this.held;
  }

  /** True when `ex`'s bodies do not fit in this batch's buffer (post the batch first). */
  wouldOverflow(ex: Exchange): boolean {
    if (!this.view) return false;
    return this.used + bodyBytes(ex) > this.view.byteLength;
  }

  /**
   * Queues one exchange, copying its bodies; `keyedBy` is the rule that keyed
   * its session. Returns about how many bytes the row holds until it is
   * committed (bodies, headers and strings as text, plus a fixed overhead).
   */
  add(ex: Exchange, cohort: Cohort, keyedBy: string | null = null): number {
    if (!this.view) {
      this.buffer = this.take(bodyBytes(ex));
      this.view = new Uint8Array(this.buffer);
    }
    const req = ex.requestBody;
    const res = ex.responseBody;
    const reqOff = this.used;
    if (req) this.copy(req);
    const resOff = this.used;
    if (res) this.copy(res);
    const row = ROW_TEMPLATE.slice() as RowTuple;
    row[ROW.sessionKey] = ex.sessionKey;
    row[ROW.cohortJson] = JSON.stringify(cohort);
    row[ROW.startUs] = Math.round(ex.startOffsetUs);
    row[ROW.durationUs] = Math.round(ex.durationUs);
    row[ROW.method] = ex.method;
    row[ROW.target] = ex.target;
    row[ROW.host] = ex.host;
    row[ROW.scheme] = ex.scheme;
    row[ROW.route] = ex.route;
    row[ROW.status] = ex.status;
    row[ROW.error] = ex.error;
    row[ROW.errorDetail] = ex.errorDetail;
    row[ROW.reqBodyBytes] = ex.requestBodyBytes;
    row[ROW.reqTruncated] = ex.requestBodyTruncated ? 1 : 0;
    row[ROW.resBodyBytes] = ex.responseBodyBytes;
    row[ROW.resTruncated] = ex.responseBodyTruncated ? 1 : 0;
    row[ROW.resEncoding] = ex.responseEncoding;
    row[ROW.reqHeaders] = JSON.stringify(ex.requestHeaders);
    row[ROW.resHeaders] = JSON.stringify(ex.responseHeaders);
    row[ROW.reqOff] = reqOff;
    row[ROW.reqLen] = req ? req.byteLength : -1;
    row[ROW.resOff] = resOff;
    row[ROW.resLen] = res ? res.byteLength : -1;
    row[ROW.keyedBy] = keyedBy;
    this.rows.push(row);
    const held =
      ROW_OVERHEAD_BYTES + bodyBytes(ex) + row[ROW.reqHeaders].length + row[ROW.resHeaders].length + ex.target.length + ex.sessionKey.length +
      (ex.errorDetail?.length ?? 0);
    this.held += held;
    return held;
  }

  /** The rows and the buffer holding their bodies, for transfer to the worker. */
  seal(): { rows: RowTuple[]; bodies: ArrayBuffer } {
    const buffer = this.buffer;
    if (!buffer) return { rows: this.rows, bodies: new ArrayBuffer(0) };
    // A mostly empty buffer (a quiet moment, small bodies) travels as an exact copy, so a
    // backlog of queued batches holds their bytes, not 1 MiB each; the big one stays here.
    if (this.used < buffer.byteLength / 4) {
      const exact = buffer.slice(0, this.used);
      this.give(buffer);
      return { rows: this.rows, bodies: exact };
    }
    return { rows: this.rows, bodies: buffer };
  }

  private copy(body: Uint8Array): void {
    this.view!.set(body, this.used);
    this.used += body.byteLength;
  }
}

function bodyBytes(ex: Exchange): number {
  return (ex.requestBody?.byteLength ?? 0) + (ex.responseBody?.byteLength ?? 0);
}
