/**
 * PagerDuty, for approval rules' `onCall: { pagerduty: <schedule id> }`: the REST API v2 with an
 * API key (`Authorization: Token token=…`, https://developer.pagerduty.com/docs/authentication;
 * a read-only key is enough).
 *
 * Endpoints (PagerDuty's OpenAPI schema, github.com/PagerDuty/api-schema reference/REST/openapiv3.json):
 * - `GET /oncalls?schedule_ids[]=…&include[]=users&time_zone=UTC` (listOnCalls): without `since`
 *   and `until` the on-calls covering now, each with its `start` and `end` (null `end`: the user
 *   does not go off call) and, with `include[]=users`, the full user, email included: who is on call
 *   is matched to the requester by email. Paged by `limit`/`offset`/`more`.
 * - `GET /schedules/{id}` (getSchedule) and `GET /schedules?limit=1` for `access-bot check`.
 *
 * Errors are `{ "error": { "message", "code", "errors": [] } }`. Rate limits are per API key (960
 * requests a minute); every answer carries `ratelimit-limit`, `ratelimit-remaining` and
 * `ratelimit-reset` (seconds until the window resets), and a 429 means wait that long
 * (https://support.pagerduty.com/docs/rest-api-rate-limits): calls are held until then.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { OnCallShift, Roster } from '../../../domain/onCall.js';
import type { HealthReport } from '../../../app/ports/idp.js';
import type { OnCallService } from '../../../app/ports/onCall.js';
import { headerValue } from '../../http.js';
import { redactor } from '../../../redact.js';
import { checkSchedulesWith, JsonGetter, OnCallError, parseTime } from '../http.js';

export interface PagerDutyConfig {
  token: string;
  /** API origin, e.g. https://api.pagerduty.com (http allowed for emulators). */
  url: string;
  /** Per request. Default 4 s: a look-up that takes longer sends the request to its approvers anyway. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 4000;
/** PagerDuty's largest page for classic pagination. */
const PAGE = 100;
/** A schedule with more on-calls than this at one moment is not one the bot can read sensibly. */
const MAX_PAGES = 10;

interface PdUser {
  id?: unknown;
  type?: unknown;
  email?: unknown;
  name?: unknown;
  summary?: unknown;
}

interface PdOnCall {
  user?: PdUser;
  schedule?: { id?: unknown; summary?: unknown } | null;
  start?: unknown;
  end?: unknown;
}

export class PagerDutyOnCall implements OnCallService {
  readonly type = 'pagerduty';

  private constructor(
    private readonly base: URL,
    private readonly token: string,
    private readonly http: JsonGetter,
  ) {}

  static fromConfig(config: PagerDutyConfig, deps: { now?: () => number } = {}): PagerDutyOnCall {
    const http = new JsonGetter({
      label: 'PagerDuty',
      timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      now: deps.now ?? Date.now,
      redact: redactor([config.token]),
      errorText: pdErrorText,
      rateLimit: pdRateLimit,
    });
    return new PagerDutyOnCall(new URL(config.url.replace(/\/+$/, '') + '/'), config.token, http);
  }

  async roster(schedule: string): Promise<Roster> {
    const shifts: OnCallShift[] = [];
    let scheduleName: string | undefined;
    let unresolved = 0;
    for (let page = 0, offset = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams([
        ['schedule_ids[]', schedule],
        ['include[]', 'users'],
        ['time_zone', 'UTC'],
        ['limit', String(PAGE)],
        ['offset', String(offset)],
      ]);
      const body = (await this.get(`oncalls?${q}`, `listing who is on call in schedule ${schedule}`)) as { oncalls?: unknown; more?: unknown } | undefined;
      const oncalls = Array.isArray(body?.oncalls) ? (body.oncalls as PdOnCall[]) : [];
      for (const o of oncalls) {
        if (typeof o.schedule?.summary === 'string') scheduleName ??= o.schedule.summary;
        const shift = toShift(o);
        if (shift?.email) shifts.push(shift);
        else unresolved += 1;
      }
      if (body?.more !== true || oncalls.length === 0) return { shifts, unresolved, ...(scheduleName ? { scheduleName } : {}) };
      offset += oncalls.length;
    }
    throw new OnCallError(`PagerDuty listed more than ${MAX_PAGES * PAGE} on-calls for schedule ${schedule}`);
  }

  checkSchedules(schedules: string[]): Promise<HealthReport> {
    return checkSchedulesWith(
      'PagerDuty refused the API key',
      {
        credentials: () => this.get('schedules?limit=1', 'reading schedules'),
        schedule: async (id) => {
          const body = (await this.get(`schedules/${encodeURIComponent(id)}`, `reading schedule ${id}`)) as { schedule?: { name?: unknown } } | undefined;
          return typeof body?.schedule?.name === 'string' ? body.schedule.name : undefined;
        },
      },
      schedules,
    );
  }

  private get(path: string, what: string): Promise<unknown> {
    return this.http.get(new URL(path, this.base), { Accept: 'application/vnd.pagerduty+json;version=2', Authorization: `Token token=${this.token}` }, what);
  }
}

/** An on-call as a shift; undefined when PagerDuty sent something that is not one. */
function toShift(o: PdOnCall): OnCallShift | undefined {
  const u = o.user;
  if (!u || typeof u.id !== 'string') return undefined;
  // A null start is a permanent user on-call (a user directly on an escalation level).
  const start = o.start === null || o.start === undefined ? 0 : parseTime(o.start);
  const end = o.end === null || o.end === undefined ? null : parseTime(o.end);
  if (start === undefined || end === undefined) return undefined;
  const shift: OnCallShift = { userId: u.id, start, end };
  if (typeof u.email === 'string' && u.email) shift.email = u.email.toLowerCase();
  const name = typeof u.name === 'string' ? u.name : typeof u.summary === 'string' ? u.summary : undefined;
  if (name) shift.name = name;
  return shift;
}

function pdErrorText(body: unknown): string | undefined {
  const e = (body as { error?: { message?: unknown; code?: unknown; errors?: unknown } } | undefined)?.error;
  if (!e) return undefined;
  const parts = [typeof e.code === 'number' ? String(e.code) : undefined, typeof e.message === 'string' ? e.message : undefined].filter(Boolean).join(' ');
  const details = Array.isArray(e.errors) ? e.errors.filter((x): x is string => typeof x === 'string') : [];
  return [parts, ...details].filter(Boolean).join(': ') || undefined;
}

/** `ratelimit-remaining` and `ratelimit-reset` (seconds from now). */
function pdRateLimit(headers: IncomingHttpHeaders, _status: number, now: number): { remaining: number; resetAt: number } | undefined {
  const reset = Number(headerValue(headers, 'ratelimit-reset'));
  if (!Number.isFinite(reset)) return undefined;
  return { remaining: Number(headerValue(headers, 'ratelimit-remaining') ?? Number.NaN), resetAt: now + reset * 1000 };
}
