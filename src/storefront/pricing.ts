/**
 * Prices with promotions. A product's price is its list price less the best
 * active promotion that applies to it (its own rules and its category's,
 * each with a minimum quantity). Two strategies with the same answers:
 * `priceNaive` reads the price, the rule ids, then every rule one query at a
 * time (N+1: cost grows with lines × rules); `priceBatched` gets everything
 * for all lines in one query.
 */
import type { QueryScope, StoreDb } from './db.js';

/** A line to price. */
export interface PriceLine {
  productId: number;
  qty: number;
}

/** The price of one product at a quantity. */
export interface PriceQuote {
  productId: number;
  listCents: number;
  unitCents: number;
  /** Name of the promotion applied, or null. */
  promotion: string | null;
}

interface RuleRow {
  name: string;
  kind: 'percent' | 'amount';
  value: number;
  min_qty: number;
}

/** Applies the best rule of `rules` to `listCents` at quantity `qty`. */
export function bestPrice(listCents: number, qty: number, rules: readonly RuleRow[]): { unitCents: number; promotion: string | null } {
  let unitCents = listCents;
  let promotion: string | null = null;
  for (const r of rules) {
    if (qty < r.min_qty) continue;
    const candidate = r.kind === 'percent' ? Math.round((listCents * (100 - r.value)) / 100) : Math.max(0, listCents - r.value);
    if (candidate < unitCents || (candidate === unitCents && promotion !== null && r.name < promotion)) {
      unitCents = candidate;
      promotion = r.name;
    }
  }
  return { unitCents, promotion };
}

/** N+1 pricing: 3 + (rules) queries per line. Unknown products are left out. */
export function priceNaive(db: StoreDb, scope: QueryScope, lines: readonly PriceLine[]): Map<number, PriceQuote> {
  const out = new Map<number, PriceQuote>();
  for (const line of lines) {
    const product = db.get<{ category_id: number }>(scope, 'SELECT category_id FROM products WHERE id = ?', line.productId);
    if (!product) continue;
    const price = db.get<{ price_cents: number }>(scope, 'SELECT price_cents FROM prices WHERE product_id = ?', line.productId);
    if (!price) continue;
    const ids = db.all<{ id: number }>(scope, 'SELECT id FROM promotions WHERE product_id = ? OR category_id = ?', line.productId, product.category_id);
    const rules: RuleRow[] = [];
    for (const { id } of ids) {
      const rule = db.get<RuleRow & { active: number }>(scope, 'SELECT name, kind, value, min_qty, active FROM promotions WHERE id = ?', id);
      if (rule && rule.active === 1) rules.push(rule);
    }
    out.set(line.productId, { productId: line.productId, listCents: price.price_cents, ...bestPrice(price.price_cents, line.qty, rules) });
  }
  return out;
}

const BATCH_SQL = `
SELECT p.id AS product_id, pr.price_cents, r.name, r.kind, r.value, r.min_qty
FROM products p
JOIN prices pr ON pr.product_id = p.id
LEFT JOIN promotions r ON r.active = 1 AND (r.product_id = p.id OR r.category_id = p.category_id)
WHERE p.id IN (SELECT value FROM json_each(?))`;

/** Batched pricing: one query whatever the number of lines and rules. */
export function priceBatched(db: StoreDb, scope: QueryScope, lines: readonly PriceLine[]): Map<number, PriceQuote> {
  const out = new Map<number, PriceQuote>();
  if (lines.length === 0) return out;
  const rows = db.all<{ product_id: number; price_cents: number } & Partial<RuleRow>>(
    scope, BATCH_SQL, JSON.stringify([...new Set(lines.map((l) => l.productId))]));
  const byProduct = new Map<number, { listCents: number; rules: RuleRow[] }>();
  for (const row of rows) {
    let entry = byProduct.get(row.product_id);
    if (!entry) {
      entry = { listCents: row.price_cents, rules: [] };
      byProduct.set(row.product_id, entry);
    }
    if (row.name != null) entry.rules.push(row as RuleRow);
  }
  for (const line of lines) {
    const entry = byProduct.get(line.productId);
    if (!entry) continue;
    out.set(line.productId, { productId: line.productId, listCents: entry.listCents, ...bestPrice(entry.listCents, line.qty, entry.rules) });
  }
  return out;
}
