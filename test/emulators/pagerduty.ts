/**
 * A local PagerDuty REST API v2 (https://api.pagerduty.com), for the on-call rules' PagerDuty
 * adapter: users, schedules and who is on call in them when.
 *
 * What it models, and where it comes from:
 * - Auth: `Authorization: Token token=<API key>` (https://developer.pagerduty.com/docs/authentication;
 *   the OpenAPI schema's `api_key` security scheme, github.com/PagerDuty/api-schema
 *   reference/REST/openapiv3.json). Anything else is 401 with error code 2006 "Authentication failed".
 * - Errors: `{"error": {"message", "code", "errors": [...]}}` (the schema's generic error; its
 *   example is `{"message": "Not Found", "code": 2100}`); 2001 "Invalid Input Provided" for a bad
 *   argument, 2006 for refused credentials (https://developer.pagerduty.com/docs/errors).
 * - Rate limits: per API key, 960 requests a minute by default; every answer carries
 *   `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (seconds until the window
 *   resets), and past the limit the answer is 429 (https://support.pagerduty.com/docs/rest-api-rate-limits,
 *   "Make use of rate limit headers"; the 429 body's error code is not documented: message only).
 * - GET /oncalls (listOnCalls): `schedule_ids[]`, `user_ids[]`, `include[]` (users, schedules,
 *   escalation_policies: the references become full objects), `since`/`until` (default now; an
 *   on-call is listed when it overlaps the range; `until` before `since` is 400), `earliest`,
 *   `time_zone`, and classic pagination (`limit` default 25, at most 100; `offset`; `more`;
 *   `total` null unless `total=true`). Each on-call has `start` and `end` (null: never goes off call).
 * - GET /schedules (listSchedules, same pagination) and GET /schedules/{id} (getSchedule; an
 *   unknown id is 404 code 2100).
 */
import { EmulatorServer, type EmuRequest, type EmuResponse } from './base.js';

export interface PdUser {
  id: string;
  name: string;
  email: string;
}

export interface PdSchedule {
  id: string;
  name: string;
  timeZone: string;
}

export interface PdOnCall {
  schedule: string;
  user: string;
  /** Epoch ms; null: a permanent on-call. */
  start: number | null;
  /** Epoch ms; null: never goes off call. */
  end: number | null;
  escalationPolicy: { id: string; name: string };
  level: number;
}

export interface PagerDutyEmulatorOptions {
  token?: string;
  /** Requests per key per minute (PagerDuty's default is 960). */
  limitPerMinute?: number;
  now?: () => number;
}

const WINDOW_MS = 60_000;
const API = 'https://api.pagerduty.com';
const WEB = 'https://acme.pagerduty.com';

export class PagerDutyEmulator extends EmulatorServer {
  readonly token: string;
  readonly users = new Map<string, PdUser>();
  readonly schedules = new Map<string, PdSchedule>();
  readonly oncalls: PdOnCall[] = [];
  /** 429 answers sent. */
  tooManyRequests = 0;
  limitPerMinute: number;
  private readonly now: () => number;
  private window = { start: 0, used: 0 };
  private nextId = 1;

  constructor(opts: PagerDutyEmulatorOptions = {}) {
    super('pagerduty');
    this.token = opts.token ?? 'u+pdEmulatorKey0123456';
    this.limitPerMinute = opts.limitPerMinute ?? 960;
    this.now = opts.now ?? Date.now;
    const on = (path: string, h: (req: EmuRequest) => EmuResponse) => this.route('GET', path, (req) => this.guard(req, h));
    on('/oncalls', (req) => this.listOnCalls(req));
    on('/schedules', (req) => this.page(req, [...this.schedules.values()], 'schedules', (s) => this.scheduleJson(s)));
    on('/schedules/:id', (req) => {
      const s = this.schedules.get(req.params.id!);
      return s ? { body: { schedule: this.scheduleJson(s) } } : pdError(404, 2100, 'Not Found');
    });
  }

  // ---- test state -------------------------------------------------------------------------

  addUser(u: { name: string; email: string; id?: string }): PdUser {
    const user = { id: u.id ?? this.id('PU'), name: u.name, email: u.email };
    this.users.set(user.id, user);
    return user;
  }

  addSchedule(s: { name: string; id?: string; timeZone?: string }): PdSchedule {
    const schedule = { id: s.id ?? this.id('PS'), name: s.name, timeZone: s.timeZone ?? 'Etc/UTC' };
    this.schedules.set(schedule.id, schedule);
    return schedule;
  }

  /** Puts `user` on call in `schedule` from `start` to `end` (epoch ms). */
  addShift(s: { schedule: string; user: string; start: number | null; end: number | null; level?: number }): PdOnCall {
    if (!this.schedules.has(s.schedule)) throw new Error(`pagerduty emulator: no schedule ${s.schedule}`);
    if (!this.users.has(s.user)) throw new Error(`pagerduty emulator: no user ${s.user}`);
    const o: PdOnCall = { schedule: s.schedule, user: s.user, start: s.start, end: s.end, escalationPolicy: { id: 'PEP0001', name: 'Engineering escalation' }, level: s.level ?? 1 };
    this.oncalls.push(o);
    return o;
  }

  // ---- wire -------------------------------------------------------------------------------

  private guard(req: EmuRequest, h: (req: EmuRequest) => EmuResponse): EmuResponse {
    if (req.headers.authorization !== `Token token=${this.token}`) return pdError(401, 2006, 'Authentication failed');
    const now = this.now();
    // A test clock may go back: a new window then too.
    if (now < this.window.start || now - this.window.start >= WINDOW_MS) this.window = { start: now, used: 0 };
    const resetSec = Math.max(1, Math.ceil((this.window.start + WINDOW_MS - now) / 1000));
    const headers = (remaining: number) => ({ 'ratelimit-limit': String(this.limitPerMinute), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(resetSec) });
    if (this.window.used >= this.limitPerMinute) {
      this.tooManyRequests += 1;
      return { status: 429, headers: headers(0), body: { error: { message: 'Rate Limit Exceeded' } } };
    }
    this.window.used += 1;
    const out = h(req);
    return { ...out, headers: { ...headers(this.limitPerMinute - this.window.used), ...out.headers } };
  }

  private listOnCalls(req: EmuRequest): EmuResponse {
    const now = this.now();
    const since = time(req.query.get('since'), now);
    const until = time(req.query.get('until'), now);
    if (since === undefined || until === undefined) return pdError(400, 2001, 'Invalid Input Provided', ['Since or until is not a valid date']);
    if (until < since) return pdError(400, 2001, 'Invalid Input Provided', ['Until cannot be before since']);
    const scheduleIds = req.query.getAll('schedule_ids[]');
    const userIds = req.query.getAll('user_ids[]');
    const include = new Set(req.query.getAll('include[]'));
    let found = this.oncalls.filter(
      (o) =>
        (scheduleIds.length === 0 || scheduleIds.includes(o.schedule)) &&
        (userIds.length === 0 || userIds.includes(o.user)) &&
        (o.start === null || o.start <= until) &&
        (o.end === null || o.end > since),
    );
    if (req.query.get('earliest') === 'true') {
      const first = new Map<string, PdOnCall>();
      for (const o of [...found].sort((a, b) => (a.start ?? 0) - (b.start ?? 0))) {
        const key = `${o.escalationPolicy.id}/${o.level}/${o.user}`;
        if (!first.has(key)) first.set(key, o);
      }
      found = [...first.values()];
    }
    return this.page(req, found, 'oncalls', (o) => this.onCallJson(o, include));
  }

  private page<T>(req: EmuRequest, all: T[], key: string, json: (x: T) => unknown): EmuResponse {
    const limit = Math.min(100, Math.max(1, Number(req.query.get('limit') ?? 25) || 25));
    const offset = Math.max(0, Number(req.query.get('offset') ?? 0) || 0);
    const items = all.slice(offset, offset + limit);
    return { body: { [key]: items.map(json), limit, offset, more: offset + items.length < all.length, total: req.query.get('total') === 'true' ? all.length : null } };
  }

  private onCallJson(o: PdOnCall, include: Set<string>): unknown {
    const u = this.users.get(o.user)!;
    const s = this.schedules.get(o.schedule)!;
    return {
      escalation_policy: include.has('escalation_policies')
        ? { id: o.escalationPolicy.id, type: 'escalation_policy', summary: o.escalationPolicy.name, name: o.escalationPolicy.name, self: `${API}/escalation_policies/${o.escalationPolicy.id}`, html_url: `${WEB}/escalation_policies/${o.escalationPolicy.id}` }
        : ref('escalation_policy', o.escalationPolicy.id, o.escalationPolicy.name),
      escalation_level: o.level,
      schedule: include.has('schedules') ? this.scheduleJson(s) : ref('schedule', s.id, s.name),
      user: include.has('users') ? { ...ref('user', u.id, u.name), type: 'user', name: u.name, email: u.email, time_zone: 'Etc/UTC', role: 'user' } : ref('user', u.id, u.name),
      start: o.start === null ? null : iso(o.start),
      end: o.end === null ? null : iso(o.end),
    };
  }

  private scheduleJson(s: PdSchedule): unknown {
    return { ...ref('schedule', s.id, s.name), type: 'schedule', name: s.name, time_zone: s.timeZone, description: null, escalation_policies: [], users: [], teams: [] };
  }

  private id(prefix: string): string {
    return `${prefix}${String(this.nextId++).padStart(5, '0')}`;
  }
}

function ref(type: string, id: string, summary: string): Record<string, unknown> {
  const path = type === 'escalation_policy' ? 'escalation_policies' : `${type}s`;
  return { id, type: `${type}_reference`, summary, self: `${API}/${path}/${id}`, html_url: `${WEB}/${path}/${id}` };
}

function pdError(status: number, code: number, message: string, errors: string[] = []): EmuResponse {
  return { status, body: { error: { message, code, ...(errors.length ? { errors } : {}) } } };
}

/** PagerDuty renders times with seconds and an offset (here UTC: `time_zone=UTC`). */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function time(v: string | null, dflt: number): number | undefined {
  if (v === null) return dflt;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
