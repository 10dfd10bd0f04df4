/**
 * Shop routes: catalogue, cart, checkout, orders. Each validates its input
 * (400 with a JSON error naming the field), answers 404 for unknown ids and
 * 409 for sold-out products.
 */
import type { Handler } from './app.js';
import { MAX_QTY } from './cart.js';
import { asObject, badRequest, HttpError, intParam, notFound } from './http-util.js';
import type { Router } from './router.js';

function positiveId(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d{1,9}$/.test(text) || Number(text) < 1) throw badRequest(`${what} must be a positive whole number (got "${text ?? ''}")`);
  return Number(text);
}

function intField(body: Record<string, unknown>, name: string, fallback: number | null, max: number): number {
  const v = body[name];
  if (v === undefined && fallback !== null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw badRequest(`${name} must be a whole number from 1 to ${max} (got ${JSON.stringify(v) ?? 'nothing'})`);
  }
  return v;
}

const home: Handler = async (ctx, app) => ({ status: 200, body: await app.catalogue.home(ctx.scope) });

const listProducts: Handler = async (ctx, app) => {
  const page = intParam(ctx.query, 'page', 1);
  const size = ctx.query.has('size') ? intParam(ctx.query, 'size', 20) : null;
  const category = ctx.query.get('category') || null;
  const result = await app.catalogue.list(ctx.scope, category, page, size);
  if (!result) throw notFound(`category "${category}"`);
  return { status: 200, body: result };
};

const product: Handler = async (ctx, app) => {
  const id = positiveId(ctx.params['id'], 'product id');
  const detail = await app.catalogue.product(ctx.scope, id);
  if (!detail) throw notFound(`product ${id}`);
  return { status: 200, body: detail };
};

const search: Handler = async (ctx, app) => {
  const q = (ctx.query.get('q') ?? '').trim();
  if (q === '') throw badRequest('q is required (the words to search for)');
  if (q.length > 100) throw badRequest('q must be at most 100 characters');
  if (app.searchLimiter && !app.searchLimiter.tryTake(ctx.visitor)) {
    app.metrics.rejected.inc({ reason: 'rate_limited' });
    const wait = Math.max(1, Math.ceil(app.searchLimiter.retryAfterMs(ctx.visitor) / 1000));
    throw new HttpError(429, 'rate_limited', 'too many searches; slow down', { 'retry-after': String(wait) });
  }
  const page = intParam(ctx.query, 'page', 1);
  const size = ctx.query.has('size') ? intParam(ctx.query, 'size', 20) : null;
  return { status: 200, body: await app.catalogue.search(ctx.scope, q, page, size) };
};

const createCart: Handler = (ctx, app) => {
  const cartId = app.carts.create(ctx.scope, ctx.user);
  return { status: 201, body: { cartId }, headers: { location: `/cart/${cartId}` } };
};

const getCart: Handler = (ctx, app) => ({ status: 200, body: app.carts.view(ctx.scope, ctx.params['cartId']!) });

const addItem: Handler = async (ctx, app) => {
  const body = asObject(await ctx.body());
  const productId = intField(body, 'productId', null, 1_000_000_000);
  const qty = intField(body, 'qty', 1, MAX_QTY);
  return { status: 200, body: app.carts.addItem(ctx.scope, ctx.params['cartId']!, productId, qty) };
};

const removeItem: Handler = (ctx, app) => {
  const productId = positiveId(ctx.params['productId'], 'product id');
  return { status: 200, body: app.carts.removeItem(ctx.scope, ctx.params['cartId']!, productId) };
};

const checkout: Handler = async (ctx, app) => {
  const body = asObject(await ctx.body());
  const cartId = body['cartId'];
  if (typeof cartId !== 'string' || cartId === '' || cartId.length > 100) throw badRequest('cartId must be a non-empty string');
  const payment = body['payment'];
  if (typeof payment !== 'object' || payment === null || typeof (payment as Record<string, unknown>)['token'] !== 'string') {
    throw badRequest('payment must be an object with a token, e.g. {"token": "tok_visa"}');
  }
  const token = (payment as Record<string, string>)['token']!;
  const rawKey = ctx.req.headers['idempotency-key'];
  const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) throw badRequest('Idempotency-Key must be 1 to 255 visible ASCII characters');
  return app.checkout(ctx.scope, { cartId, paymentToken: token, idempotencyKey: key ?? null });
};

const order: Handler = (ctx, app) => ({ status: 200, body: app.carts.order(ctx.scope, ctx.params['orderId']!) });

/** Adds the shop routes to `router`. */
export function addShopRoutes(router: Router<Handler>): void {
  router
    .add('GET', '/', home)
    .add('GET', '/products', listProducts)
    .add('GET', '/products/:id', product)
    .add('GET', '/search', search)
    .add('POST', '/cart', createCart)
    .add('GET', '/cart/:cartId', getCart)
    .add('POST', '/cart/:cartId/items', addItem)
    .add('DELETE', '/cart/:cartId/items/:productId', removeItem)
    .add('POST', '/checkout', checkout)
    .add('GET', '/orders/:orderId', order);
}
