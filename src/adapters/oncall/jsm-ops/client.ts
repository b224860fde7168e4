/**
 * Jira Service Management Operations (the successor of Opsgenie), for approval rules'
 * `onCall: { jsm-ops: <schedule id> }`: its REST API with Basic auth (an Atlassian account email
 * and API token, https://developer.atlassian.com/cloud/jira/service-desk-ops/rest/v2/intro/), at
 * `{JSM_OPS_URL}/jsm/ops/api/{cloudId}/…`.
 *
 * Endpoints (https://developer.atlassian.com/cloud/jira/service-desk-ops/rest/v2/):
 * - `GET /v1/schedules/{scheduleId}/on-calls?flat=true` ("List on-call responders", Schedule
 *   on-calls): who is on call now, as `onCallUsers`, Atlassian account ids. It says nothing of
 *   when their shift ends, so
 * - `GET /v1/schedules/{scheduleId}/timeline?date=…&interval=2&intervalUnit=weeks` ("Get
 *   schedule timeline", Schedule timelines): `finalTimeline.rotations[].periods[]` with
 *   `startDate`, `endDate` and the `responder` (overrides and forwarding applied). The window
 *   starts at the beginning of the unit holding `date`, so it is asked from a week back and the
 *   shift covering now is read well inside it; touching periods of one responder are one shift.
 * - `GET {JIRA_HOST}/rest/api/3/user?accountId=…` (Jira platform, "Get user"): a responder's
 *   `emailAddress`, to match the requester by email. A profile that hides it leaves that
 *   responder unresolved (the rule cannot say "not on call" then).
 * - `GET /v1/schedules/{id}` and `GET /v1/schedules?size=1` for `access-bot check`.
 *
 * Errors are `{ "errors": [{ "title", "detail" }] }` (the reference's "Status codes and
 * responses"); the Opsgenie-era endpoints answer `{ "message" }`. Atlassian does not publish the
 * API's rate limits: a 429 carries `Retry-After` (seconds) and `X-RateLimit-Reset`
 * (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/); calls are held until then.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { covers, type OnCallShift, type Roster } from '../../../domain/onCall.js';
import type { HealthReport } from '../../../app/ports/idp.js';
import type { OnCallService } from '../../../app/ports/onCall.js';
import { headerValue } from '../../http.js';
import { parseRetryAfter } from '../../../outbox/errors.js';
import { redactor } from '../../../redact.js';
import { checkSchedulesWith, JsonGetter, OnCallError, parseTime } from '../http.js';

export interface JsmOpsConfig {
  cloudId: string;
  email: string;
  apiToken: string;
  /** API origin, e.g. https://api.atlassian.com (http allowed for emulators). */
  url: string;
  /** The Jira site, for responders' emails (JIRA_HOST). */
  siteUrl: string;
  /** Per request. Default 4 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 4000;
const WEEK_MS = 7 * 86_400_000;
/** On call in a schedule at once: more is not a schedule the bot reads sensibly. */
const MAX_RESPONDERS = 50;

interface Period {
  startDate?: unknown;
  endDate?: unknown;
  responder?: { id?: unknown; type?: unknown };
  flattenedResponders?: { id?: unknown; type?: unknown }[];
}

export class JsmOpsOnCall implements OnCallService {
  readonly type = 'jsm-ops';

  private constructor(
    private readonly api: URL,
    private readonly site: URL,
    private readonly auth: string,
    private readonly http: { ops: JsonGetter; site: JsonGetter },
    private readonly now: () => number,
  ) {}

  static fromConfig(config: JsmOpsConfig, deps: { now?: () => number } = {}): JsmOpsOnCall {
    const now = deps.now ?? Date.now;
    const auth = `Basic ${Buffer.from(`${config.email}:${config.apiToken}`).toString('base64')}`;
    // Two rate limits: the operations API's and the Jira site's, each held on its own.
    const getter = (label: string) =>
      new JsonGetter({ label, timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS, now, redact: redactor([config.apiToken, auth.slice(6)]), errorText: atlassianErrorText, rateLimit: atlassianRateLimit });
    const http = { ops: getter('JSM Operations'), site: getter('the Jira site') };
    const api = new URL(`${config.url.replace(/\/+$/, '')}/jsm/ops/api/${encodeURIComponent(config.cloudId)}/`);
    return new JsmOpsOnCall(api, new URL(config.siteUrl.replace(/\/+$/, '') + '/'), auth, http, now);
  }

  async roster(schedule: string): Promise<Roster> {
    const id = encodeURIComponent(schedule);
    const at = this.now();
    const [onCalls, timeline] = await Promise.all([
      this.ops(`v1/schedules/${id}/on-calls?flat=true`, `listing who is on call in schedule ${schedule}`),
      this.ops(`v1/schedules/${id}/timeline?${new URLSearchParams({ date: new Date(at - WEEK_MS).toISOString(), interval: '2', intervalUnit: 'weeks' })}`, `reading the timeline of schedule ${schedule}`),
    ]);
    const listed = unwrap<{ onCallUsers?: unknown }>(onCalls).onCallUsers;
    const ids = [...new Set(Array.isArray(listed) ? listed : [])].filter((x): x is string => typeof x === 'string');
    if (ids.length > MAX_RESPONDERS) throw new OnCallError(`JSM Operations named more than ${MAX_RESPONDERS} responders on call in schedule ${schedule}`);
    const periods = finalPeriods(unwrap(timeline));
    const shifts: OnCallShift[] = [];
    let unresolved = 0;
    const emails = await Promise.all(ids.map((accountId) => this.emailOf(accountId)));
    ids.forEach((accountId, i) => {
      const span = shiftOf(periods, accountId, at);
      const email = emails[i];
      if (!span || !email) {
        unresolved += 1;
        return;
      }
      shifts.push({ userId: accountId, email: email.address, ...(email.name ? { name: email.name } : {}), ...span });
    });
    return { shifts, unresolved };
  }

  checkSchedules(schedules: string[]): Promise<HealthReport> {
    return checkSchedulesWith(
      'JSM Operations refused the credentials',
      {
        credentials: () => this.ops('v1/schedules?size=1', 'listing schedules'),
        schedule: async (id) => {
          const s = unwrap<{ name?: unknown }>(await this.ops(`v1/schedules/${encodeURIComponent(id)}`, `reading schedule ${id}`));
          return typeof s.name === 'string' ? s.name : undefined;
        },
      },
      schedules,
    );
  }

  /** The responder's email and name from the Jira site; undefined when the profile hides the email. */
  private async emailOf(accountId: string): Promise<{ address: string; name?: string } | undefined> {
    const u = (await this.http.site.get(new URL(`rest/api/3/user?${new URLSearchParams({ accountId })}`, this.site), { Authorization: this.auth }, `reading the email of responder ${accountId}`)) as
      | { emailAddress?: unknown; displayName?: unknown }
      | undefined;
    if (typeof u?.emailAddress !== 'string' || u.emailAddress === '') return undefined;
    return { address: u.emailAddress.toLowerCase(), ...(typeof u.displayName === 'string' ? { name: u.displayName } : {}) };
  }

  private ops(path: string, what: string): Promise<unknown> {
    return this.http.ops.get(new URL(path, this.api), { Authorization: this.auth }, what);
  }
}

/** The Opsgenie-era endpoints wrap their answer in `data`; the newer ones do not. */
function unwrap<T extends object>(body: unknown): T {
  const b = (body ?? {}) as { data?: unknown };
  return (typeof b.data === 'object' && b.data !== null ? b.data : b) as T;
}

interface Span {
  start: number;
  end: number;
  who: string[];
}

/** Every period of the final timeline (overrides and forwarding applied), with the people it names. */
function finalPeriods(timeline: { finalTimeline?: { rotations?: { deleted?: unknown; periods?: Period[] }[] } }): Span[] {
  const out: Span[] = [];
  for (const rotation of timeline.finalTimeline?.rotations ?? []) {
    if (rotation.deleted === true) continue;
    for (const p of rotation.periods ?? []) {
      const start = parseTime(p.startDate);
      const end = parseTime(p.endDate);
      if (start === undefined || end === undefined) continue;
      const named = p.flattenedResponders?.length ? p.flattenedResponders : p.responder ? [p.responder] : [];
      const who = named.filter((r) => r.type !== 'noone' && typeof r.id === 'string').map((r) => r.id as string);
      out.push({ start, end, who });
    }
  }
  return out;
}

/** The responder's shift covering `now`: the covering period, joined with the periods of theirs that touch it. */
function shiftOf(periods: Span[], accountId: string, now: number): { start: number; end: number } | undefined {
  const mine = periods.filter((p) => p.who.includes(accountId));
  const first = mine.find((p) => covers(p, now));
  if (!first) return undefined;
  let { start, end } = first;
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of mine) {
      if (p.start <= end && p.end > end) [end, grew] = [p.end, true];
      if (p.end >= start && p.start < start) [start, grew] = [p.start, true];
    }
  }
  return { start, end };
}

function atlassianErrorText(body: unknown): string | undefined {
  const b = body as { errors?: { title?: unknown; detail?: unknown }[]; message?: unknown; errorMessages?: unknown } | undefined;
  const errors = Array.isArray(b?.errors) ? b.errors.map((e) => [e.title, e.detail].filter((x): x is string => typeof x === 'string' && x !== '').join(': ')).filter(Boolean) : [];
  if (errors.length) return errors.join('; ');
  if (typeof b?.message === 'string') return b.message;
  if (Array.isArray(b?.errorMessages)) return b.errorMessages.filter((x): x is string => typeof x === 'string').join('; ') || undefined;
  return undefined;
}

/** A 429's `Retry-After`; otherwise `X-RateLimit-Remaining` with `X-RateLimit-Reset` (an ISO time) when sent. */
function atlassianRateLimit(headers: IncomingHttpHeaders, status: number, now: number): { remaining: number; resetAt: number } | undefined {
  if (status === 429) {
    const wait = parseRetryAfter(headerValue(headers, 'retry-after'), now);
    return { remaining: 0, resetAt: now + Math.max(1000, wait ?? 1000) };
  }
  const remaining = Number(headerValue(headers, 'x-ratelimit-remaining'));
  const reset = Date.parse(headerValue(headers, 'x-ratelimit-reset') ?? '');
  return Number.isFinite(remaining) && !Number.isNaN(reset) ? { remaining, resetAt: reset } : undefined;
}
