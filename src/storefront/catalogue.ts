/**
 * Catalogue reads: home page, product listing, product page, search. The
 * naive catalogue prices every product it shows one query at a time, has no
 * cache and honours any page size; the tuned one prices a page in one query,
 * caches pages (TTL, request coalescing) and caps the page size at 48.
 */
import type { TtlCache } from './cache.js';
import type { QueryScope, StoreDb } from './db.js';
import type { PriceLine, PriceQuote } from './pricing.js';

/** A product as listed. */
export interface ProductSummary {
  id: number;
  sku: string;
  name: string;
  brand: string;
  category: string;
  listCents: number;
  priceCents: number;
  promotion: string | null;
  inStock: boolean;
}

/** A product page. */
export interface ProductDetail extends ProductSummary {
  description: string;
  stock: number;
  related: ProductSummary[];
}

/** A page of products. */
export interface ProductPage {
  page: number;
  size: number;
  total: number;
  products: ProductSummary[];
}

/** Page-size policy: the default, and the cap (null: unbounded). */
export interface PagePolicy {
  defaultSize: number;
  maxSize: number | null;
}

/** Catalogue operations (async because the tuned one may wait for a coalesced load). */
export interface Catalogue {
  home(scope: QueryScope): Promise<{ categories: string[]; featured: ProductSummary[] }>;
  list(scope: QueryScope, category: string | null, page: number, size: number | null): Promise<ProductPage | null>;
  product(scope: QueryScope, id: number): Promise<ProductDetail | null>;
  search(scope: QueryScope, q: string, page: number, size: number | null): Promise<ProductPage & { q: string }>;
  /** Drops cached pages of a product whose stock changed. */
  invalidateProduct(id: number): void;
  readonly pages: PagePolicy;
}

type Pricer = (db: StoreDb, scope: QueryScope, lines: readonly PriceLine[]) => Map<number, PriceQuote>;

interface Row {
  id: number;
  sku: string;
  name: string;
  brand: string;
  category: string;
  stock: number;
  description: string;
}

const SELECT = `SELECT p.id, p.sku, p.name, p.brand, c.name AS category, i.stock, p.description
FROM products p JOIN categories c ON c.id = p.category_id JOIN inventory i ON i.product_id = p.id`;

function summarise(rows: Row[], prices: Map<number, PriceQuote>): ProductSummary[] {
  return rows.map((r) => {
    const q = prices.get(r.id);
    return {
      id: r.id, sku: r.sku, name: r.name, brand: r.brand, category: r.category,
      listCents: q?.listCents ?? 0, priceCents: q?.unitCents ?? 0, promotion: q?.promotion ?? null, inStock: r.stock > 0,
    };
  });
}

/** Builds the catalogue over `db` with `price` as its pricing strategy and an optional cache. */
export function createCatalogue(db: StoreDb, price: Pricer, pages: PagePolicy, cache: TtlCache<unknown> | null): Catalogue {
  const cached = <T>(key: string, load: () => T): Promise<T> =>
    cache ? (cache.get(key, load) as Promise<T>) : Promise.resolve(load());
  const priced = (scope: QueryScope, rows: Row[]) => summarise(rows, price(db, scope, rows.map((r) => ({ productId: r.id, qty: 1 }))));
  const clamp = (size: number | null) => {
    const s = size ?? pages.defaultSize;
    return pages.maxSize === null ? s : Math.min(s, pages.maxSize);
  };

  return {
    pages,
    home: (scope) =>
      cached('home', () => ({
        categories: db.all<{ name: string }>(scope, 'SELECT name FROM categories ORDER BY id').map((r) => r.name),
        featured: priced(scope, db.all<Row>(scope, `${SELECT} WHERE p.featured = 1 ORDER BY p.id`)),
      })),

    list: (scope, category, page, size) => {
      const n = clamp(size);
      return cached(`list:${category ?? ''}:${page}:${n}`, () => {
        if (category !== null && !db.get(scope, 'SELECT 1 FROM categories WHERE name = ?', category)) return null;
        const total = db.get<{ n: number }>(scope, 'SELECT count(*) AS n FROM products p JOIN categories c ON c.id = p.category_id WHERE ? IS NULL OR c.name = ?', category, category)!.n;
        const rows = db.all<Row>(scope, `${SELECT} WHERE ? IS NULL OR c.name = ? ORDER BY p.id LIMIT ? OFFSET ?`, category, category, n, (page - 1) * n);
        return { page, size: n, total, products: priced(scope, rows) };
      });
    },

    product: (scope, id) =>
      cached(`product:${id}`, () => {
        const row = db.get<Row & { category_id: number }>(scope, `${SELECT.replace('SELECT ', 'SELECT p.category_id, ')} WHERE p.id = ?`, id);
        if (!row) return null;
        const related = db.all<Row>(scope, `${SELECT} WHERE p.category_id = ? AND p.id <> ? ORDER BY abs(p.id - ?) LIMIT 4`, row.category_id, id, id);
        const all = [row, ...related];
        const prices = price(db, scope, all.map((r) => ({ productId: r.id, qty: 1 })));
        const [self, ...rest] = summarise(all, prices);
        return { ...self!, description: row.description, stock: row.stock, related: rest };
      }),

    search: (scope, q, page, size) => {
      const n = pages.maxSize === null && size === null ? null : clamp(size);
      const words = q.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 5);
      return cached(`search:${words.join(' ')}:${page}:${n ?? 'all'}`, () => {
        const where = words.map(() => 'p.name LIKE ?').join(' AND ');
        const args = words.map((w) => `%${w.replace(/[%_]/g, '')}%`);
        const total = db.get<{ n: number }>(scope, `SELECT count(*) AS n FROM products p WHERE ${where}`, ...args)!.n;
        const limit = n === null ? '' : ` LIMIT ${n} OFFSET ${(page - 1) * n}`;
        const rows = db.all<Row>(scope, `${SELECT} WHERE ${where} ORDER BY p.id${limit}`, ...args);
        return { q, page, size: n ?? rows.length, total, products: priced(scope, rows) };
      });
    },

    invalidateProduct: (id) => cache?.invalidate(`product:${id}`),
  };
}
