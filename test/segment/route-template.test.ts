import { describe, expect, it } from 'vitest';
import { RouteMatcher, isIdSegment, pathOf, templatePath } from '../../src/segment/route-template.js';

describe('templatePath', () => {
  const cases: Array<[string, string, string]> = [
    ['a numeric id becomes :id', '/products/42', '/products/:id'],
    ['the query string is never part of the route', '/products/42?ref=home&x=1', '/products/:id'],
    ['a fragment is dropped too', '/docs/intro#install', '/docs/intro'],
    ['the root stays the root', '/', '/'],
    ['a root with a query stays the root', '/?q=shoes', '/'],
    ['plain words stay', '/api/v2/healthz', '/api/v2/healthz'],
    ['versioned and protocol words stay', '/oauth2/authorize/h264/ipv6', '/oauth2/authorize/h264/ipv6'],
    ['a slug with dashes stays', '/blog/getting-started-with-flashback', '/blog/getting-started-with-flashback'],
    ['a UUID becomes :id', '/orders/3f2a9c1e-7b4d-4e1a-9f3c-2d5e6f7a8b9c/items', '/orders/:id/items'],
    ['a UUID without dashes becomes :id', '/u/3f2a9c1e7b4d4e1a9f3c2d5e6f7a8b9c', '/u/:id'],
    ['long hex with digits becomes :id', '/commits/5f3a9c1e', '/commits/:id'],
    ['a 24-char Mongo ObjectId becomes :id', '/users/507f1f77bcf86cd799439011/profile', '/users/:id/profile'],
    ['a short hex-only word stays', '/cafe/deadbeef', '/cafe/deadbeef'],
    ['a token with letters and digits interleaved becomes :id', '/cart/c_8f3k2/items', '/cart/:id/items'],
    ['a base64url token becomes :id', '/s/dGhpc0lzQVRva2VuMTIz', '/s/:id'],
    ['a prefixed numeric id becomes :id', '/orders/ord_12345', '/orders/:id'],
    ['a date becomes :id', '/reports/2024-01-05', '/reports/:id'],
    ['an e-mail address becomes :id', '/users/alice@example.com', '/users/:id'],
    ['a percent-escaped search term becomes :id', '/search/red%20shoes', '/search/:id'],
    ['matrix parameters are never part of the route', '/cart;jsessionid=0A1B2C3D4E/items;v=2', '/cart/items'],
    ['a file-like id keeps its extension', '/images/12345.jpg', '/images/:id.jpg'],
    ['a named file stays', '/static/app.js', '/static/app.js'],
    ['several ids in one path', '/cart/17/items/99', '/cart/:id/items/:id'],
    ['a trailing slash is kept', '/products/', '/products/'],
    ['an absolute-form target loses its origin', 'http://shop.example:8080/products/7?x', '/products/:id'],
    ['an absolute-form target with no path is the root', 'http://shop.example', '/'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(templatePath(input)).toBe(expected);
  });
});

describe('isIdSegment', () => {
  it.each(['v2', 'v10', 'page2', 'products', 'healthz', 'x86_64', 'utf-8', 'mp4', '2fa', 'api'])('keeps the word %s', (w) => {
    expect(isIdSegment(w)).toBe(false);
  });
  it.each(['42', '0', 'a1b2c3', 'sku12345', 'AbCdEfGhIjKlMnOpQrStUvWx'])('treats %s as an id', (w) => {
    expect(isIdSegment(w)).toBe(true);
  });
});

describe('pathOf', () => {
  it('strips the query and fragment', () => {
    expect(pathOf('/a/b?c=d#e')).toBe('/a/b');
  });
  it('gives / for an empty target', () => {
    expect(pathOf('')).toBe('/');
  });
});

describe('RouteMatcher', () => {
  const m = new RouteMatcher(['/cart/:cartId/items', '/cart/:cartId/items/:productId', '/orders/:orderId', '/static/*', '/cart/mine/items']);

  const cases: Array<[string, string, string, string]> = [
    ['a scenario template takes precedence over automatic templating', 'POST', '/cart/abc/items', 'POST /cart/:cartId/items'],
    ['a scenario template matches whatever the id looks like', 'GET', '/cart/c_8f3k2/items?x=1', 'GET /cart/:cartId/items'],
    ['the more literal template wins', 'GET', '/cart/mine/items', 'GET /cart/mine/items'],
    ['a longer template matches a longer path', 'DELETE', '/cart/abc/items/42', 'DELETE /cart/:cartId/items/:productId'],
    ['a trailing * matches the rest of the path', 'GET', '/static/js/app.123.js', 'GET /static/*'],
    ['paths no template matches are templated automatically', 'GET', '/products/42', 'GET /products/:id'],
    ['a template does not match a path of another length', 'GET', '/orders/7/lines', 'GET /orders/:id/lines'],
    ['matrix parameters do not stop a template matching', 'GET', '/orders/7;jsessionid=0A1B2C3D4E', 'GET /orders/:orderId'],
    ['a trailing slash still matches a template', 'GET', '/cart/abc/items/', 'GET /cart/:cartId/items'],
    ['the method is upper-cased', 'get', '/orders/7', 'GET /orders/:orderId'],
  ];
  it.each(cases)('%s', (_name, method, target, expected) => {
    expect(m.route(method, target)).toBe(expected);
  });

  it('gives the same answer from its cache', () => {
    const r = new RouteMatcher();
    expect(r.route('GET', '/products/1')).toBe('GET /products/:id');
    expect(r.route('GET', '/products/1?again')).toBe('GET /products/:id');
  });

  it('keeps working past its cache limit', () => {
    const r = new RouteMatcher();
    for (let i = 0; i < 12_000; i++) r.route('GET', `/p/${i}`);
    expect(r.route('GET', '/p/5')).toBe('GET /p/:id');
  });
});
