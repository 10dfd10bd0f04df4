/** Thrown into undici when a request passes `--timeout`. */
export class RequestTimeoutError extends Error {
  readonly code = 'FB_REQUEST_TIMEOUT';
  constructor() {
    super('request timed out');
  }
}

/** Maps an undici or socket error to the error kinds run.json counts (shared with the recorder). */
export { errorKindOf } from '../model/error-kind.js';
