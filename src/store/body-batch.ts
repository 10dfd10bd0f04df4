import type { Exchange } from '../model/exchange.js';
import type { Cohort } from '../model/session.js';
import type { RowMessage } from './writer-protocol.js';

/**
 * The rows queued on the main thread before they are posted to the writer
 * worker. Bodies are kept by reference until `seal()` copies them all into
 * one fresh `ArrayBuffer` that can be transferred (not cloned) to the
 * worker. Copying is needed anyway: a body may be a view into a shared
 * pool buffer that must never be detached.
 */
export class BodyBatch {
  /** Rows queued so far (offsets are relative to the sealed buffer). */
  readonly rows: RowMessage[] = [];
  /** Total body bytes queued so far. */
  bytes = 0;
  private readonly bodies: Uint8Array[] = [];

  /** Queues one exchange. */
  add(ex: Exchange, cohort: Cohort): void {
    const req = ex.requestBody;
    const res = ex.responseBody;
    const reqOff = this.bytes;
    if (req) {
      this.bodies.push(req);
      this.bytes += req.byteLength;
    }
    const resOff = this.bytes;
    if (res) {
      this.bodies.push(res);
      this.bytes += res.byteLength;
    }
    this.rows.push({
      sessionKey: ex.sessionKey,
      cohort,
      startUs: Math.round(ex.startOffsetUs),
      durationUs: Math.round(ex.durationUs),
      method: ex.method,
      target: ex.target,
      host: ex.host,
      scheme: ex.scheme,
      route: ex.route,
      status: ex.status,
      error: ex.error,
      errorDetail: ex.errorDetail,
      reqBodyBytes: ex.requestBodyBytes,
      reqTruncated: ex.requestBodyTruncated,
      resBodyBytes: ex.responseBodyBytes,
      resTruncated: ex.responseBodyTruncated,
      resEncoding: ex.responseEncoding,
      reqHeaders: ex.requestHeaders,
      resHeaders: ex.responseHeaders,
      reqOff,
      reqLen: req ? req.byteLength : -1,
      resOff,
      resLen: res ? res.byteLength : -1,
    });
  }

  /** Copies every queued body into one new buffer, for transfer with the rows. */
  seal(): { rows: RowMessage[]; bodies: ArrayBuffer } {
    const buffer = new ArrayBuffer(this.bytes);
    const view = new Uint8Array(buffer);
    let at = 0;
    for (const b of this.bodies) {
      view.set(b, at);
      at += b.byteLength;
    }
    return { rows: this.rows, bodies: buffer };
  }
}
