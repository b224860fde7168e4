/**
 * A local Jira Service Management Operations REST API (https://api.atlassian.com/jsm/ops/api/{cloudId}),
 * the successor of Opsgenie, for the on-call rules' JSM Operations adapter: schedules, who is on
 * call in them and the schedules' timelines. Responders are Atlassian account ids; their emails
 * live on the Jira site (the Jira emulator's directory), not here.
 *
 * What it models, and where it comes from (https://developer.atlassian.com/cloud/jira/service-desk-ops/rest/v2/):
 * - Auth: Basic with an Atlassian account email and API token ("Authentication"); anything else
 *   is 401 `{"code": 401, "message": "Unauthorized"}`, the gateway's answer at api.atlassian.com.
 *   A cloud id other than the site's is 404.
 * - Errors: `{"errors": [{"title", "detail"}]}` ("Status codes and responses"); an unknown
 *   schedule is 404 with the Opsgenie-era wording "No schedule exists with identifier [<id>]".
 * - GET /v1/schedules?size&offset (List schedules): `{ values, links: { next } }`.
 * - GET /v1/schedules/{id} (Get schedule): `{ id, name, description, timezone, enabled, teamId, rotations }`.
 * - GET /v1/schedules/{id}/on-calls?flat&date (List on-call responders): with `flat=true`
 *   `{ onCallUsers: [accountId…] }`, else `{ onCallParticipants: [{ id, type: "user" }] }`, at
 *   `date` (default now).
 * - GET /v1/schedules/{id}/timeline?date&interval&intervalUnit (Get schedule timeline): the final
 *   timeline's rotations with their periods (`startDate`, `endDate`, `type`, `responder`), over
 *   the window that starts at the beginning of the `intervalUnit` (days, weeks, months; default
 *   weeks) holding `date` and lasts `interval` units (default 1); periods are cut at the window's
 *   edges, as the real timeline reports them (a shift that began before the window starts at it).
 * - Rate limits: Atlassian does not publish this API's numbers ("REST API rate limits are not
 *   published", https://developer.atlassian.com/cloud/jira/platform/rate-limiting/); past a
 *   configurable budget per minute the answer is 429 with `Retry-After` (seconds) and
 *   `X-RateLimit-Reset` (ISO 8601), as that page describes.
 */
import { randomUUID } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse } from './base.js';

export interface JsmSchedule {
  id: string;
  name: string;
  timezone: string;
}

export interface JsmShift {
  schedule: string;
  accountId: string;
  rotation: string;
  start: number;
  end: number;
}

export interface JsmOpsEmulatorOptions {
  cloudId?: string;
  email?: string;
  apiToken?: string;
  /** Requests per minute before a 429 (Atlassian publishes none; default plenty). */
  limitPerMinute?: number;
  now?: () => number;
}

const WINDOW_MS = 60_000;
const DAY_MS = 86_400_000;

export class JsmOpsEmulator extends EmulatorServer {
  readonly cloudId: string;
  email: string;
  apiToken: string;
  readonly schedules = new Map<string, JsmSchedule>();
  readonly shifts: JsmShift[] = [];
  tooManyRequests = 0;
  limitPerMinute: number;
  private readonly now: () => number;
  private window = { start: 0, used: 0 };

  constructor(opts: JsmOpsEmulatorOptions = {}) {
    super('jsm-ops');
    this.cloudId = opts.cloudId ?? '5f6e7d8c-0000-4000-8000-00000000c10d';
    this.email = opts.email ?? 'ops-bot@example.com';
    this.apiToken = opts.apiToken ?? 'ATATT-jsm-ops-emulator-token';
    this.limitPerMinute = opts.limitPerMinute ?? 10_000;
    this.now = opts.now ?? Date.now;
    const base = '/jsm/ops/api/:cloudId/v1/schedules';
    const on = (path: string, h: (req: EmuRequest) => EmuResponse) => this.route('GET', path, (req) => this.guard(req, h));
    on(base, (req) => this.listSchedules(req));
    on(`${base}/:id`, (req) => this.withSchedule(req, (s) => ({ body: this.scheduleJson(s) })));
    on(`${base}/:id/on-calls`, (req) => this.withSchedule(req, (s) => this.onCalls(req, s)));
    on(`${base}/:id/timeline`, (req) => this.withSchedule(req, (s) => this.timeline(req, s)));
  }

  // ---- test state -------------------------------------------------------------------------

  addSchedule(s: { name: string; id?: string; timezone?: string }): JsmSchedule {
    const schedule = { id: s.id ?? randomUUID(), name: s.name, timezone: s.timezone ?? 'Etc/UTC' };
    this.schedules.set(schedule.id, schedule);
    return schedule;
  }

  /** Puts the account on call in the schedule from `start` to `end` (epoch ms), in a rotation (default "Primary"). */
  addShift(s: { schedule: string; accountId: string; start: number; end: number; rotation?: string }): JsmShift {
    if (!this.schedules.has(s.schedule)) throw new Error(`jsm-ops emulator: no schedule ${s.schedule}`);
    const shift = { schedule: s.schedule, accountId: s.accountId, rotation: s.rotation ?? 'Primary', start: s.start, end: s.end };
    this.shifts.push(shift);
    return shift;
  }

  // ---- wire -------------------------------------------------------------------------------

  private guard(req: EmuRequest, h: (req: EmuRequest) => EmuResponse): EmuResponse {
    const expected = `Basic ${Buffer.from(`${this.email}:${this.apiToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return { status: 401, body: { code: 401, message: 'Unauthorized' } };
    if (req.params.cloudId !== this.cloudId) return opsError(404, 'Not Found', `No site with cloud id [${req.params.cloudId}]`);
    const now = this.now();
    // A test clock may go back: a new window then too.
    if (now < this.window.start || now - this.window.start >= WINDOW_MS) this.window = { start: now, used: 0 };
    if (this.window.used >= this.limitPerMinute) {
      this.tooManyRequests += 1;
      const reset = this.window.start + WINDOW_MS;
      return {
        status: 429,
        headers: { 'retry-after': String(Math.max(1, Math.ceil((reset - now) / 1000))), 'x-ratelimit-reset': new Date(reset).toISOString() },
        body: { errors: [{ title: 'Too Many Requests', detail: 'Rate limit exceeded. Retry after the time in the Retry-After header.' }] },
      };
    }
    this.window.used += 1;
    return h(req);
  }

  private withSchedule(req: EmuRequest, h: (s: JsmSchedule) => EmuResponse): EmuResponse {
    const s = this.schedules.get(req.params.id!);
    return s ? h(s) : opsError(404, 'Not Found', `No schedule exists with identifier [${req.params.id}]`);
  }

  private listSchedules(req: EmuRequest): EmuResponse {
    const size = Math.min(100, Math.max(1, Number(req.query.get('size') ?? 50) || 50));
    const offset = Math.max(0, Number(req.query.get('offset') ?? 0) || 0);
    const all = [...this.schedules.values()];
    const values = all.slice(offset, offset + size).map((s) => this.scheduleJson(s));
    const links = offset + size < all.length ? { next: `/v1/schedules?offset=${offset + size}&size=${size}` } : {};
    return { body: { values, links } };
  }

  private onCalls(req: EmuRequest, s: JsmSchedule): EmuResponse {
    const at = at0(req.query.get('date'), this.now());
    if (at === undefined) return opsError(400, 'Bad Request', `Invalid date [${req.query.get('date')}]`);
    const ids = [...new Set(this.shifts.filter((x) => x.schedule === s.id && x.start <= at && at < x.end).map((x) => x.accountId))];
    return { body: req.query.get('flat') === 'true' ? { onCallUsers: ids } : { onCallParticipants: ids.map((id) => ({ id, type: 'user' })) } };
  }

  private timeline(req: EmuRequest, s: JsmSchedule): EmuResponse {
    const date = at0(req.query.get('date'), this.now());
    const unit = req.query.get('intervalUnit') ?? 'weeks';
    const interval = Number(req.query.get('interval') ?? 1);
    if (date === undefined || !['days', 'weeks', 'months'].includes(unit) || !Number.isInteger(interval) || interval < 1) {
      return opsError(400, 'Bad Request', 'date, interval or intervalUnit is not valid');
    }
    const start = startOf(date, unit);
    const end = unit === 'months' ? addMonths(start, interval) : start + interval * (unit === 'weeks' ? 7 : 1) * DAY_MS;
    const rotations = new Map<string, { startDate: string; endDate: string; type: string; responder: { id: string; type: string } }[]>();
    for (const x of this.shifts) {
      if (x.schedule !== s.id || x.end <= start || x.start >= end) continue;
      const periods = rotations.get(x.rotation) ?? [];
      periods.push({ startDate: iso(Math.max(x.start, start)), endDate: iso(Math.min(x.end, end)), type: 'default', responder: { id: x.accountId, type: 'user' } });
      rotations.set(x.rotation, periods);
    }
    return {
      body: {
        startDate: iso(start),
        endDate: iso(end),
        finalTimeline: { rotations: [...rotations].map(([name, periods], order) => ({ id: `rot-${order + 1}`, name, order: order + 1, periods })) },
      },
    };
  }

  private scheduleJson(s: JsmSchedule): unknown {
    return { id: s.id, name: s.name, description: '', timezone: s.timezone, enabled: true, teamId: 'c0ffee00-0000-4000-8000-00000000feed', rotations: [] };
  }
}

function opsError(status: number, title: string, detail: string): EmuResponse {
  return { status, body: { errors: [{ title, detail }] } };
}

function at0(v: string | null, dflt: number): number | undefined {
  if (v === null) return dflt;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** The start of the UTC day, ISO week (Monday) or month holding `t`. */
function startOf(t: number, unit: string): number {
  const d = new Date(t);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (unit === 'days') return day;
  if (unit === 'weeks') return day - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function addMonths(t: number, n: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
