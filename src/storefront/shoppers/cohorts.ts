/**
 * Shopper cohorts: device by real user-agent strings (about 60% mobile, 35%
 * desktop, 5% bots) and region (sent as `x-region`).
 */
import type { Rng } from '../rng.js';
import { pick } from '../rng.js';

/** The device a shopper uses. */
export type ShopperDevice = 'mobile' | 'desktop' | 'bot';

/** Real user-agent strings per device. */
export const USER_AGENTS: Record<ShopperDevice, readonly string[]> = {
  mobile: [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.113 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.179 Mobile Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.111 Mobile/15E148 Safari/604.1',
  ],
  desktop: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
    'Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  ],
  bot: [
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
    'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  ],
};

/** Regions (the `x-region` header) with their share of shoppers. */
export const REGIONS: ReadonlyArray<readonly [string, number]> = [
  ['eu-west', 0.35], ['us-east', 0.3], ['us-west', 0.15], ['ap-southeast', 0.12], ['sa-east', 0.08],
];

function weighted<T>(rng: Rng, items: ReadonlyArray<readonly [T, number]>): T {
  let u = rng.next();
  for (const [item, w] of items) {
    if (u < w) return item;
    u -= w;
  }
  return items[items.length - 1]![0];
}

/** Draws a device, its user agent and a region. */
export function drawCohort(rng: Rng): { device: ShopperDevice; userAgent: string; region: string } {
  const device = weighted<ShopperDevice>(rng, [['mobile', 0.6], ['desktop', 0.35], ['bot', 0.05]]);
  return { device, userAgent: pick(rng, USER_AGENTS[device]), region: weighted(rng, REGIONS) };
}
