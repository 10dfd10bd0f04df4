/**
 * Executes one shopper step over HTTP (undici), keeping the shopper's
 * cookies, cart and order. A checkout that fails with a 5xx or a transport
 * error is retried once, with the same Idempotency-Key, as a real client
 * would.
 */
import type { Dispatcher } from 'undici';
import { CookieJar } from './cookie-jar.js';
import type { ShopperPlan, ShopperStep } from './plan.js';
import type { ShopTally } from './tally.js';

/** One shopper's live state. */
export interface ShopperSession {
  plan: ShopperPlan;
  origin: string;
  dispatcher: Dispatcher;
  jar: CookieJar;
  cartId: string | null;
  /** performance.now() after which nothing new starts. */
  endAt: number;
  sleepUntil: (t: number) => Promise<boolean>;
}

/** A fresh session for `plan`. */
export function newSession(plan: ShopperPlan, origin: string, dispatcher: Dispatcher, endAt: number,
  sleepUntil: (t: number) => Promise<boolean>): ShopperSession {
  return { plan, origin, dispatcher, jar: new CookieJar(), cartId: null, endAt, sleepUntil };
}

interface Answer {
  status: number;
  json: Record<string, unknown> | null;
  headers: Record<string, string | string[] | undefined>;
}

async function call(s: ShopperSession, tally: ShopTally, method: Dispatcher.HttpMethod, path: string, route: string,
  body?: unknown, extra: Record<string, string> = {}): Promise<Answer | null> {
  const headers: Record<string, string> = { 'user-agent': s.plan.userAgent, 'x-region': s.plan.region, accept: 'application/json', ...extra };
  const cookie = s.jar.header();
  if (cookie) headers['cookie'] = cookie;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const t0 = performance.now();
  try {
    const res = await s.dispatcher.request({ origin: s.origin, path, method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.body.text();
    tally.record(route, res.statusCode, Math.round((performance.now() - t0) * 1000));
    s.jar.store(res.headers['set-cookie']);
    let json: Record<string, unknown> | null = null;
    if (String(res.headers['content-type'] ?? '').includes('json')) {
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = null;
      }
    }
    return { status: res.statusCode, json, headers: res.headers };
  } catch {
    tally.record(route, 0, Math.round((performance.now() - t0) * 1000));
    return null;
  }
}

async function checkout(s: ShopperSession, step: Extract<ShopperStep, { kind: 'checkout' }>, tally: ShopTally): Promise<void> {
  if (!s.cartId) return;
  const body = { cartId: s.cartId, payment: { token: step.token } };
  for (let attempt = 0; attempt < 2; attempt++) {
    const a = await call(s, tally, 'POST', '/checkout', 'POST /checkout', body, { 'idempotency-key': step.idempotencyKey });
    if (a && a.status === 201) {
      tally.orderPlaced();
      const orderId = a.json?.['orderId'];
      if (typeof orderId === 'string') await call(s, tally, 'GET', `/orders/${encodeURIComponent(orderId)}`, 'GET /orders/:orderId');
      return;
    }
    if (a && a.status < 500) return; // sold out, declined, already checked out: final answers
    const retryAfterS = Number(a?.headers['retry-after'] ?? 1);
    const due = performance.now() + Math.min(5, Number.isFinite(retryAfterS) ? retryAfterS : 1) * 1000;
    if (due >= s.endAt || !(await s.sleepUntil(due))) return;
  }
}

/** Runs `step`; failures are counted in `tally`, never thrown. */
export async function executeStep(s: ShopperSession, step: ShopperStep, tally: ShopTally): Promise<void> {
  const cart = s.cartId === null ? '' : encodeURIComponent(s.cartId);
  switch (step.kind) {
    case 'home':
      await call(s, tally, 'GET', '/', 'GET /');
      return;
    case 'login':
      await call(s, tally, 'POST', '/login', 'POST /login', { email: step.email, password: 'correct horse battery staple' });
      return;
    case 'browse': {
      const size = step.size === null ? '' : `&size=${step.size}`;
      await call(s, tally, 'GET', `/products?category=${encodeURIComponent(step.category)}&page=${step.page}${size}`, 'GET /products');
      return;
    }
    case 'search':
      await call(s, tally, 'GET', `/search?q=${encodeURIComponent(step.q)}`, 'GET /search');
      return;
    case 'product':
      await call(s, tally, 'GET', `/products/${step.productId}`, 'GET /products/:id');
      return;
    case 'create-cart': {
      const a = await call(s, tally, 'POST', '/cart', 'POST /cart');
      const id = a?.json?.['cartId'];
      s.cartId = typeof id === 'string' ? id : null;
      return;
    }
    case 'add':
      if (s.cartId) await call(s, tally, 'POST', `/cart/${cart}/items`, 'POST /cart/:cartId/items', { productId: step.productId, qty: step.qty });
      return;
    case 'remove':
      if (s.cartId) await call(s, tally, 'DELETE', `/cart/${cart}/items/${step.productId}`, 'DELETE /cart/:cartId/items/:productId');
      return;
    case 'view-cart':
      if (s.cartId) await call(s, tally, 'GET', `/cart/${cart}`, 'GET /cart/:cartId');
      return;
    case 'checkout':
      await checkout(s, step, tally);
      return;
  }
}
