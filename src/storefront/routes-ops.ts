/**
 * Operational routes: sign-in, health, Prometheus metrics, and fault
 * injection at run time (`/admin/faults`, loopback peers only).
 */
import { randomBytes } from 'node:crypto';
import type { Handler } from './app.js';
import { applyFault, describeFaults, noFaults } from './faults.js';
import { asObject, badRequest, HttpError, isLoopback } from './http-util.js';
import type { Router } from './router.js';

const login: Handler = async (ctx, app) => {
  const body = asObject(await ctx.body());
  const email = body['email'];
  const password = body['password'];
  if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 200) throw badRequest('email must be an address like ada@example.com');
  if (typeof password !== 'string' || password === '') throw badRequest('password must be a non-empty string');
  const token = randomBytes(18).toString('base64url');
  app.sessions.set(token, email);
  return {
    status: 200,
    body: { user: { email } },
    headers: { 'set-cookie': `auth_session=${token}; Path=/; HttpOnly; SameSite=Lax` },
  };
};

const healthz: Handler = (_ctx, app) => ({ status: 200, body: { status: 'ok', profile: app.profile } });

const metrics: Handler = (_ctx, app) => ({
  status: 200,
  body: app.metrics.registry.render(),
  headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
});

function loopbackOnly(ctx: Parameters<Handler>[0]): void {
  if (!isLoopback(ctx.req.socket.remoteAddress)) throw new HttpError(403, 'forbidden', '/admin/faults is only served to loopback clients');
}

const getFaults: Handler = (ctx, app) => {
  loopbackOnly(ctx);
  return { status: 200, body: { faults: describeFaults(app.faults) } };
};

const setFaults: Handler = async (ctx, app) => {
  loopbackOnly(ctx);
  const body = asObject(await ctx.body());
  const specs = body['faults'];
  if (!Array.isArray(specs) || !specs.every((s) => typeof s === 'string')) {
    throw badRequest('faults must be an array of specs, e.g. {"faults": ["payment-latency=800ms"]} ([] clears them)');
  }
  const next = noFaults();
  try {
    for (const s of specs as string[]) applyFault(next, s);
  } catch (e) {
    throw badRequest(e instanceof Error ? e.message.replace(/^--fault /, '') : String(e));
  }
  Object.assign(app.faults, next); // the same object is read by the db, cache and provider
  return { status: 200, body: { faults: describeFaults(app.faults) } };
};

/** Adds the operational routes to `router`. */
export function addOpsRoutes(router: Router<Handler>): void {
  router
    .add('POST', '/login', login)
    .add('GET', '/healthz', healthz)
    .add('GET', '/metrics', metrics)
    .add('GET', '/admin/faults', getFaults)
    .add('POST', '/admin/faults', setFaults);
}
