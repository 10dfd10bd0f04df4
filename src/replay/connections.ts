import type { ActiveClone } from './active-clone.js';
import { ClientPool } from './client-pool.js';
import type { HttpClient as Client, HttpClientFactory } from './http-client.js';
import type { ConnectionMode } from '../model/run-result.js';

/** Hands connections to requests and takes them back. */
export interface Connections {
  acquire(clone: ActiveClone): Client;
  /** Gives a client back once it is done with its request. */
  release(clone: ActiveClone, client: Client): void;
  /** The clone has nothing queued or in flight any more. */
  cloneDone(clone: ActiveClone): void;
  /** Connections open right now. */
  readonly open: number;
  /** Connections opened over the run. */
  readonly opened: number;
  /** Closes everything (requests still hanging are aborted). */
  destroy(): Promise<void>;
}

function quietClose(c: Client): void {
  c.close().catch(() => undefined);
}

/**
 * Every clone owns its connections, like a real user: an idle stack of its
 * own clients (undici's `Client` or the lean client) (as many as it had requests in flight at once, so
 * usually one), opened on its first request and closed when the clone ends.
 */
export class PerCloneConnections implements Connections {
  private readonly live = new Set<Client>();
  opened = 0;

  constructor(private readonly newClient: HttpClientFactory) {}

  get open(): number {
    return this.live.size;
  }

  acquire(clone: ActiveClone): Client {
    const c = clone.idle?.pop();
    if (c !== undefined) return c;
    const fresh = this.newClient();
    this.live.add(fresh);
    this.opened++;
    return fresh;
  }

  release(clone: ActiveClone, client: Client): void {
    if (clone.pending === 0) {
      this.live.delete(client);
      quietClose(client);
    } else {
      (clone.idle ??= []).push(client);
    }
  }

  cloneDone(clone: ActiveClone): void {
    const idle = clone.idle;
    if (idle === null) return;
    for (const c of idle) {
      this.live.delete(c);
      quietClose(c);
    }
    clone.idle = null;
  }

  async destroy(): Promise<void> {
    const all = [...this.live];
    this.live.clear();
    await Promise.all(all.map((c) => c.destroy()));
  }
}

/** All clones share one pool of keep-alive connections (`--connections shared`). */
export class SharedConnections implements Connections {
  private readonly pool: ClientPool;

  constructor(newClient: HttpClientFactory) {
    this.pool = new ClientPool(newClient);
  }

  get open(): number {
    return this.pool.size;
  }

  get opened(): number {
    return this.pool.size;
  }

  acquire(): Client {
    return this.pool.acquire();
  }

  release(_clone: ActiveClone, client: Client): void {
    this.pool.release(client);
  }

  cloneDone(): void {}

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

/** The connections of a mode, each made by `newClient` (an undici or a lean client). */
export function createConnections(mode: ConnectionMode, newClient: HttpClientFactory): Connections {
  return mode === 'shared' ? new SharedConnections(newClient) : new PerCloneConnections(newClient);
}
