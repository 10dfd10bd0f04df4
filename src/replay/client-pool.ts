import type { HttpClient as Client, HttpClientFactory } from './http-client.js';

/**
 * Keep-alive connections to one origin: one client (undici's `Client` or the
 * lean client) per connection, handed out from a stack of idle ones. undici's
 * own `Pool` scans all its
 * clients on every dispatch to find an idle one; with the runner already
 * capping requests in flight, a stack makes picking a connection O(1).
 */
export class ClientPool {
  private readonly idle: Client[] = [];
  private readonly all: Client[] = [];

  constructor(private readonly newClient: HttpClientFactory) {}

  /** An idle client, or a new one (the caller keeps requests in flight within its cap). */
  acquire(): Client {
    const c = this.idle.pop();
    if (c !== undefined) return c;
    const fresh = this.newClient();
    this.all.push(fresh);
    return fresh;
  }

  /** Gives a client back once it is done with its request. */
  release(client: Client): void {
    this.idle.push(client);
  }

  /** Connections opened so far. */
  get size(): number {
    return this.all.length;
  }

  /** Closes every connection at once (requests still hanging are aborted). */
  async destroy(): Promise<void> {
    await Promise.all(this.all.map((c) => c.destroy()));
  }
}
