import { randomBytes } from 'node:crypto';
import type { RunRecorder } from '../measure/run-recorder.js';
import type { ConnectionMode } from '../model/run-result.js';
import type { ActiveClone } from './active-clone.js';
import { createConnections, type Connections } from './connections.js';
import { httpClientFactory, type HttpClientKind } from './http-client.js';
import { ReadyQueue } from './ready-queue.js';
import { RecentLatency } from './recent-latency.js';
import type { RequestSlot } from './request-slot.js';

/** What a runner needs to know of one target it sends to. */
export interface SideTarget {
  /** Origin requests go to (`http://127.0.0.1:3000`). */
  target: string;
  recorder: RunRecorder;
  /** The HTTP client (`chooseHttpClient`); undici when absent. */
  httpClient?: HttpClientKind;
}

/**
 * Everything a {@link ReplayRunner} keeps per target: its connections, its
 * queue of due requests, its requests in flight (capped on their own), its
 * recorder and counts. A plain replay has one side; a paired replay
 * (`--against`) two, which share the runner's clock, plan and loop but
 * nothing a response can change.
 */
export class RunnerSide {
  readonly target: string;
  readonly recorder: RunRecorder;
  readonly pool: Connections;
  readonly ready = new ReadyQueue<ActiveClone>();
  readonly inflight: RequestSlot[] = [];
  readonly recent = new RecentLatency();
  readonly dropped = { count: 0 };
  /**
   * Random per run, per worker and per side: per-copy header values differ
   * between runs against one target, and between the two sides of a paired
   * run against the same target (an A/A run).
   */
  readonly runTag = randomBytes(3).toString('hex');
  sessions = 0;
  unsent = 0;
  done = 0;
  errors = 0;

  constructor(
    /** 0 for `--target`, 1 for `--against`. */
    readonly index: number,
    t: SideTarget,
    connections: ConnectionMode,
    timeoutUs: number,
  ) {
    this.target = t.target;
    this.recorder = t.recorder;
    const timeoutMs = Math.max(1, Math.round(timeoutUs / 1000));
    // the sweep enforces --timeout: neither client runs a timer per request
    const newClient = httpClientFactory(t.httpClient ?? 'undici', t.target, { keepAliveTimeout: 30_000, connectTimeout: timeoutMs });
    this.pool = createConnections(connections, newClient);
  }
}
