/** One element of a wanted array, parsed. */
export interface ScannedElement {
  /** Dotted key path of the array (`log.entries`). */
  path: string;
  /** Position in that array. */
  index: number;
  value: unknown;
}

/** Why the document could not be scanned (message says where). */
export class JsonScanError extends Error {}

interface Frame {
  array: boolean;
  key: string | null;
  /** Elements of this array are captured and parsed. */
  emit: boolean;
  index: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * A streaming scanner for large JSON documents made of a few big arrays of
 * objects (a HAR's `log.entries`): it tracks only the structure above the
 * wanted arrays and hands each element's bytes, once complete, to the
 * native `JSON.parse`. Memory is bounded by the largest element; speed is
 * that of a byte loop plus `JSON.parse`, several times faster than a
 * token-by-token parser such as stream-json. Feed chunks with {@link push};
 * {@link end} checks the document was complete. Elements are validated by
 * `JSON.parse`; the structure around them by the scanner (brackets balance,
 * strings close). Throws {@link JsonScanError}.
 */
export class JsonArrayScanner {
  private readonly stack: Frame[] = [];
  private expectKey = false;
  private pendingKey: string | null = null;
  /** Bytes of a string (a key) at the structural level that a chunk boundary cut. */
  private keyParts: Buffer[] | null = null;
  private keyEscape = false;
  private started = false;
  private finished = false;
  private offset = 0;
  // Element capture state.
  private capturing = false;
  private capParts: Buffer[] = [];
  private capDepth = 0;
  private capInString = false;
  private capEscape = false;
  /** Where the element being captured starts in the current chunk (0 for a continued element). */
  private capStart = 0;

  constructor(private readonly wanted: (path: readonly string[]) => boolean) {}

  /** Scans one chunk, appending completed elements to `out`. */
  push(buf: Buffer, out: ScannedElement[]): void {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      if (this.capturing) {
        i = this.capture(buf, i, out);
        continue;
      }
      if (this.keyParts) {
        i = this.readKey(buf, i);
        continue;
      }
      const c = buf[i]!;
      if (isSpace(c)) {
        i++;
        continue;
      }
      if (this.finished) throw this.error('unexpected data after the end of the document', i);
      const top = this.stack[this.stack.length - 1];
      if (!this.started) {
        if (c !== LBRACE && c !== LBRACKET) throw this.error('the document does not start with { or [', i);
        this.started = true;
      }
      if (top?.emit && (c !== COMMA && c !== RBRACKET)) {
        if (c !== LBRACE && c !== LBRACKET) throw this.error(`element ${top.index} of ${this.pathOf(top)} is not an object`, i);
        this.capturing = true;
        this.capParts = [];
        this.capDepth = 0;
        this.capInString = false;
        this.capEscape = false;
        this.capStart = i;
        continue;
      }
      switch (c) {
        case LBRACE:
        case LBRACKET: {
          const key = top && !top.array ? this.pendingKey : null;
          const frame: Frame = { array: c === LBRACKET, key, emit: false, index: 0 };
          this.stack.push(frame);
          if (frame.array && this.wanted(this.stack.map((f) => f.key ?? ''))) frame.emit = true;
          this.expectKey = !frame.array;
          this.pendingKey = null;
          i++;
          break;
        }
        case RBRACE:
        case RBRACKET: {
          const frame = this.stack.pop();
          if (!frame || frame.array !== (c === RBRACKET)) throw this.error('brackets do not match', i);
          if (this.stack.length === 0) this.finished = true;
          this.expectKey = false;
          i++;
          break;
        }
        case COMMA:
          if (top?.emit) top.index++;
          this.expectKey = top !== undefined && !top.array;
          i++;
          break;
        case COLON:
          this.expectKey = false;
          i++;
          break;
        case QUOTE:
          this.keyParts = [];
          this.keyEscape = false;
          i = this.readKey(buf, i + 1);
          break;
        default:
          i++; // numbers, true, false, null at the structural level
      }
    }
    // Copy: the stream may reuse its chunk buffers.
    if (this.capturing) this.capParts.push(Buffer.from(buf.subarray(this.capStart)));
    this.capStart = 0;
    this.offset += n;
  }

  /** Checks the document ended complete. */
  end(): void {
    if (this.capturing || this.keyParts || this.stack.length > 0 || !this.finished) {
      throw new JsonScanError(`the document ends early, at byte ${this.offset} (truncated?)`);
    }
  }

  private pathOf(frame: Frame): string {
    return this.stack
      .slice(1, this.stack.indexOf(frame) + 1)
      .map((f) => f.key ?? String(f.index))
      .join('.');
  }

  private error(what: string, i: number): JsonScanError {
    return new JsonScanError(`${what} (byte ${this.offset + i})`);
  }

  /** Reads a string at the structural level (from just after its opening quote). */
  private readKey(buf: Buffer, i: number): number {
    const n = buf.length;
    const start = i;
    let escape = this.keyEscape;
    for (; i < n; i++) {
      const c = buf[i]!;
      if (escape) escape = false;
      else if (c === BACKSLASH) escape = true;
      else if (c === QUOTE) {
        this.keyParts!.push(buf.subarray(start, i));
        const text = Buffer.concat(this.keyParts!).toString('utf8');
        this.keyParts = null;
        if (this.expectKey) {
          try {
            this.pendingKey = JSON.parse(`"${text}"`) as string;
          } catch {
            throw this.error('bad string', i);
          }
        }
        return i + 1;
      }
    }
    this.keyEscape = escape;
    this.keyParts!.push(Buffer.from(buf.subarray(start)));
    return n;
  }

  /** Scans an element being captured; on its end, parses it and resumes structural scanning. */
  private capture(buf: Buffer, i: number, out: ScannedElement[]): number {
    const n = buf.length;
    let depth = this.capDepth;
    let inString = this.capInString;
    let escape = this.capEscape;
    for (; i < n; i++) {
      if (inString) {
        if (escape) {
          escape = false;
          continue;
        }
        // Jump to the next quote (native search), then see whether it is escaped.
        const q = buf.indexOf(QUOTE, i);
        const stop = q < 0 ? n : q;
        let k = stop - 1;
        while (k >= i && buf[k] === BACKSLASH) k--;
        const oddBackslashes = (stop - 1 - k) % 2 === 1;
        if (q < 0) {
          escape = oddBackslashes;
          i = n;
          break;
        }
        if (!oddBackslashes) inString = false;
        i = q; // the loop's i++ steps past the quote
        continue;
      }
      const c = buf[i]!;
      if (c === QUOTE) inString = true;
      else if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET) {
        depth--;
        if (depth === 0) {
          const frame = this.stack[this.stack.length - 1]!;
          this.capParts.push(buf.subarray(this.capStart, i + 1));
          const text = this.capParts.length === 1 ? this.capParts[0]!.toString('utf8') : Buffer.concat(this.capParts).toString('utf8');
          this.capParts = [];
          this.capturing = false;
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch (e) {
            throw this.error(`element ${frame.index} of ${this.pathOf(frame)} is not valid JSON: ${(e as Error).message}`, i);
          }
          out.push({ path: this.pathOf(frame), index: frame.index, value });
          this.capStart = 0;
          return i + 1;
        }
      }
    }
    this.capDepth = depth;
    this.capInString = inString;
    this.capEscape = escape;
    return n;
  }
}
