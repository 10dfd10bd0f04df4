/**
 * Cohorts: the attributes of a session (device, region, auth, and whatever a
 * scenario adds) that, with the route, make a segment.
 */
import { isbot } from 'isbot';
import type { Cohort } from '../model/session.js';
import type { HeaderList } from '../model/exchange.js';

/** Device class of a user agent. */
export type Device = 'mobile' | 'tablet' | 'desktop' | 'bot';

/**
 * flashback's own automated-client rules, checked before `isbot`'s list:
 * crawlers, HTTP libraries and command-line tools (curl, wget,
 * python-requests, Go-http-client, Java, axios, …), API clients (Postman,
 * Insomnia), headless browsers, link previewers, audit tools and load
 * generators (k6, autocannon, wrk, vegeta, Gatling, JMeter, Locust).
 *
 * Deliberately `bot`: a script, a cron job, an integration or an earlier load
 * test found in a production capture is not a person on a device, and
 * counting it as `desktop` would distort the cohort replayed hardest.
 */
const TOOL_RE =
  /(?<!cu)bot\b|bot\/|crawl|spider|slurp|^curl\/|^wget\/|python-requests|python-urllib|aiohttp|python-httpx|go-http-client|headlesschrome|phantomjs|^java\/|apache-httpclient|libwww-perl|postmanruntime|insomnia|httpie|node-fetch|axios\/|^undici|^node$|^got \(|^k6\/|autocannon|^wrk|vegeta|gatling|jmeter|locust|facebookexternalhit|embedly|lighthouse|pingdom|uptimerobot|archiver/i;
const TABLET_RE = /ipad|tablet|kindle|silk\/|playbook|nexus (?:7|9|10)\b|sm-t\d/i;
const MOBILE_RE = /iphone|ipod|mobile|windows phone|iemobile|opera mini|blackberry|bb10|fennec/i;
/** Televisions and streaming sticks (often Android without `Mobile`): big screens, counted as desktop. */
const TV_RE = /smart-?tv|\btv\b|bravia|web0s|webos|appletv|crkey|roku|\baft[a-z]\b|googletv|hbbtv/i;
/**
 * Native app HTTP stacks: Android's Dalvik and okhttp (also React Native and
 * Expo on Android), iOS's CFNetwork and Alamofire, Flutter's `Dart/x (dart:io)`.
 * A person using an app: never a bot, although `isbot` lists okhttp.
 */
const APP_RE = /^dalvik\/|^okhttp\/|cfnetwork\/|alamofire\/|^dart\/\d|\(dart:io\)/i;

/**
 * Device class from a `User-Agent` header, checked in this order:
 * 1. no user agent at all (absent, empty or `-` as access logs write it) → `bot`:
 *    every browser sends one, scripts often don't;
 * 2. native app stacks (Dalvik, okhttp, CFNetwork, Alamofire, Dart) skip the
 *    bot rules: an app is a person on a phone (or a tablet, by the rules below);
 * 3. flashback's own tool list (HTTP libraries, command-line tools, load
 *    generators; see `TOOL_RE`) → `bot`;
 * 4. `isbot`'s list (crawlers, monitors and health checks such as
 *    `ELB-HealthChecker`, `kube-probe`, `GoogleHC`, `Prometheus`, `Datadog Agent`,
 *    link previewers such as `Slackbot-LinkExpanding`, `Twitterbot`,
 *    `WhatsApp`) → `bot` (Googlebot's smartphone agent is a bot, not a phone);
 * 5. televisions and streaming sticks (smart TV, webOS, Tizen TV, Chromecast,
 *    Roku, Fire TV) → `desktop`, before the Android rule below would call them tablets;
 * 6. iPad, Kindle/Silk, `Tablet`, or Android without `Mobile` → `tablet`
 *    (iPadOS 13+ Safari sends a desktop Mac agent and is counted `desktop`);
 * 7. native app stacks, iPhone/iPod, Android with `Mobile`, or any other
 *    `Mobile` → `mobile`;
 * 8. anything else → `desktop`.
 *
 * Verdicts are cached per distinct user agent (`isbot`'s pattern is large;
 * see docs/import.md for the cost).
 */
export function deviceFromUserAgent(ua: string | undefined): Device {
  if (ua === undefined) return 'bot';
  // User agents repeat heavily: remember the last few thousand verdicts.
  let d = deviceCache.get(ua);
  if (d === undefined) {
    d = classifyUserAgent(ua);
    if (deviceCache.size >= DEVICE_CACHE_LIMIT) deviceCache.clear();
    deviceCache.set(ua, d);
  }
  return d;
}

const DEVICE_CACHE_LIMIT = 4096;
const deviceCache = new Map<string, Device>();

/** {@link deviceFromUserAgent} without the cache (exported for the benchmark and tests). */
export function classifyUserAgent(ua: string): Device {
  const s = ua.trim();
  if (s === '' || s === '-') return 'bot';
  const app = APP_RE.test(s);
  if (!app && (TOOL_RE.test(s) || isbot(s))) return 'bot';
  if (TV_RE.test(s)) return 'desktop';
  if (TABLET_RE.test(s)) return 'tablet';
  if (app) return 'mobile';
  const android = /android/i.test(s);
  if (android && !/mobile/i.test(s)) return 'tablet';
  if (MOBILE_RE.test(s)) return 'mobile';
  return 'desktop';
}

/**
 * A cohort attribute rule from a scenario file.
 *
 * The value is taken from the first present `header` (in order), else from
 * `cookie`; then `map` (keys compared case-insensitively) turns it into the
 * attribute, with unmapped values kept as they are unless `default` is given.
 * Absent → `default`, else `unknown`.
 *
 * A rule named like a built-in (`device`, `region`, `auth`) with no `header`
 * or `cookie` refines the built-in: `{ "name": "region", "map": { "de": "eu" },
 * "default": "other" }` maps the built-in region. With a source it replaces it.
 */
export interface CohortRule {
  name: string;
  /** Request header names; the first present wins. */
  header?: string[];
  /** A request cookie name, used when no `header` is present. */
  cookie?: string;
  map?: Record<string, string>;
  default?: string;
}

/** Headers the built-in `region` attribute is read from, first present wins. */
export const REGION_HEADERS = ['x-region', 'cf-ipcountry', 'x-geo-country'];
/** Names of the built-in attributes. */
export const BUILTIN_ATTRIBUTES = ['device', 'region', 'auth'] as const;

/** Longest attribute value kept; longer values are cut (cohorts must stay few). */
const MAX_VALUE_CHARS = 64;

/** Lower-cased, trimmed, with the segment-key separators (`|`, `,`, `=`) and spaces replaced by `_`. */
export function cohortValue(raw: string): string {
  let v = raw.trim().toLowerCase();
  if (v.length > MAX_VALUE_CHARS) v = v.slice(0, MAX_VALUE_CHARS);
  return v.replace(/[|,=\s]+/g, '_');
}

/** Value of cookie `name` in the request's `cookie` header(s), or undefined. */
export function requestCookie(headers: HeaderList, name: string): string | undefined {
  for (const [k, v] of headers) {
    if (k !== 'cookie') continue;
    let start = 0;
    while (start < v.length) {
      let end = v.indexOf(';', start);
      if (end < 0) end = v.length;
      const eq = v.indexOf('=', start);
      if (eq > start && eq < end && v.slice(start, eq).trim() === name) return v.slice(eq + 1, end).trim();
      start = end + 1;
    }
  }
  return undefined;
}

function firstHeader(headers: HeaderList, names: readonly string[]): string | undefined {
  for (const name of names) {
    for (const [k, v] of headers) if (k === name && v.trim() !== '') return v;
  }
  return undefined;
}

interface CompiledRule {
  name: string;
  header: string[] | null;
  cookie: string | null;
  map: Map<string, string> | null;
  default: string | null;
}

function compile(rule: CohortRule): CompiledRule {
  const map = rule.map
    ? new Map(Object.entries(rule.map).map(([k, v]) => [k.trim().toLowerCase(), cohortValue(v)]))
    : null;
  return {
    name: rule.name,
    header: rule.header && rule.header.length > 0 ? rule.header.map((h) => h.toLowerCase()) : null,
    cookie: rule.cookie ?? null,
    map,
    default: rule.default === undefined ? null : cohortValue(rule.default),
  };
}

/**
 * Classifies a session into a {@link Cohort} from its requests' headers.
 * Built-in attributes: `device` ({@link deviceFromUserAgent}), `region`
 * (first of {@link REGION_HEADERS}, lower-cased, `unknown` when absent) and
 * `auth` (`signed-in` / `anonymous`, from the sessionizer's verdict). Scenario
 * rules refine or replace these and add their own, in the order given.
 */
export class CohortClassifier {
  private readonly rules: CompiledRule[];

  constructor(rules: CohortRule[] = []) {
    const byName = new Map<string, CompiledRule>();
    for (const name of BUILTIN_ATTRIBUTES) {
      byName.set(name, { name, header: null, cookie: null, map: null, default: null });
    }
    for (const r of rules) byName.set(r.name, compile(r));
    this.rules = [...byName.values()];
  }

  /** Cohort of a session from a request's headers; `signedIn` says whether the session carried credentials. */
  classify(requestHeaders: HeaderList, signedIn: boolean): Cohort {
    const cohort: Cohort = {};
    for (const r of this.rules) cohort[r.name] = this.value(r, requestHeaders, signedIn);
    return cohort;
  }

  private value(r: CompiledRule, headers: HeaderList, signedIn: boolean): string {
    let raw: string | undefined;
    if (r.header !== null || r.cookie !== null) {
      if (r.header !== null) raw = firstHeader(headers, r.header);
      if (raw === undefined && r.cookie !== null) raw = requestCookie(headers, r.cookie);
    } else if (r.name === 'device') {
      raw = deviceFromUserAgent(firstHeader(headers, ['user-agent']));
    } else if (r.name === 'region') {
      raw = firstHeader(headers, REGION_HEADERS);
    } else if (r.name === 'auth') {
      raw = signedIn ? 'signed-in' : 'anonymous';
    }
    if (raw === undefined || raw.trim() === '') return r.default ?? 'unknown';
    const v = cohortValue(raw);
    if (r.map !== null) return r.map.get(v) ?? r.default ?? v;
    return v;
  }
}
