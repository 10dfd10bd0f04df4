/**
 * The storefront's HTTP server (node:http): routes requests, sets the
 * visitor cookie, turns errors into JSON, and records per-route metrics.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError, messageOf, RunError, UsageError } from '../model/errors.js';
import type { App, Handler, RequestCtx } from './app.js';
import { createApp } from './app.js';
import { parseFaults } from './faults.js';
import { HttpError, parseCookies, readJson, sendError, sendJson } from './http-util.js';
import { Router } from './router.js';
import { addOpsRoutes } from './routes-ops.js';
import { addShopRoutes } from './routes-shop.js';
import type { Reply, RunningStorefront, StorefrontOptions } from './types.js';
import { PROFILES } from './types.js';

function validate(options: StorefrontOptions): void {
  if (!PROFILES.includes(options.profile)) throw new UsageError(`--profile must be naive or tuned (got "${String(options.profile)}")`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535 (got "${port}")`);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be a whole number from 0 to 4294967295 (got "${seed}")`);
}

async function handle(app: App, router: Router<Handler>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const start = performance.now();
  app.inFlight += 1;
  const scope = { queries: 0 };
  let route = 'unmatched';
  const cookies = parseCookies(req.headers.cookie);
  const known = cookies.get('vid');
  const visitor = known ?? randomBytes(9).toString('base64url');
  const session = cookies.get('auth_session');
  let reply: Reply;
  try {
    const url = new URL(req.url ?? '/', 'http://storefront.invalid');
    const m = router.match(req.method ?? 'GET', url.pathname);
    if (m.kind === 'found') {
      route = m.route;
      const ctx: RequestCtx = {
        req, scope, params: m.params, query: url.searchParams, visitor,
        user: session ? (app.sessions.get(session) ?? null) : null,
        body: () => readJson(req),
      };
      reply = await m.handler(ctx, app);
    } else if (m.kind === 'method-not-allowed') {
      route = m.route;
      throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here (allowed: ${m.allowed.join(', ')})`, { allow: m.allowed.join(', ') });
    } else {
      throw new HttpError(404, 'not_found', `no route for ${req.method} ${url.pathname}`);
    }
  } catch (e) {
    const he = e instanceof HttpError ? e : e instanceof URIError ? new HttpError(400, 'bad_request', 'malformed percent-encoding in the path') : new HttpError(500, 'internal', `internal error: ${messageOf(e)}`);
    reply = { status: he.status, body: { error: { code: he.code, message: he.message } }, headers: he.headers };
  }
  const headers: Record<string, string | string[]> = { ...reply.headers };
  if (!known) {
    const vid = `vid=${visitor}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000`;
    const other = reply.headers?.['set-cookie'];
    headers['set-cookie'] = other ? [vid, other] : vid;
  }
  if (!res.destroyed) {
    if (typeof reply.body === 'string') {
      res.writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(reply.body);
    } else {
      sendJson(res, reply.status, reply.body, headers);
    }
  }
  const m = app.metrics;
  m.requests.inc({ route, status: String(reply.status) });
  m.latency.observe((performance.now() - start) / 1000, { route });
  m.dbQueries.inc({ route }, scope.queries);
  m.dbQueriesPerRequest.observe(scope.queries, { route });
  app.inFlight -= 1;
}

/**
 * Starts a storefront: opens (and seeds, if empty) the database, listens,
 * resolves once it accepts connections. Throws UsageError for bad options,
 * InputError for an unusable database file, RunError if it cannot listen.
 */
export async function startStorefront(options: StorefrontOptions): Promise<RunningStorefront> {
  validate(options);
  const faults = parseFaults(options.faults ?? []);
  const dbPath = options.dbPath ?? ':memory:';
  let app: App;
  try {
    app = createApp(options.profile, faults, dbPath, options.seed ?? 1, options.paymentProvider);
  } catch (e) {
    throw new InputError(`Failed to open storefront database ${dbPath}: ${messageOf(e)}`, { cause: e });
  }
  const router = new Router<Handler>();
  addShopRoutes(router);
  addOpsRoutes(router);
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    handle(app, router, req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, new HttpError(500, 'internal', messageOf(e)));
    });
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    app.close();
    throw new RunError(`Failed to listen on ${host}:${options.port ?? 0}: ${messageOf(e)}`, { cause: e });
  }
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    profile: options.profile,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const until = Date.now() + 3000;
        while (app.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        server.closeAllConnections();
        await closed;
        app.close();
      })();
      return closing;
    },
  };
}
