/**
 * Schema and deterministic seed of the storefront: the same seed gives the
 * same catalogue, row for row. Products 1..10 are the flash-sale items the
 * shoppers' Zipf popularity favours (rank r is product r, whatever the
 * seed); among them products 3, 5 and 7 have little stock so flash-sale runs
 * sell them out (409).
 */
import type { StoreDb } from './db.js';
import { detachedScope } from './db.js';
import { createRng, pick, randInt } from './rng.js';

/** Products in the catalogue. */
export const PRODUCT_COUNT = 5000;
/** Products with little stock (sold out during flash-sale runs). */
export const LIMITED_PRODUCTS: readonly number[] = [3, 5, 7];
/** Hot products that stay in stock (the lock-contention hot spots). */
export const WELL_STOCKED_HOT_PRODUCTS: readonly number[] = [1, 2, 4, 6, 8, 9, 10];

/** Category names; the seed shuffles products over them. */
export const CATEGORIES: readonly string[] = [
  'dresses', 'tops', 'shirts', 'jeans', 'trousers', 'skirts', 'jackets', 'coats', 'knitwear', 'hoodies',
  'shoes', 'sneakers', 'boots', 'sandals', 'bags', 'belts', 'hats', 'scarves', 'socks', 'underwear',
  'swimwear', 'activewear', 'jewellery', 'watches',
];

/** Words product names are built from; the shoppers search for these. */
export const NAME_WORDS = {
  adjectives: ['classic', 'slim', 'relaxed', 'vintage', 'cropped', 'oversized', 'tailored', 'washed', 'ribbed', 'quilted', 'pleated', 'striped'],
  materials: ['cotton', 'linen', 'wool', 'denim', 'leather', 'silk', 'cashmere', 'suede', 'canvas', 'jersey', 'velvet', 'corduroy'],
  colours: ['black', 'white', 'navy', 'olive', 'sand', 'burgundy', 'grey', 'camel', 'rust', 'sage'],
} as const;

const BRANDS = ['Northwind', 'Atelier Nine', 'Fernhill', 'Coastline', 'Marlow', 'Kestrel', 'Oakridge', 'Sable & Co', 'Lumen', 'Harbour'];

const SCHEMA = `
CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE products (
  id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL, brand TEXT NOT NULL,
  category_id INTEGER NOT NULL REFERENCES categories(id), description TEXT NOT NULL, featured INTEGER NOT NULL);
CREATE INDEX products_category ON products(category_id, id);
CREATE TABLE prices (product_id INTEGER PRIMARY KEY, price_cents INTEGER NOT NULL);
CREATE TABLE promotions (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, product_id INTEGER, category_id INTEGER,
  kind TEXT NOT NULL CHECK (kind IN ('percent', 'amount')), value INTEGER NOT NULL,
  min_qty INTEGER NOT NULL, active INTEGER NOT NULL);
CREATE INDEX promotions_product ON promotions(product_id);
CREATE INDEX promotions_category ON promotions(category_id);
CREATE TABLE inventory (sku TEXT PRIMARY KEY, product_id INTEGER NOT NULL UNIQUE, stock INTEGER NOT NULL CHECK (stock >= 0));
CREATE TABLE carts (id TEXT PRIMARY KEY, created_us INTEGER NOT NULL, status TEXT NOT NULL, owner TEXT);
CREATE TABLE cart_items (cart_id TEXT NOT NULL, product_id INTEGER NOT NULL, qty INTEGER NOT NULL, PRIMARY KEY (cart_id, product_id));
CREATE TABLE orders (
  id TEXT PRIMARY KEY, cart_id TEXT NOT NULL, total_cents INTEGER NOT NULL, status TEXT NOT NULL,
  payment_ref TEXT NOT NULL, idempotency_key TEXT, created_us INTEGER NOT NULL);
CREATE TABLE order_lines (order_id TEXT NOT NULL, product_id INTEGER NOT NULL, qty INTEGER NOT NULL, unit_cents INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** `SKU-000042` for product 42. */
export function skuOf(productId: number): string {
  return `SKU-${String(productId).padStart(6, '0')}`;
}

/**
 * Creates the schema and seeds the catalogue when the database is empty.
 * Returns false (touching nothing) when it already holds a catalogue of the
 * same seed; throws when it holds one of another seed.
 */
export function seedCatalogue(db: StoreDb, seed: number): boolean {
  const s = detachedScope();
  const existing = db.get<{ n: number }>(s, "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (existing && existing.n > 0) {
    const row = db.get<{ value: string }>(s, "SELECT value FROM meta WHERE key = 'seed'");
    if (row && Number(row.value) === seed) return false;
    throw new Error(`the database holds a catalogue seeded with ${row?.value ?? 'nothing'}, not ${seed}`);
  }
  db.raw.exec(SCHEMA);
  const rng = createRng(seed);
  db.tx(() => {
    CATEGORIES.forEach((name, i) => db.run(s, 'INSERT INTO categories (id, name) VALUES (?, ?)', i + 1, name));
    for (let id = 1; id <= PRODUCT_COUNT; id++) {
      const categoryId = randInt(rng, 1, CATEGORIES.length);
      const category = CATEGORIES[categoryId - 1]!;
      const name = `${pick(rng, NAME_WORDS.adjectives)} ${pick(rng, NAME_WORDS.materials)} ${category.replace(/s$/, '')} in ${pick(rng, NAME_WORDS.colours)}`;
      const brand = pick(rng, BRANDS);
      const featured = id <= 12 ? 1 : 0;
      db.run(s, 'INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)', id, skuOf(id), name, brand, categoryId,
        `${brand} ${name}. Seeded item ${id}.`, featured);
      db.run(s, 'INSERT INTO prices VALUES (?, ?)', id, randInt(rng, 5, 400) * 100 - 1);
      db.run(s, 'INSERT INTO inventory VALUES (?, ?, ?)', skuOf(id), id, initialStock(id, rng));
    }
    let promo = 1;
    for (let c = 1; c <= CATEGORIES.length; c++) {
      // Several overlapping rules per category: the naive pricer reads each one separately.
      const rules = randInt(rng, 5, 9);
      for (let r = 0; r < rules; r++) {
        const percent = rng.next() < 0.6;
        db.run(s, 'INSERT INTO promotions VALUES (?, ?, NULL, ?, ?, ?, ?, ?)', promo, `${CATEGORIES[c - 1]} rule ${r + 1}`, c,
          percent ? 'percent' : 'amount', percent ? randInt(rng, 5, 30) : randInt(rng, 2, 15) * 100, randInt(rng, 1, 3), rng.next() < 0.8 ? 1 : 0);
        promo++;
      }
    }
    for (let id = 1; id <= 10; id++) {
      db.run(s, 'INSERT INTO promotions VALUES (?, ?, ?, NULL, ?, ?, ?, 1)', promo++, `flash sale ${id}`, id, 'percent', randInt(rng, 20, 50), 1);
    }
    db.run(s, "INSERT INTO meta VALUES ('seed', ?)", String(seed));
  });
  return true;
}

function initialStock(id: number, rng: { next(): number }): number {
  if (LIMITED_PRODUCTS.includes(id)) return randInt(rng, 20, 60);
  if (WELL_STOCKED_HOT_PRODUCTS.includes(id)) return 1_000_000;
  return rng.next() < 0.02 ? 0 : randInt(rng, 5, 500);
}
