import { Transform, type TransformCallback } from 'node:stream';

/**
 * Keeps the first `capBytes` bytes of a body that streams past, and counts
 * all of it. Never holds more than the cap.
 */
export class BodyCapture {
  private readonly capBytes: number;
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte seen, kept or not. */
  totalBytes = 0;

  constructor(capBytes: number) {
    this.capBytes = capBytes;
  }

  /** Notes one chunk (the chunk itself is not modified or retained past the cap). */
  add(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    const room = this.capBytes - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(part);
    this.kept += part.length;
  }

  /** True when bytes were seen beyond the cap. */
  get truncated(): boolean {
    return this.totalBytes > this.kept;
  }

  /**
   * The kept bytes, or null when the body was empty. A single chunk is
   * returned as is (a view of what the socket delivered, never written to
   * again; the writer copies it when queued), several are joined.
   */
  bytes(): Uint8Array | null {
    if (this.totalBytes === 0) return null;
    if (this.chunks.length === 1) return this.chunks[0]!;
    return Buffer.concat(this.chunks, this.kept);
  }
}

/** A pass-through stream that feeds every chunk to a {@link BodyCapture} on the way. */
export class CaptureStream extends Transform {
  readonly capture: BodyCapture;

  constructor(capture: BodyCapture) {
    super();
    this.capture = capture;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.capture.add(chunk);
    done(null, chunk);
  }
}
