/**
 * The primitive readers every catalog section is made of. Each reports a problem as one line
 * `<path>: <message>` into `errors` and returns undefined, so callers collect all problems.
 */
import { parseDuration, type Duration } from '../../domain/duration.js';
import { EMAIL_RE, closest } from '../values.js';

export type Obj = Record<string, unknown>;

const DURATION_HINT = 'use <n>s, <n>m, <n>h, <n>d or permanent';
const SPAN_HINT = 'use <n>s, <n>m, <n>h or <n>d';
/** Slack shows at most 75 characters of an option's text in a select. */
const MAX_NAME = 75;
/** Ids travel in Slack option values and action ids (150/255 chars): keep room for both ids. */
const MAX_ID = 64;
const ID_RE = /^[a-z0-9][a-z0-9-]*$/;

export function isMap(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Reader {
  readonly errors: string[] = [];

  fail(path: string, msg: string): undefined {
    this.errors.push(`${path}: ${msg}`);
    return undefined;
  }

  /** A non-empty string (trimmed). With the failsafe schema every scalar is a string. */
  str(p: string, raw: unknown, what: string): string | undefined {
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return this.fail(p, `required (${what})`);
    if (typeof raw !== 'string') return this.fail(p, `must be a single value, not a ${Array.isArray(raw) ? 'list' : 'map'} (${what})`);
    return raw.trim();
  }

  map(p: string, raw: unknown, what: string): Obj | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return this.fail(p, `must be ${what}`);
    return raw as Obj;
  }

  list(p: string, raw: unknown, what: string): unknown[] | undefined {
    if (!Array.isArray(raw)) return this.fail(p, `must be a list of ${what}s`);
    if (raw.length === 0) return this.fail(p, `must list at least one ${what}`);
    return raw;
  }

  /** Unknown keys are errors: a typo such as `aprovers` must not silently drop a policy. */
  keys(p: string, m: Obj, allowed: readonly string[]): void {
    for (const k of Object.keys(m)) {
      if (allowed.includes(k)) continue;
      const kp = p ? `${p}.${k}` : k;
      const near = closest(k, allowed);
      this.fail(kp, `unknown key (${near ? `did you mean ${near}?` : `expected ${oneOf(allowed)}`})`);
    }
  }

  id(p: string, raw: unknown): string | undefined {
    const s = this.str(p, raw, 'lowercase letters, digits and dashes');
    if (s === undefined) return undefined;
    if (!ID_RE.test(s)) return this.fail(p, `"${s}" is not a valid id (lowercase letters, digits and dashes, starting with a letter or digit)`);
    if (s.length > MAX_ID) return this.fail(p, `"${s}" is longer than ${MAX_ID} characters`);
    return s;
  }

  name(p: string, raw: unknown): string | undefined {
    const s = this.str(p, raw, 'the name people see in Slack');
    if (s !== undefined && s.length > MAX_NAME) return this.fail(p, `is ${s.length} characters long (Slack shows at most ${MAX_NAME} in a menu)`);
    return s;
  }

  emails(p: string, raw: unknown): string[] | undefined {
    if (!Array.isArray(raw)) return this.fail(p, 'must be a list of emails, e.g. [owner@example.com]');
    const out: string[] = [];
    let bad = false;
    raw.forEach((item, i) => {
      const s = typeof item === 'string' ? item.trim() : undefined;
      if (!s || !EMAIL_RE.test(s)) return void (bad = this.fail(`${p}[${i}]`, `${show(item)} is not an email address`) ?? true);
      const e = s.toLowerCase();
      if (out.includes(e)) return void (bad = this.fail(`${p}[${i}]`, `"${e}" is listed twice`) ?? true);
      out.push(e);
    });
    return bad ? undefined : out;
  }

  /** A non-empty list of non-empty single values (a lone value is a list of one). */
  words(p: string, raw: unknown, what: string): string[] | undefined {
    const items = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(items) || items.length === 0) return this.fail(p, `must be a value or a list of ${what}`);
    const out: string[] = [];
    for (const [i, item] of items.entries()) {
      const s = this.str(`${p}[${i}]`, item, what);
      if (s === undefined) return undefined;
      out.push(s);
    }
    return out;
  }

  /** A span of time, never permanent. `undefined`: not given; `null`: invalid (reported). */
  span(p: string, raw: unknown): number | undefined | null {
    if (raw === undefined) return undefined;
    const s = typeof raw === 'string' ? raw.trim() : undefined;
    const d = s === undefined ? undefined : parseDuration(s);
    if (d && d.ms === null) return this.fail(p, `"permanent" is not allowed here (${SPAN_HINT})`) ?? null;
    if (!d) return this.fail(p, durationProblem(raw, SPAN_HINT)) ?? null;
    return d.ms;
  }

  /** The durations a role offers (`permanent` allowed), each once. */
  durations(p: string, raw: unknown): Duration[] | undefined {
    if (!Array.isArray(raw)) return this.fail(p, `must be a list of durations, e.g. [1h, 8h, permanent]`);
    if (raw.length === 0) return this.fail(p, 'must list at least one duration (e.g. [1h, 8h, permanent])');
    const out: Duration[] = [];
    const seen = new Set<string>();
    let bad = false;
    raw.forEach((item, i) => {
      const ip = `${p}[${i}]`;
      const d = typeof item === 'string' ? parseDuration(item) : undefined;
      if (!d) return void (bad = this.fail(ip, durationProblem(item, DURATION_HINT)) ?? true);
      // Tokens are the select's option values, which Slack requires to be unique.
      if (seen.has(d.token)) return void (bad = this.fail(ip, `"${d.token}" is listed twice`) ?? true);
      seen.add(d.token);
      out.push(d);
    });
    return bad ? undefined : out;
  }
}

/** Why `raw` is not a duration, with the format hint that fits where it was written. */
function durationProblem(raw: unknown, hint: string): string {
  // Well-formed but beyond parseDuration's ten-year cap: say so rather than "not a duration".
  if (typeof raw === 'string' && /^[1-9][0-9]*[smhd]$/.test(raw.trim())) {
    return `"${raw.trim()}" is too long (at most 3650d${hint === DURATION_HINT ? '; use permanent for no end' : ''})`;
  }
  return `${show(raw)} is not a duration (${hint})`;
}

/** A value for a message: strings quoted, lists and maps named. */
export function show(raw: unknown): string {
  if (typeof raw === 'string') return `"${raw}"`;
  if (Array.isArray(raw)) return 'a list';
  if (raw !== null && typeof raw === 'object') return 'a map';
  return `"${String(raw)}"`;
}

export function oneOf(xs: readonly string[]): string {
  return `one of ${xs.join(', ')}`;
}

export function suggest(s: string, xs: readonly string[]): string {
  const near = closest(s, xs);
  return near ? `; did you mean ${near}?` : '';
}
