/**
 * Carts and orders in SQLite. Cart contents are priced with the profile's
 * pricing strategy (N+1 or batched), which is where large carts hurt.
 */
import { randomUUID } from 'node:crypto';
import type { QueryScope, StoreDb } from './db.js';
import { HttpError, notFound } from './http-util.js';
import type { PriceLine, PriceQuote } from './pricing.js';

/** A priced cart line. */
export interface CartLine {
  productId: number;
  sku: string;
  name: string;
  qty: number;
  unitCents: number;
  lineCents: number;
}

/** A priced cart. */
export interface CartView {
  cartId: string;
  status: 'open' | 'checking_out' | 'checked_out';
  lines: CartLine[];
  totalCents: number;
}

type Pricer = (db: StoreDb, scope: QueryScope, lines: readonly PriceLine[]) => Map<number, PriceQuote>;

/** Largest quantity of one product in a cart. */
export const MAX_QTY = 20;

/** Cart operations; errors are {@link HttpError}s (404 unknown, 409 sold out or already checked out). */
export class CartService {
  constructor(private readonly db: StoreDb, private readonly price: Pricer) {}

  /** Creates an empty cart; returns its id. */
  create(scope: QueryScope, owner: string | null): string {
    const id = randomUUID();
    this.db.run(scope, "INSERT INTO carts (id, created_us, status, owner) VALUES (?, ?, 'open', ?)", id, Date.now() * 1000, owner);
    return id;
  }

  /** The cart's status and raw lines, or a 404. */
  raw(scope: QueryScope, cartId: string): { status: CartView['status']; lines: PriceLine[] } {
    const cart = this.db.get<{ status: CartView['status'] }>(scope, 'SELECT status FROM carts WHERE id = ?', cartId);
    if (!cart) throw notFound(`cart ${cartId}`);
    const lines = this.db.all<PriceLine>(scope, 'SELECT product_id AS productId, qty FROM cart_items WHERE cart_id = ? ORDER BY product_id', cartId);
    return { status: cart.status, lines };
  }

  /** The priced cart, or a 404. */
  view(scope: QueryScope, cartId: string): CartView {
    const { status, lines } = this.raw(scope, cartId);
    return { cartId, status, ...this.priceLines(scope, lines) };
  }

  /** Prices `lines` (with names), and totals them. */
  priceLines(scope: QueryScope, lines: readonly PriceLine[]): { lines: CartLine[]; totalCents: number } {
    const quotes = this.price(this.db, scope, lines);
    const names = lines.length === 0 ? [] : this.db.all<{ id: number; sku: string; name: string }>(
      scope, 'SELECT id, sku, name FROM products WHERE id IN (SELECT value FROM json_each(?))', JSON.stringify(lines.map((l) => l.productId)));
    const byId = new Map(names.map((n) => [n.id, n]));
    const out = lines.map((l) => {
      const unitCents = quotes.get(l.productId)?.unitCents ?? 0;
      const p = byId.get(l.productId);
      return { productId: l.productId, sku: p?.sku ?? '', name: p?.name ?? '', qty: l.qty, unitCents, lineCents: unitCents * l.qty };
    });
    return { lines: out, totalCents: out.reduce((t, l) => t + l.lineCents, 0) };
  }

  /** Adds `qty` of a product (quantities add up, at most {@link MAX_QTY}). */
  addItem(scope: QueryScope, cartId: string, productId: number, qty: number): CartView {
    const { status } = this.raw(scope, cartId);
    if (status !== 'open') throw new HttpError(409, 'cart_closed', `cart ${cartId} is already checked out`);
    const stock = this.db.get<{ stock: number }>(scope, 'SELECT stock FROM inventory WHERE product_id = ?', productId);
    if (!stock) throw notFound(`product ${productId}`);
    const current = this.db.get<{ qty: number }>(scope, 'SELECT qty FROM cart_items WHERE cart_id = ? AND product_id = ?', cartId, productId)?.qty ?? 0;
    if (stock.stock < current + qty) throw soldOut(productId, stock.stock);
    if (current + qty > MAX_QTY) throw new HttpError(400, 'bad_request', `at most ${MAX_QTY} of one product per cart`);
    this.db.run(scope, 'INSERT INTO cart_items (cart_id, product_id, qty) VALUES (?, ?, ?) ON CONFLICT (cart_id, product_id) DO UPDATE SET qty = excluded.qty',
      cartId, productId, current + qty);
    return this.view(scope, cartId);
  }

  /** Removes a product from the cart (404 if it is not in it). */
  removeItem(scope: QueryScope, cartId: string, productId: number): CartView {
    const { status } = this.raw(scope, cartId);
    if (status !== 'open') throw new HttpError(409, 'cart_closed', `cart ${cartId} is already checked out`);
    if (this.db.run(scope, 'DELETE FROM cart_items WHERE cart_id = ? AND product_id = ?', cartId, productId) === 0) {
      throw notFound(`product ${productId} in cart ${cartId}`);
    }
    return this.view(scope, cartId);
  }

  /** An order with its lines, or a 404. */
  order(scope: QueryScope, orderId: string): unknown {
    const order = this.db.get<{ id: string; cart_id: string; total_cents: number; status: string; payment_ref: string; created_us: number }>(
      scope, 'SELECT * FROM orders WHERE id = ?', orderId);
    if (!order) throw notFound(`order ${orderId}`);
    const lines = this.db.all(scope, 'SELECT product_id AS productId, qty, unit_cents AS unitCents FROM order_lines WHERE order_id = ?', orderId);
    return {
      orderId: order.id, cartId: order.cart_id, status: order.status, totalCents: order.total_cents,
      paymentRef: order.payment_ref, createdAt: new Date(order.created_us / 1000).toISOString(), lines,
    };
  }
}

/** 409 for a product without enough stock. */
export function soldOut(productId: number, stock: number): HttpError {
  return new HttpError(409, 'sold_out', stock === 0 ? `product ${productId} is sold out` : `only ${stock} of product ${productId} left`);
}
