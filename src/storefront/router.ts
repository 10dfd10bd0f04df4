/**
 * A small method + path router: patterns like `/cart/:cartId/items/:productId`
 * compile to regular expressions; each route has a template name used as the
 * metrics label (`GET /products/:id`).
 */

/** Path parameters by name. */
export type Params = Record<string, string>;

interface Route<H> {
  method: string;
  regex: RegExp;
  names: string[];
  template: string;
  handler: H;
}

/** What {@link Router.match} found. */
export type Match<H> =
  | { kind: 'found'; handler: H; params: Params; route: string }
  | { kind: 'method-not-allowed'; allowed: string[]; route: string }
  | { kind: 'not-found' };

/** Router; see the module comment. */
export class Router<H> {
  private readonly routes: Route<H>[] = [];

  /** Adds a route; `pattern` segments starting with `:` are parameters. */
  add(method: string, pattern: string, handler: H): this {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((seg) => {
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({ method, regex: new RegExp(`^${source}/?$`), names, template: pattern, handler });
    return this;
  }

  /** Finds the route of `method` and `path` (no query string). */
  match(method: string, path: string): Match<H> {
    const allowed: string[] = [];
    let template = '';
    for (const r of this.routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      if (r.method !== method) {
        allowed.push(r.method);
        template = r.template;
        continue;
      }
      const params: Params = {};
      r.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]!);
      });
      return { kind: 'found', handler: r.handler, params, route: `${method} ${r.template}` };
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed, route: `${method} ${template}` } : { kind: 'not-found' };
  }
}
