/**
 * The one error hierarchy of flashback. Every error that reaches the CLI
 * carries a stable `code`, the process `exitCode` it maps to, and an optional
 * `hint` telling the user what to do about it.
 *
 * Exit statuses (every command): 0 ok, 1 a gate failed, 2 bad usage or bad
 * input, 3 the run could not be carried out or is not a valid measurement.
 */
export class FlashbackError extends Error {
  readonly code: string;
  readonly exitCode: 1 | 2 | 3;
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    exitCode: 1 | 2 | 3,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** Bad flags or arguments (exit 2): `--scale must be a positive number (got "ten")`. */
export class UsageError extends FlashbackError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('FB_USAGE', message, 2, options);
  }
}

/** A file or document that cannot be used (exit 2): not a recording, corrupt HAR, bad scenario. */
export class InputError extends FlashbackError {
  constructor(message: string, options: { cause?: unknown; hint?: string; code?: string } = {}) {
    super(options.code ?? 'FB_INPUT', message, 2, options);
  }
}

/** The run could not be carried out or is not a valid measurement (exit 3). */
export class RunError extends FlashbackError {
  constructor(message: string, options: { cause?: unknown; hint?: string; code?: string } = {}) {
    super(options.code ?? 'FB_RUN', message, 3, options);
  }
}

/** One or more gates failed (exit 1). */
export class GateError extends FlashbackError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('FB_GATE', message, 1, options);
  }
}

/** The message of an unknown thrown value, for wrapping with `{ cause }`. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
