import { createRequire } from 'node:module';
import type { Client as ClientClass } from 'undici';

/**
 * undici's `Client` class alone. `import { Client } from 'undici'` loads all
 * of undici (fetch, WebSocket, caches...): about 180 ms of CPU at start-up on
 * the bench machine, against about 60 ms for the client module by itself
 * (undici 7 has no `exports` map, so the deep path resolves; its types are
 * those of the package).
 */
const load = createRequire(import.meta.url);

/** The undici `Client` constructor. */
export const Client = load('undici/lib/dispatcher/client.js') as typeof ClientClass;
/** An undici `Client`. */
export type Client = ClientClass;
/** Options of an undici `Client`. */
export type ClientOptions = ClientClass.Options;
