import type { HttpClient } from './http-client.js';
import type { ErrorKind } from '../model/exchange.js';
import type { ActiveClone } from './active-clone.js';
import { errorKindOf } from './error-kind.js';

/** What a slot reports to when its request ends. */
export interface SlotOwner {
  finish(slot: RequestSlot): void;
  release(slot: RequestSlot): void;
}

const SET_COOKIE = Buffer.from('set-cookie');

function isNamed(raw: Buffer, name: Buffer): boolean {
  if (raw.length !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((raw[i]! | 0x20) !== name[i]) return false;
  return true;
}

/**
 * One in-flight request and its undici dispatch handler (the legacy
 * `onConnect/onHeaders/onData/onComplete/onError` interface, which undici
 * calls directly without wrapping). Slots are pooled and reused: no closure
 * or promise per request. A slot may be finished by the timeout sweep before
 * undici calls back; it is only released to the pool once undici is done.
 */
export class RequestSlot {
  clone: ActiveClone | null = null;
  step = -1;
  intendedUs = 0;
  sentUs = 0;
  deadlineUs = 0;
  status = 0;
  bytes = 0;
  error: ErrorKind | null = null;
  /** Index in the owner's in-flight list (for O(1) removal). */
  inflightIndex = -1;
  /** Recorded (sample taken) — later undici callbacks only release. */
  finished = false;
  /** Response headers are wanted (correlation sources). */
  wantHeaders = false;
  keepBody = false;
  headers: Map<string, string> | null = null;
  setCookies: string[] | null = null;
  chunks: Buffer[] | null = null;
  abortFn: ((err: Error) => void) | null = null;
  /** The connection carrying the request (given back on release). */
  client: HttpClient | null = null;

  constructor(private readonly owner: SlotOwner) {}

  /** Resets the per-request fields for a new request. */
  reset(clone: ActiveClone, step: number, intendedUs: number, wantHeaders: boolean, keepBody: boolean): void {
    this.clone = clone;
    this.step = step;
    this.intendedUs = intendedUs;
    this.status = 0;
    this.bytes = 0;
    this.error = null;
    this.finished = false;
    this.wantHeaders = wantHeaders;
    this.keepBody = keepBody;
    this.headers = null;
    this.setCookies = null;
    this.chunks = null;
    this.abortFn = null;
  }

  onConnect(abort: (err: Error) => void): void {
    this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (isNamed(name, SET_COOKIE)) (this.setCookies ??= []).push(rawHeaders[i + 1]!.toString('latin1'));
      else if (this.wantHeaders) (this.headers ??= new Map()).set(name.toString('latin1').toLowerCase(), rawHeaders[i + 1]!.toString('latin1'));
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.keepBody) (this.chunks ??= []).push(chunk);
    return true;
  }

  onComplete(): void {
    if (!this.finished) this.owner.finish(this);
    this.owner.release(this);
  }

  onError(err: Error): void {
    if (!this.finished) {
      this.error = errorKindOf(err);
      this.status = 0;
      this.owner.finish(this);
    }
    this.owner.release(this);
  }

  onResponseStarted(): void {}
  onUpgrade(): void {}
  onBodySent(): void {}
  onRequestSent(): void {}
}
