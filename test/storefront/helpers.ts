import type { PaymentProviderTuning, RunningStorefront } from '../../src/storefront/index.js';

/** A fast payment provider that never fails on its own (faults still apply): functional tests stay deterministic on a busy machine. */
export const CALM_PROVIDER: PaymentProviderTuning = { medianMs: 20, slowShare: 0, baseErrorRate: 0 };

/** A JSON call against a running storefront. */
export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

export async function call(s: RunningStorefront, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(s.url + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A cart holding `items`; returns its id. */
export async function cartWith(s: RunningStorefront, items: Array<[number, number]>): Promise<string> {
  const { body } = await call(s, 'POST', '/cart');
  for (const [productId, qty] of items) {
    const r = await call(s, 'POST', `/cart/${body.cartId}/items`, { productId, qty });
    if (r.status !== 200) throw new Error(`add ${productId}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return body.cartId as string;
}

/** The value of one metric line (first match of `prefix`), or 0. */
export async function metric(s: RunningStorefront, prefix: string): Promise<number> {
  const { body } = await call(s, 'GET', '/metrics');
  const line = (body as string).split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export async function stockOf(s: RunningStorefront, productId: number): Promise<number> {
  const { body } = await call(s, 'GET', `/products/${productId}`);
  return body.stock as number;
}
