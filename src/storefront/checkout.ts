/**
 * Checkout: reserve inventory, charge the payment provider, create the order.
 *
 * Naive: reads stock and decrements it under a per-SKU lock that is held for
 * the whole checkout, payment call included, so every checkout of a hot SKU
 * waits for the previous one's payment (lock contention); a retried request
 * for the same cart reserves again (no idempotency).
 *
 * Tuned: claims the cart, reserves with short atomic conditional UPDATEs
 * (`stock = stock - ? WHERE sku = ? AND stock >= ?`) in one transaction, pays
 * outside any lock, and releases the reservation if payment fails. An
 * Idempotency-Key makes a retried request get the first one's answer.
 */
import { randomUUID } from 'node:crypto';
import type { CartService } from './cart.js';
import { soldOut } from './cart.js';
import type { Catalogue } from './catalogue.js';
import type { QueryScope, StoreDb } from './db.js';
import { HttpError } from './http-util.js';
import type { IdempotencyGuard } from './idempotency.js';
import { IdempotencyConflict } from './idempotency.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { PaymentClient, PaymentOutcome } from './payment-client.js';
import { skuOf } from './seed-catalogue.js';
import type { StorefrontMetrics } from './storefront-metrics.js';
import type { Reply } from './types.js';

/** A validated checkout request. */
export interface CheckoutInput {
  cartId: string;
  paymentToken: string;
  idempotencyKey: string | null;
}

/** What a checkout needs. */
export interface CheckoutDeps {
  db: StoreDb;
  carts: CartService;
  catalogue: Catalogue;
  payment: PaymentClient;
  metrics: StorefrontMetrics;
}

type Lines = ReturnType<CartService['priceLines']>;

function createOrder(deps: CheckoutDeps, scope: QueryScope, input: CheckoutInput, priced: Lines, chargeId: string): Reply {
  const orderId = randomUUID();
  deps.db.tx(() => {
    deps.db.run(scope, "INSERT INTO orders VALUES (?, ?, ?, 'paid', ?, ?, ?)", orderId, input.cartId, priced.totalCents, chargeId,
      input.idempotencyKey, Date.now() * 1000);
    for (const l of priced.lines) deps.db.run(scope, 'INSERT INTO order_lines VALUES (?, ?, ?, ?)', orderId, l.productId, l.qty, l.unitCents);
    deps.db.run(scope, "UPDATE carts SET status = 'checked_out' WHERE id = ?", input.cartId);
  });
  deps.metrics.orders.inc();
  return { status: 201, body: { orderId, status: 'paid', totalCents: priced.totalCents, lines: priced.lines }, headers: { location: `/orders/${orderId}` } };
}

function paymentFailure(outcome: Exclude<PaymentOutcome, { ok: true }>, deps: CheckoutDeps): HttpError {
  deps.metrics.paymentFailures.inc({ reason: outcome.reason });
  switch (outcome.reason) {
    case 'declined':
      return new HttpError(402, 'payment_declined', 'the payment was declined');
    case 'breaker_open':
      deps.metrics.rejected.inc({ reason: 'breaker_open' });
      return new HttpError(503, 'payment_unavailable', 'the payment provider is unavailable; nothing was charged, try again shortly',
        { 'retry-after': String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))) });
    case 'timeout':
      return new HttpError(504, 'payment_timeout', 'the payment provider did not answer in time; nothing was reserved, try again');
    default:
      return new HttpError(502, 'payment_failed', 'the payment provider failed; nothing was reserved, try again');
  }
}

/** Naive checkout (see module comment). Errors are thrown as {@link HttpError}s. */
export async function checkoutNaive(deps: CheckoutDeps, mutex: KeyedMutex, scope: QueryScope, input: CheckoutInput): Promise<Reply> {
  const { db, carts, metrics } = deps;
  const cart = carts.raw(scope, input.cartId);
  if (cart.status !== 'open') throw new HttpError(409, 'cart_closed', `cart ${input.cartId} is already checked out`);
  if (cart.lines.length === 0) throw new HttpError(400, 'bad_request', 'the cart is empty');
  const locks = await mutex.acquire(cart.lines.map((l) => skuOf(l.productId)));
  metrics.lockAcquisitions.inc({}, cart.lines.length);
  if (locks.contended > 0) metrics.lockWaits.inc({}, locks.contended);
  metrics.lockWaitSeconds.observe(locks.waitedUs / 1e6);
  try {
    // The whole "transaction" runs under the row locks: pricing (N+1), stock check, payment, update.
    const priced = carts.priceLines(scope, cart.lines);
    for (const l of cart.lines) {
      const stock = db.get<{ stock: number }>(scope, 'SELECT stock FROM inventory WHERE sku = ?', skuOf(l.productId))!.stock;
      if (stock < l.qty) {
        metrics.reservations.inc({ result: 'sold_out' });
        throw soldOut(l.productId, stock);
      }
    }
    const outcome = await deps.payment.pay({ amountCents: priced.totalCents, token: input.paymentToken, idempotencyKey: randomUUID() });
    if (!outcome.ok) throw paymentFailure(outcome, deps);
    db.tx(() => {
      for (const l of cart.lines) db.run(scope, 'UPDATE inventory SET stock = stock - ? WHERE sku = ?', l.qty, skuOf(l.productId));
    });
    metrics.reservations.inc({ result: 'reserved' }, cart.lines.length);
    return createOrder(deps, scope, input, priced, outcome.chargeId);
  } finally {
    locks.release();
  }
}

async function tunedOnce(deps: CheckoutDeps, scope: QueryScope, input: CheckoutInput): Promise<Reply> {
  const { db, carts, metrics } = deps;
  const cart = carts.raw(scope, input.cartId);
  if (cart.lines.length === 0 && cart.status === 'open') throw new HttpError(400, 'bad_request', 'the cart is empty');
  if (db.run(scope, "UPDATE carts SET status = 'checking_out' WHERE id = ? AND status = 'open'", input.cartId) === 0) {
    throw new HttpError(409, 'cart_closed', `cart ${input.cartId} is already being checked out or checked out`);
  }
  const reopen = () => db.run(scope, "UPDATE carts SET status = 'open' WHERE id = ?", input.cartId);
  const priced = carts.priceLines(scope, cart.lines);
  try {
    db.tx(() => {
      for (const l of cart.lines) {
        if (db.run(scope, 'UPDATE inventory SET stock = stock - ? WHERE sku = ? AND stock >= ?', l.qty, skuOf(l.productId), l.qty) === 0) {
          const left = db.get<{ stock: number }>(scope, 'SELECT stock FROM inventory WHERE sku = ?', skuOf(l.productId))?.stock ?? 0;
          throw soldOut(l.productId, left);
        }
      }
    });
  } catch (e) {
    metrics.reservations.inc({ result: 'sold_out' });
    reopen();
    throw e;
  }
  metrics.reservations.inc({ result: 'reserved' }, cart.lines.length);
  for (const l of cart.lines) deps.catalogue.invalidateProduct(l.productId);
  const outcome = await deps.payment.pay({
    amountCents: priced.totalCents, token: input.paymentToken, idempotencyKey: input.idempotencyKey ?? `cart:${input.cartId}`,
  });
  if (!outcome.ok) {
    db.tx(() => {
      for (const l of cart.lines) db.run(scope, 'UPDATE inventory SET stock = stock + ? WHERE sku = ?', l.qty, skuOf(l.productId));
      reopen();
    });
    metrics.reservations.inc({ result: 'released' }, cart.lines.length);
    throw paymentFailure(outcome, deps);
  }
  return createOrder(deps, scope, input, priced, outcome.chargeId);
}

/** Tuned checkout (see module comment). Errors are thrown as {@link HttpError}s. */
export async function checkoutTuned(deps: CheckoutDeps, guard: IdempotencyGuard<Reply>, scope: QueryScope, input: CheckoutInput): Promise<Reply> {
  if (input.idempotencyKey === null) return tunedOnce(deps, scope, input);
  const asReply = async (): Promise<Reply> => {
    try {
      return await tunedOnce(deps, scope, input);
    } catch (e) {
      if (e instanceof HttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } }, headers: e.headers };
      throw e;
    }
  };
  let outcome: { result: Reply; replayed: boolean };
  try {
    outcome = await guard.run(input.idempotencyKey, `${input.cartId}\n${input.paymentToken}`, asReply);
  } catch (e) {
    if (!(e instanceof IdempotencyConflict)) throw e;
    deps.metrics.rejected.inc({ reason: 'idempotency_conflict' });
    throw new HttpError(422, 'idempotency_conflict', e.message);
  }
  const { result, replayed } = outcome;
  if (!replayed) return result;
  deps.metrics.idempotentReplays.inc();
  return { ...result, headers: { ...result.headers, 'idempotent-replayed': 'true' } };
}
