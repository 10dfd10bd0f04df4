import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StoreDb } from '../../src/storefront/db.js';
import { noFaults } from '../../src/storefront/faults.js';
import { priceBatched, priceNaive } from '../../src/storefront/pricing.js';
import { LIMITED_PRODUCTS, PRODUCT_COUNT, seedCatalogue } from '../../src/storefront/seed-catalogue.js';

function seeded(seed: number): StoreDb {
  const db = new StoreDb(':memory:', noFaults());
  seedCatalogue(db, seed);
  return db;
}

function digest(db: StoreDb): string {
  const h = createHash('sha256');
  for (const table of ['categories', 'products', 'prices', 'promotions', 'inventory']) {
    for (const row of db.raw.prepare(`SELECT * FROM ${table} ORDER BY 1`).iterate()) h.update(JSON.stringify(row));
  }
  return h.digest('hex');
}

describe('deterministic catalogue seed', () => {
  it('gives the same catalogue, row for row, for the same seed', () => {
    const a = seeded(7);
    const b = seeded(7);
    expect(digest(a)).toBe(digest(b));
    a.close();
    b.close();
  });

  it('gives a different catalogue for another seed', () => {
    const a = seeded(7);
    const b = seeded(8);
    expect(digest(a)).not.toBe(digest(b));
    a.close();
    b.close();
  });

  it('holds at least 5,000 products with categories, prices, promotions and stock', () => {
    const db = seeded(1);
    const count = (sql: string) => (db.raw.prepare(sql).get() as { n: number }).n;
    expect(count('SELECT count(*) AS n FROM products')).toBe(PRODUCT_COUNT);
    expect(PRODUCT_COUNT).toBeGreaterThanOrEqual(5000);
    expect(count('SELECT count(*) AS n FROM categories')).toBeGreaterThanOrEqual(20);
    expect(count('SELECT count(*) AS n FROM prices')).toBe(PRODUCT_COUNT);
    expect(count('SELECT count(*) AS n FROM promotions')).toBeGreaterThan(100);
    expect(count('SELECT count(*) AS n FROM inventory')).toBe(PRODUCT_COUNT);
    for (const id of LIMITED_PRODUCTS) {
      const stock = (db.raw.prepare('SELECT stock FROM inventory WHERE product_id = ?').get(id) as { stock: number }).stock;
      expect(stock).toBeGreaterThan(0);
      expect(stock).toBeLessThanOrEqual(60);
    }
    db.close();
  });

  it('reopens a seeded file untouched and refuses one seeded differently', () => {
    const db = seeded(3);
    expect(seedCatalogue(db, 3)).toBe(false);
    expect(() => seedCatalogue(db, 4)).toThrow(/seeded with 3, not 4/);
    db.close();
  });
});

describe('pricing strategies', () => {
  const db = seeded(5);
  const lines = [1, 2, 3, 40, 41, 999, 4999].map((productId, i) => ({ productId, qty: 1 + (i % 3) }));

  it('give the same prices, naive (N+1) or batched', () => {
    const naive = priceNaive(db, { queries: 0 }, lines);
    const batched = priceBatched(db, { queries: 0 }, lines);
    expect([...batched.values()]).toEqual([...naive.values()]);
    expect(naive.size).toBe(lines.length);
    for (const q of naive.values()) expect(q.unitCents).toBeLessThanOrEqual(q.listCents);
  });

  it('naive cost grows with lines and rules; batched is one query', () => {
    const one = { queries: 0 };
    priceNaive(db, one, lines.slice(0, 1));
    const many = { queries: 0 };
    priceNaive(db, many, lines);
    expect(one.queries).toBeGreaterThan(3); // price, category, rule ids, then one per rule
    expect(many.queries).toBeGreaterThan(lines.length * 3);
    const batched = { queries: 0 };
    priceBatched(db, batched, lines);
    expect(batched.queries).toBe(1);
  });

  it('leaves unknown products out', () => {
    expect(priceBatched(db, { queries: 0 }, [{ productId: 999_999, qty: 1 }]).size).toBe(0);
    expect(priceNaive(db, { queries: 0 }, [{ productId: 999_999, qty: 1 }]).size).toBe(0);
  });
});
