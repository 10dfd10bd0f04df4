/**
 * The storefront's SQLite database (better-sqlite3, synchronous). Every
 * statement goes through {@link StoreDb} so that each request can count its
 * queries (the N+1 signal in /metrics) and so the `db-slow` fault can make
 * every statement slow. `db-slow` busy-waits: SQLite calls block the thread,
 * and a slow disk blocks it the same way, so a timer-based sleep would be the
 * wrong model.
 */
import Database from 'better-sqlite3';
import type { FaultState } from './faults.js';

/** Per-request query counter. */
export interface QueryScope {
  queries: number;
}

/** A scope that nobody reads (seeding, background work). */
export function detachedScope(): QueryScope {
  return { queries: 0 };
}

type Param = string | number | bigint | null | Buffer;

/** Wrapper over one better-sqlite3 connection; see the module comment. */
export class StoreDb {
  readonly raw: Database.Database;
  /** Statements run since open. */
  totalQueries = 0;
  private readonly statements = new Map<string, Database.Statement>();

  /** Opens `path` (`:memory:` for an in-memory database). */
  constructor(path: string, private readonly faults: FaultState) {
    this.raw = new Database(path);
    if (path !== ':memory:') this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = NORMAL');
  }

  /** All rows of `sql`. */
  all<T>(scope: QueryScope, sql: string, ...params: Param[]): T[] {
    const st = this.before(scope, sql);
    return st.all(...params) as T[];
  }

  /** The first row of `sql`, or undefined. */
  get<T>(scope: QueryScope, sql: string, ...params: Param[]): T | undefined {
    const st = this.before(scope, sql);
    return st.get(...params) as T | undefined;
  }

  /** Runs a write; returns how many rows changed. */
  run(scope: QueryScope, sql: string, ...params: Param[]): number {
    const st = this.before(scope, sql);
    return st.run(...params).changes;
  }

  /** Runs `fn` in one transaction (rolled back if it throws). */
  tx<T>(fn: () => T): T {
    return this.raw.transaction(fn)();
  }

  /** Closes the connection. */
  close(): void {
    this.raw.close();
  }

  private before(scope: QueryScope, sql: string): Database.Statement {
    scope.queries += 1;
    this.totalQueries += 1;
    if (this.faults.dbSlowUs > 0) busyWaitUs(this.faults.dbSlowUs);
    let st = this.statements.get(sql);
    if (!st) {
      st = this.raw.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }
}

function busyWaitUs(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until) {
    // Spinning on purpose: the simulated disk blocks the thread (see module comment).
  }
}
