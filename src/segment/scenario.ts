/**
 * Scenario files (`scenarios/*.json`, schema in `scenarios/scenario.schema.json`):
 * what a run needs — route templates, cohort rules, the session key, replay
 * defaults and gates. CLI flags override the file.
 */
import { readFileSync } from 'node:fs';
import { InputError, messageOf } from '../model/errors.js';
import { parseDurationUs } from '../model/units.js';
import type { CohortRule } from './cohort.js';
import { parseSessionKey } from './session-key.js';

/** A validated scenario file. */
export interface Scenario {
  name?: string;
  description?: string;
  routes?: string[];
  cohorts?: CohortRule[];
  sessionKey?: string;
  replay?: { scale?: number; speed?: number; concurrency?: number; duration?: string; jitter?: string };
  /** Gate expressions (`route=POST /checkout: p99<800ms`), parsed by `report/`. */
  thresholds?: string[];
}

/** A problem at a field: `"routes[2]" must be …`. */
class FieldError extends Error {}

type Json = unknown;

const TOP_KEYS = ['$schema', 'name', 'description', 'routes', 'cohorts', 'sessionKey', 'replay', 'thresholds'];
const RULE_KEYS = ['name', 'header', 'cookie', 'map', 'default'];
const REPLAY_KEYS = ['scale', 'speed', 'concurrency', 'duration', 'jitter'];
const ATTRIBUTE_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const HEADER_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PARAM_RE = /^:[A-Za-z_][A-Za-z0-9_]*$/;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(field: string, problem: string): never {
  throw new FieldError(`"${field}" ${problem}`);
}

function onlyKeys(obj: Record<string, Json>, allowed: string[], at: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(at ? `${at}.${k}` : k, `is not a scenario field (expected one of ${allowed.filter((a) => a !== '$schema').join(', ')})`);
  }
}

function str(v: Json, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') fail(field, 'must be a non-empty string');
  return v;
}

function strArray(v: Json, field: string): string[] {
  if (!Array.isArray(v)) fail(field, 'must be an array of strings');
  return v.map((x, i) => str(x, `${field}[${i}]`));
}

function routeTemplate(v: Json, field: string): string {
  if (typeof v !== 'string' || !v.startsWith('/')) fail(field, 'must be a path template starting with "/"');
  if (/[?#\s]/.test(v)) fail(field, 'must be a path template without query, fragment or spaces');
  const segs = v.split('/').slice(1);
  segs.forEach((seg, i) => {
    if (seg === '*' && i !== segs.length - 1) fail(field, 'may use "*" only as its last segment');
    if (seg.startsWith(':') && !PARAM_RE.test(seg)) fail(field, `has a bad parameter "${seg}" (expected :name)`);
  });
  return v;
}

function cohortRule(v: Json, field: string): CohortRule {
  if (!isObject(v)) fail(field, 'must be an object like {"name": "plan", "header": ["x-plan"]}');
  onlyKeys(v, RULE_KEYS, field);
  const name = str(v.name, `${field}.name`);
  if (!ATTRIBUTE_RE.test(name)) fail(`${field}.name`, 'must be a lower-case attribute name like "plan" or "app-version"');
  const rule: CohortRule = { name };
  if (v.header !== undefined) {
    const headers = typeof v.header === 'string' ? [v.header] : strArray(v.header, `${field}.header`);
    headers.forEach((h, i) => {
      if (!HEADER_RE.test(h)) fail(`${field}.header[${i}]`, 'must be a header name');
    });
    if (headers.length === 0) fail(`${field}.header`, 'must name at least one header');
    rule.header = headers.map((h) => h.toLowerCase());
  }
  if (v.cookie !== undefined) rule.cookie = str(v.cookie, `${field}.cookie`);
  if (v.map !== undefined) {
    if (!isObject(v.map)) fail(`${field}.map`, 'must be an object of value → attribute strings');
    const map: Record<string, string> = {};
    for (const [k, x] of Object.entries(v.map)) map[k] = str(x, `${field}.map.${k}`);
    rule.map = map;
  }
  if (v.default !== undefined) rule.default = str(v.default, `${field}.default`);
  const builtin = name === 'device' || name === 'region' || name === 'auth';
  if (!builtin && rule.header === undefined && rule.cookie === undefined) {
    fail(field, `needs "header" or "cookie" (only device, region and auth have built-in sources)`);
  }
  return rule;
}

function positive(v: Json, field: string, integer: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    fail(field, integer ? 'must be a positive whole number' : 'must be a positive number');
  }
  return v;
}

function duration(v: Json, field: string): string {
  const s = str(v, field);
  try {
    parseDurationUs(s, field);
  } catch {
    fail(field, `must be a duration like 500ms, 30s or 2m (got "${s}")`);
  }
  return s;
}

function replay(v: Json): NonNullable<Scenario['replay']> {
  if (!isObject(v)) fail('replay', 'must be an object');
  onlyKeys(v, REPLAY_KEYS, 'replay');
  const out: NonNullable<Scenario['replay']> = {};
  if (v.scale !== undefined) out.scale = positive(v.scale, 'replay.scale', false);
  if (v.speed !== undefined) out.speed = positive(v.speed, 'replay.speed', false);
  if (v.concurrency !== undefined) out.concurrency = positive(v.concurrency, 'replay.concurrency', true);
  if (v.duration !== undefined) out.duration = duration(v.duration, 'replay.duration');
  if (v.jitter !== undefined) out.jitter = duration(v.jitter, 'replay.jitter');
  return out;
}

/** Validates a parsed scenario document; throws an Error whose message names the field. */
export function validateScenario(doc: Json): Scenario {
  if (!isObject(doc)) throw new FieldError('must be a JSON object');
  onlyKeys(doc, TOP_KEYS, '');
  const s: Scenario = {};
  if (doc.name !== undefined) s.name = str(doc.name, 'name');
  if (doc.description !== undefined) s.description = str(doc.description, 'description');
  if (doc.routes !== undefined) {
    if (!Array.isArray(doc.routes)) fail('routes', 'must be an array of path templates');
    s.routes = doc.routes.map((r, i) => routeTemplate(r, `routes[${i}]`));
  }
  if (doc.cohorts !== undefined) {
    if (!Array.isArray(doc.cohorts)) fail('cohorts', 'must be an array of cohort rules');
    s.cohorts = doc.cohorts.map((r, i) => cohortRule(r, `cohorts[${i}]`));
    const seen = new Set<string>();
    s.cohorts.forEach((r, i) => {
      if (seen.has(r.name)) fail(`cohorts[${i}].name`, `repeats the attribute "${r.name}"`);
      seen.add(r.name);
    });
  }
  if (doc.sessionKey !== undefined) {
    const text = str(doc.sessionKey, 'sessionKey');
    try {
      parseSessionKey(text);
    } catch {
      fail('sessionKey', `must be auto, cookie:NAME, header:NAME, client, client:IDLE or none (got "${text}")`);
    }
    s.sessionKey = text;
  }
  if (doc.replay !== undefined) s.replay = replay(doc.replay);
  if (doc.thresholds !== undefined) {
    s.thresholds = strArray(doc.thresholds, 'thresholds');
    s.thresholds.forEach((t, i) => {
      if (!/[<>]|:[+-]/.test(t)) fail(`thresholds[${i}]`, `must be a gate like "p99<800ms" or "route=POST /checkout: p99<800ms" (got "${t}")`);
    });
  }
  return s;
}

/** Loads and validates scenarios/*.json; InputError naming the file and the field on any problem. */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const cause = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : messageOf(err);
    throw new InputError(`Failed to load scenario ${path}: ${cause}`, { cause: err });
  }
  let doc: Json;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new InputError(`Failed to load scenario ${path}: not valid JSON (${messageOf(err)})`, { cause: err });
  }
  try {
    return validateScenario(doc);
  } catch (err) {
    if (err instanceof FieldError) {
      throw new InputError(`Failed to load scenario ${path}: ${err.message}`, {
        hint: 'see scenarios/scenario.schema.json for the fields a scenario may hold',
      });
    }
    throw err;
  }
}
