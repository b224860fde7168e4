/**
 * Okta connector: the Management API v1 with an SSWS API token, over node:http(s) with
 * keep-alive. It calls six endpoints, so it calls them directly instead of through
 * `@okta/okta-sdk-nodejs`: importing the SDK alone cost ~90 MB of the bot's memory (its
 * generated models), and each call went through node-fetch, the SDK's middleware and a model
 * deserialiser, ~2-3 ms of CPU on the grant's path (bench/README.md). The test suite still
 * checks the emulator against the SDK.
 *
 * Endpoints (https://developer.okta.com/docs/api/openapi/okta-management/management/):
 * - `GET /api/v1/users?search=…&limit=…` (listUsers), `GET /api/v1/users/{idOrLogin}` (getUser)
 * - `GET /api/v1/users/{id}/groups` (listUserGroups), paged with `Link: <…>; rel="next"`: membership checks and `memberOf` rules
 * - `PUT` / `DELETE /api/v1/groups/{groupId}/users/{userId}` (assign / unassign), 204 either way
 * - `GET /api/v1/groups/{groupId}` (getGroup), `GET /api/v1/groups/{groupId}/users` (listGroupUsers)
 * - `GET /api/v1/groups?search=…` (listGroups), paged with `Link`, for `access-bot catalog import`
 * - `GET /api/v1/users/{id}` again for inactivity reclaim and offboarding: the user object's
 *   `lastLogin` (date-time or null) and `status` (STAGED, PROVISIONED, ACTIVE, RECOVERY,
 *   LOCKED_OUT, PASSWORD_EXPIRED, SUSPENDED, DEPROVISIONED: the User schema of the Management
 *   API, https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/)
 *
 * Each request is sent once, with a timeout over the whole exchange: retrying is the outbox's
 * job (ARCHITECTURE.md §1.2). Errors: a non-2xx answer carries a JSON body with `errorCode` and
 * `errorSummary` (https://developer.okta.com/docs/reference/error-codes/), and 429s carry
 * `X-Rate-Limit-Reset` (https://developer.okta.com/docs/reference/rl-best-practices/).
 *
 * Idempotency (ARCHITECTURE.md §1.3): Okta answers 204 to PUT membership when the user is
 * already a member and to DELETE when the user is not one; a 404 means the user or the group
 * does not exist, which is a PermanentError naming it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { headerValue, HttpTimeout, sendHttp } from '../../http.js';
import { PermanentError, RetryableError, parseRetryAfter, isRetryableStatus } from '../../../outbox/errors.js';
import { nonEmpty, parseJson } from '../http.js';
import { redactor } from '../../../redact.js';
import { runHealthChecks } from '../health.js';
import { RateGate } from '../../rateGate.js';
import type {
  GroupDirectory,
  GroupPage,
  HealthReport,
  IdpMember,
  IdpUser,
  MemberPage,
  IdpConnector,
  UserDirectory,
  Memberships,
  ManagerSource,
  Health,
  LoginActivity,
  AccountStatuses,
  MemberListing,
  MemberProfile,
  UserGroup,
  UserGroups,
  UserProfile,
} from '../../../app/ports/idp.js';
import type { AccountStatus } from '../../../domain/offboarding.js';

export interface OktaConnectorConfig {
  /** The instance name (what grants name). Default the type. */
  name?: string;
  /** e.g. https://acme.okta.com (http allowed for emulators). */
  orgUrl: string;
  apiToken: string;
  /** Per request, headers and body included. Default 15 s. */
  timeoutMs?: number;
}

export interface OktaConnectorDeps {
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Enough candidates to tell "one user" from "ambiguous" without paging a whole org. */
const SEARCH_LIMIT = 20;
/** Members listed per page (Okta allows up to 1000 here). */
const MEMBER_PAGE = 200;
/** A user's groups are read page by page; a runaway chain of pages is cut off here. */
const MAX_PAGES = 50;
/** Groups listed per page: Okta advises at most 200 ("any number greater than 200 affects performance and accuracy"). */
const GROUP_PAGE = 200;

/** The parts of an Okta user this connector reads. */
interface OktaUserLike {
  id?: string;
  status?: string;
  /** ISO 8601, or null when the user never signed in (the User object's `lastLogin`). */
  lastLogin?: string | null;
  profile?: {
    login?: string;
    email?: string;
    firstName?: string | null;
    lastName?: string | null;
    displayName?: string | null;
    managerId?: string | null;
    manager?: string | null;
    department?: string | null;
    title?: string | null;
  };
}

/** A non-2xx answer, as Okta gave it. */
class OktaHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string | undefined,
    readonly errorSummary: string | undefined,
    readonly headers: IncomingHttpHeaders,
  ) {
    super(`Okta answered ${status}`);
  }
}

interface OktaAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** What the caller was doing, for messages, and what a 404 means in that call. */
interface CallContext {
  what: string;
  /** Describes the missing resource from Okta's errorSummary; undefined when it names neither. */
  notFound?: (summary: string) => string | undefined;
}

export class OktaConnector implements IdpConnector, UserDirectory, Memberships, ManagerSource, Health, MemberListing, GroupDirectory, UserGroups, UserProfile, LoginActivity, AccountStatuses {
  readonly type = 'okta';

  private readonly gate: RateGate;
  /** Defence in depth: no message leaves this class with the token in it. */
  private readonly redact: (text: string) => string;

  private constructor(
    readonly name: string,
    private readonly orgUrl: URL,
    private readonly secret: string,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.gate = new RateGate(now);
    this.redact = redactor([secret]);
  }

  static fromConfig(config: OktaConnectorConfig, deps: OktaConnectorDeps = {}): OktaConnector {
    const orgUrl = new URL(config.orgUrl.replace(/\/+$/, '') + '/');
    if (orgUrl.protocol !== 'https:' && orgUrl.protocol !== 'http:') throw new Error(`OKTA_ORG_URL must be an http(s) URL, got ${orgUrl.protocol}`);
    return new OktaConnector(config.name ?? 'okta', orgUrl, config.apiToken, config.timeoutMs ?? DEFAULT_TIMEOUT_MS, deps.now ?? Date.now);
  }

  /**
   * The user whose login or `profile.email` equals `email`, ignoring case; DEPROVISIONED users
   * are ignored. Uses `search` (case-insensitive, but eventually consistent; `filter` is
   * case-sensitive), then a login lookup, which sees users created a moment ago.
   * Several users sharing the email and none owning it as login: PermanentError, since
   * granting the wrong account is worse than asking a person.
   */
  async findUserByEmail(email: string): Promise<IdpUser | undefined> {
    const wanted = email.trim().toLowerCase();
    if (!wanted) return undefined;
    const lit = quote(wanted);
    const candidates = await this.call({ what: `searching Okta users by email ${wanted}` }, async () => {
      const query = new URLSearchParams({ search: `profile.email eq ${lit} or profile.login eq ${lit}`, limit: String(SEARCH_LIMIT) });
      const page = await this.send('GET', `api/v1/users?${query.toString()}`);
      return (Array.isArray(page.body) ? page.body : []) as OktaUserLike[];
    });
    const picked = this.pick(candidates, wanted);
    if (picked) return toIdpUser(picked);

    // Logins containing '/' can only be fetched by id (Okta's getUser documentation).
    if (wanted.includes('/')) return undefined;
    const byLogin = await this.getUserOrUndefined(wanted, `looking up Okta user ${wanted}`);
    return byLogin && byLogin.status !== 'DEPROVISIONED' && matches(byLogin, wanted) ? toIdpUser(byLogin) : undefined;
  }

  async isMember(group: string, userId: string): Promise<boolean> {
    // One call per user (their groups) instead of paging through a large group's members.
    // A group that does not exist reads as "not a member"; the add that follows names it.
    return (await this.userGroupPages(userId, (page) => page.some((g) => g.id === group))).found;
  }

  /**
   * Every group the user is a direct member of, for `memberOf` rules: `GET /api/v1/users/{id}/groups`
   * (listUserGroups, "Lists all groups of which the user is a member", up to 200 a page with the
   * next in the `Link` header: https://developer.okta.com/docs/api/openapi/okta-management/management/tags/userresources/other/listusergroups).
   */
  async groupsOf(userId: string): Promise<UserGroup[]> {
    const out: UserGroup[] = [];
    await this.userGroupPages(userId, (page) => {
      for (const g of page) {
        if (typeof g.id !== 'string') continue;
        const name = nonEmpty(g.profile?.name);
        out.push(name ? { id: g.id, name } : { id: g.id });
      }
      return false;
    });
    return out;
  }

  /** `profile.department` and `profile.title`: base attributes of Okta's user profile (getUser). */
  async profileOf(userId: string): Promise<{ department?: string; title?: string }> {
    const user = await this.call({ what: `reading Okta user ${userId}`, notFound: () => `Okta user ${userId} not found` }, () => this.getUser(userId));
    const department = nonEmpty(user.profile?.department);
    const title = nonEmpty(user.profile?.title);
    return { ...(department ? { department } : {}), ...(title ? { title } : {}) };
  }

  /**
   * The User object's `lastLogin` ("Timestamp of the last login", null before the first:
   * https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser).
   */
  async lastLoginOf(userId: string): Promise<number | null> {
    const user = await this.call({ what: `reading Okta user ${userId}`, notFound: () => `Okta user ${userId} not found` }, () => this.getUser(userId));
    const at = loginTime(user);
    if (at === undefined) throw new PermanentError(`Okta answered a lastLogin for user ${userId} that is not a time`, 'okta_bad_answer');
    return at;
  }

  /**
   * The user's `status`: SUSPENDED is suspended, DEPROVISIONED deactivated ("Deactivated users can
   * no longer access their assigned apps", though Okta keeps their group memberships:
   * https://help.okta.com/en-us/Content/Topics/users-groups-profiles/usgp-deactivate-user-account.htm),
   * a user Okta answers 404 for is deleted; every other status still lets the person work
   * (LOCKED_OUT and PASSWORD_EXPIRED are a password away from it).
   */
  async accountStatus(userId: string): Promise<AccountStatus> {
    const user = await this.getUserOrUndefined(userId, `reading the status of Okta user ${userId}`);
    if (!user) return { state: 'deleted', detail: 'not found' };
    const status = user.status ?? 'ACTIVE';
    if (status === 'DEPROVISIONED') return { state: 'deactivated', detail: status };
    if (status === 'SUSPENDED') return { state: 'suspended', detail: status };
    return { state: 'active', detail: status };
  }

  /** Pages through the user's groups until `stop` says so (found) or the pages end. */
  private userGroupPages(userId: string, stop: (page: { id?: unknown; profile?: { name?: string } }[]) => boolean): Promise<{ found: boolean }> {
    return this.call({ what: `listing the Okta groups of user ${userId}`, notFound: (s) => describeMissing(s, { userId }) }, async () => {
      let path: string | undefined = `api/v1/users/${encodeURIComponent(userId)}/groups`;
      for (let pages = 0; path && pages < MAX_PAGES; pages++) {
        const page = await this.send('GET', path);
        if (stop((Array.isArray(page.body) ? page.body : []) as { id?: unknown; profile?: { name?: string } }[])) return { found: true };
        path = this.nextPage(page.headers);
      }
      return { found: false };
    });
  }

  async addMember(group: string, userId: string): Promise<void> {
    const ctx: CallContext = {
      what: `adding user ${userId} to Okta group ${group}`,
      notFound: (s) => describeMissing(s, { group, userId }) ?? `Okta group ${group} or user ${userId} not found`,
    };
    await this.call(ctx, () => this.send('PUT', membershipPath(group, userId)));
  }

  async removeMember(group: string, userId: string): Promise<void> {
    const ctx: CallContext = { what: `removing user ${userId} from Okta group ${group}`, notFound: (s) => describeMissing(s, { group, userId }) };
    try {
      await this.call(ctx, () => this.send('DELETE', membershipPath(group, userId)));
    } catch (err) {
      // A 404 that names neither the user nor the group is about the membership: already gone.
      if (err instanceof PermanentError && err.code === 'okta_404_unnamed') return;
      // A user deleted from Okta is in no group: nothing is left to remove (as Entra, Google and
      // Atlassian treat it). A missing group is still an error: the catalog may be wrong.
      if (err instanceof PermanentError && err.message.includes(`Okta user ${userId} not found`)) return;
      throw err;
    }
  }

  /**
   * One page of the group's direct members: `GET /api/v1/groups/{groupId}/users` (listGroupUsers),
   * `limit` per page, the next page in `Link: <…>; rel="next"`. The cursor is that next path.
   * Each member is a whole User object, so its title, department, manager and `lastLogin` come
   * with the page (a review shows them without a call per member).
   */
  async listMembers(group: string, page: { cursor?: string; size?: number } = {}): Promise<MemberPage> {
    const base = `api/v1/groups/${encodeURIComponent(group)}/users`;
    // A cursor is only ever a path this method returned: anything else could aim the token elsewhere.
    if (page.cursor !== undefined && !page.cursor.startsWith(`${base}?`)) throw new PermanentError(`not a page of Okta group ${group}'s members`, 'okta_bad_cursor');
    const path = page.cursor ?? `${base}?limit=${page.size ?? MEMBER_PAGE}`;
    const ctx: CallContext = { what: `listing the members of Okta group ${group}`, notFound: () => `Okta group ${group} not found` };
    const answer = await this.call(ctx, () => this.send('GET', path));
    const members = ((Array.isArray(answer.body) ? answer.body : []) as OktaUserLike[]).filter((u) => u.id).map(toMember);
    const next = this.nextPage(answer.headers);
    return next ? { members, next } : { members };
  }

  /**
   * One page of the groups matching `filter`, an Okta `search` expression such as
   * `profile.name sw "app-"` or `type eq "OKTA_GROUP" and profile.name sw "app-"` (listGroups,
   * https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroups).
   * `search`, not `q`: "paging and searching are mutually exclusive. You can't page a query" (q
   * stops at 300 results). Okta answers a malformed expression 400 E0000031 "Invalid search
   * criteria." (okta/okta-powershell-cli#48), a PermanentError here. The cursor is Link's next path.
   */
  async listGroups(filter: string, page: { cursor?: string } = {}): Promise<GroupPage> {
    const base = 'api/v1/groups';
    if (page.cursor !== undefined && !page.cursor.startsWith(`${base}?`)) throw new PermanentError('not a page of Okta groups', 'okta_bad_cursor');
    const path = page.cursor ?? `${base}?${new URLSearchParams({ search: filter, limit: String(GROUP_PAGE) }).toString()}`;
    const answer = await this.call({ what: `listing the Okta groups matching ${filter}` }, () => this.send('GET', path));
    const groups = ((Array.isArray(answer.body) ? answer.body : []) as { id?: unknown; profile?: Record<string, unknown> }[])
      .filter((g): g is { id: string; profile?: Record<string, unknown> } => typeof g.id === 'string')
      .map((g) => {
        // Custom profile attributes (the group schema's custom properties) sit beside name and description.
        const { name: rawName, description: rawDescription, ...custom } = g.profile ?? {};
        const name = typeof rawName === 'string' ? rawName : g.id;
        const description = typeof rawDescription === 'string' ? nonEmpty(rawDescription) : undefined;
        return { id: g.id, name, ...(description ? { description } : {}), ...(Object.keys(custom).length > 0 ? { attributes: custom } : {}) };
      });
    const next = this.nextPage(answer.headers);
    return next ? { groups, next } : { groups };
  }

  /**
   * The manager's email, from `profile.managerId` (an Okta user id or login) or, failing that,
   * `profile.manager` when it holds a login (Okta defines it as a display name, which cannot be
   * resolved safely). A manager reference that points at no user resolves to undefined.
   */
  async findManagerEmail(userId: string): Promise<string | undefined> {
    const user = await this.call({ what: `reading Okta user ${userId}`, notFound: () => `Okta user ${userId} not found` }, () => this.getUser(userId));
    const p = user.profile ?? {};
    const ref = nonEmpty(p.managerId) ?? (p.manager && p.manager.includes('@') ? p.manager.trim() : undefined);
    if (!ref || ref.includes('/')) return undefined;
    const manager = await this.getUserOrUndefined(ref, `reading the manager (${ref}) of Okta user ${userId}`);
    return nonEmpty(manager?.profile?.email);
  }

  checkHealth(groups: string[]): Promise<HealthReport> {
    return runHealthChecks(
      {
        // `me` is the admin the API token belongs to: a cheap call any valid token may make.
        credentials: async () => {
          await this.call({ what: 'checking the Okta API token' }, () => this.getUser('me'));
          return undefined;
        },
        group: async (g) => {
          const ctx: CallContext = { what: `reading Okta group ${g}`, notFound: () => `Okta group ${g} not found` };
          const found = await this.call(ctx, () => this.send('GET', `api/v1/groups/${encodeURIComponent(g)}`));
          return nonEmpty((found.body as { profile?: { name?: string } } | undefined)?.profile?.name);
        },
        explain: (err) => this.redact(err instanceof Error ? err.message : String(err)),
        withoutCredentials: 'credentials rejected',
      },
      groups,
    );
  }

  // ---- internals ----------------------------------------------------------------------------

  private pick(users: OktaUserLike[], wanted: string): OktaUserLike | undefined {
    const live = users.filter((u) => u.id && u.status !== 'DEPROVISIONED' && matches(u, wanted));
    // Logins are unique in an org; emails are not.
    const byLogin = live.find((u) => u.profile?.login?.toLowerCase() === wanted);
    if (byLogin) return byLogin;
    if (live.length > 1) {
      const ids = live.map((u) => u.id).join(', ');
      throw new PermanentError(`${live.length} Okta users have the email ${wanted} and none has it as login: ${ids}`, 'okta_ambiguous_user');
    }
    return live[0];
  }

  /** GET /api/v1/users/{idOrLogin}; undefined when Okta answers 404. */
  private async getUserOrUndefined(idOrLogin: string, what: string): Promise<OktaUserLike | undefined> {
    try {
      const ctx: CallContext = { what, notFound: () => `Okta user ${idOrLogin} not found` };
      return await this.call(ctx, () => this.getUser(idOrLogin));
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'okta_not_found') return undefined;
      throw err;
    }
  }

  private async getUser(idOrLogin: string): Promise<OktaUserLike> {
    const answer = await this.send('GET', `api/v1/users/${encodeURIComponent(idOrLogin)}`);
    return (answer.body ?? {}) as OktaUserLike;
  }

  /** The next page's path from a `Link: <…>; rel="next"` header, if it stays on this org. */
  private nextPage(headers: IncomingHttpHeaders): string | undefined {
    const link = headers.link;
    for (const part of (Array.isArray(link) ? link.join(',') : (link ?? '')).split(',')) {
      const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
      if (!m) continue;
      const next = new URL(m[1]!, this.orgUrl);
      return next.origin === this.orgUrl.origin ? next.pathname.slice(1) + next.search : undefined;
    }
    return undefined;
  }

  /**
   * One request, sent once; a non-2xx answer is thrown as OktaHttpError. When an earlier answer
   * said this endpoint's rate limit is used up until its reset, the call is not sent: the
   * RetryableError asks the outbox to come back at the reset (rateGate.ts).
   */
  private async send(method: 'GET' | 'PUT' | 'DELETE', path: string): Promise<OktaAnswer> {
    const key = rateKey(method, path);
    const gate = this.gate.reserve(key);
    if (!gate.ok) {
      throw new RetryableError(`Okta's rate limit for ${key} is used up for ${Math.ceil(gate.waitMs / 1000)} s more; waiting instead of calling`, gate.waitMs, 'okta_rate_limited');
    }
    let answer;
    try {
      answer = await sendHttp(new URL(path, this.orgUrl), {
        method,
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: `SSWS ${this.secret}`, 'User-Agent': 'access-bot' },
        body: method === 'GET' ? undefined : '',
        timeoutMs: this.timeoutMs,
      });
    } finally {
      this.gate.release(key, gate.ticket);
    }
    const resetAt = rateLimitResetAt(answer.headers, this.now());
    if (resetAt !== undefined) {
      if (answer.status === 429) this.gate.exhausted(key, resetAt);
      else this.gate.observe(key, Number(header(answer.headers, 'x-rate-limit-remaining') ?? Number.NaN), resetAt);
    }
    const body = parseJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return { status: answer.status, headers: answer.headers, body };
    const e = (body ?? {}) as { errorCode?: unknown; errorSummary?: unknown };
    throw new OktaHttpError(answer.status, typeof e.errorCode === 'string' ? e.errorCode : undefined, typeof e.errorSummary === 'string' ? e.errorSummary : undefined, answer.headers);
  }

  /** Runs one call and turns whatever it throws into RetryableError or PermanentError. */
  private async call<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, ctx);
    }
  }

  private classify(err: unknown, ctx: CallContext): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    const status = httpStatus(err);
    if (status === undefined) return this.transportError(err, ctx);

    const body = err as { errorCode?: unknown; errorSummary?: unknown; headers?: unknown };
    const code = typeof body.errorCode === 'string' ? body.errorCode : undefined;
    const summary = typeof body.errorSummary === 'string' ? body.errorSummary : '';
    const said = this.redact([status, code].filter(Boolean).join(' ') + (summary ? `: ${summary}` : ''));

    if (status === 429) {
      return new RetryableError(`Okta rate limit reached while ${ctx.what} (${said})`, retryAfterMs(body.headers, this.now(), true), 'okta_rate_limited');
    }
    if (isRetryableStatus(status)) {
      // Every Okta answer carries X-Rate-Limit-Reset; outside a 429 it is no request to wait.
      return new RetryableError(`Okta failed while ${ctx.what} (${said})`, retryAfterMs(body.headers, this.now(), false), 'okta_unavailable');
    }
    if (status === 401 || status === 403) {
      return new PermanentError(`Okta rejected the API token while ${ctx.what} (${said})`, 'okta_auth');
    }
    if (status === 404) {
      const missing = ctx.notFound?.(summary);
      return missing
        ? new PermanentError(`${missing} (while ${ctx.what})`, 'okta_not_found')
        : new PermanentError(`Okta found nothing while ${ctx.what} (${said})`, 'okta_404_unnamed');
    }
    return new PermanentError(`Okta refused ${ctx.what} (${said})`, 'okta_rejected');
  }

  /** No HTTP answer: timeouts and connection failures are worth retrying; so is the unknown. */
  private transportError(err: unknown, ctx: CallContext): RetryableError {
    const e = err as { name?: unknown; code?: unknown; message?: unknown };
    if (err instanceof HttpTimeout) {
      return new RetryableError(`Okta did not answer within ${this.timeoutMs} ms while ${ctx.what}`, undefined, 'okta_timeout');
    }
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
      return new RetryableError(`could not reach Okta while ${ctx.what} (${typeof e.code === 'string' ? e.code : 'connection error'})`, undefined, 'okta_unreachable');
    }
    const message = typeof e.message === 'string' ? e.message : String(err);
    return new RetryableError(this.redact(`unexpected failure while ${ctx.what}: ${message}`), undefined, 'okta_unexpected');
  }
}

// ---- helpers --------------------------------------------------------------------------------

/** A double-quoted literal for Okta's search expressions. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function membershipPath(group: string, userId: string): string {
  return `api/v1/groups/${encodeURIComponent(group)}/users/${encodeURIComponent(userId)}`;
}

function matches(u: OktaUserLike, wanted: string): boolean {
  return u.profile?.email?.toLowerCase() === wanted || u.profile?.login?.toLowerCase() === wanted;
}

function toIdpUser(u: OktaUserLike): IdpUser {
  const p = u.profile ?? {};
  const name = nonEmpty(p.displayName) ?? nonEmpty([p.firstName, p.lastName].filter(Boolean).join(' '));
  const user: IdpUser = { id: u.id!, email: p.email ?? p.login ?? '' };
  if (name) user.displayName = name;
  return user;
}

/** A listed member: the user, with what a review shows of their profile and their last sign-in. */
function toMember(u: OktaUserLike): IdpMember {
  const p = u.profile ?? {};
  const member: IdpMember = { ...toIdpUser(u) };
  if (!member.email) delete member.email;
  const profile: MemberProfile = {};
  const title = nonEmpty(p.title);
  const department = nonEmpty(p.department);
  // `manager` is the display name Okta defines; `managerId` (an id or a login) when that is empty.
  const manager = nonEmpty(p.manager) ?? nonEmpty(p.managerId);
  if (title) profile.title = title;
  if (department) profile.department = department;
  if (manager) profile.manager = manager;
  if (Object.keys(profile).length > 0) member.profile = profile;
  // An answer without the field (or with one that is no time) says nothing; null is "never signed in".
  const at = loginTime(u);
  if (at !== undefined) member.lastLoginAt = at;
  return member;
}

/** `lastLogin` as a time; null when never; undefined when absent or not a time. */
function loginTime(u: OktaUserLike): number | null | undefined {
  if (u.lastLogin === null) return null;
  if (typeof u.lastLogin !== 'string') return undefined;
  const at = Date.parse(u.lastLogin);
  return Number.isNaN(at) ? undefined : at;
}

/** Okta's 404 summaries end in "(User)" or "(UserGroup)" after the id that was not found. */
function describeMissing(summary: string, ids: { group?: string; userId?: string }): string | undefined {
  if (/\((User)?Group\)\s*$/.test(summary)) return `Okta group ${ids.group ?? idIn(summary)} not found`;
  if (/\(User\)\s*$/.test(summary)) return `Okta user ${ids.userId ?? idIn(summary)} not found`;
  return undefined;
}

function idIn(summary: string): string {
  return /Resource not found: (.+) \(\w+\)\s*$/.exec(summary)?.[1] ?? 'unknown';
}

/** The HTTP status of an answer Okta gave. */
function httpStatus(err: unknown): number | undefined {
  return err instanceof OktaHttpError ? err.status : undefined;
}

function header(headers: unknown, name: string): string | undefined {
  return typeof headers === 'object' && headers !== null ? headerValue(headers as IncomingHttpHeaders, name) : undefined;
}

/**
 * When the rate-limit window resets, on our clock: `X-Rate-Limit-Reset` (epoch seconds) read
 * against the answer's `Date`, so clock skew between us and Okta does not matter.
 */
function rateLimitResetAt(headers: unknown, nowMs: number): number | undefined {
  const reset = header(headers, 'x-rate-limit-reset');
  if (!reset) return undefined;
  // A header sent twice arrives joined by commas (Okta's SDKs note this as OKTA-112507).
  const secs = Math.max(...reset.split(',').map((s) => Number(s.trim())).filter(Number.isFinite));
  if (!Number.isFinite(secs)) return undefined;
  const date = Date.parse(header(headers, 'date') ?? '');
  return nowMs + secs * 1000 - (Number.isNaN(date) ? nowMs : date);
}

/** The rate gate's key: the method and the path's shape, ids left out (`GET api/v1/users/{}/groups`). */
function rateKey(method: string, path: string): string {
  const segments = path.split('?')[0]!.split('/');
  return `${method} ${segments.map((seg, i) => (i >= 3 && i % 2 === 1 ? '{}' : seg)).join('/')}`;
}

/**
 * How long Okta asked us to wait: on a 429 until `X-Rate-Limit-Reset` (epoch seconds), measured against
 * the answer's `Date` so clock skew between us and Okta does not matter (Okta's Node SDK's
 * executor does the same), else `Retry-After`; at least one second.
 */
function retryAfterMs(headers: unknown, nowMs: number, useReset: boolean): number | undefined {
  const resetAt = useReset ? rateLimitResetAt(headers, nowMs) : undefined;
  if (resetAt !== undefined) return Math.max(1000, resetAt - nowMs);
  const after = parseRetryAfter(header(headers, 'retry-after'), nowMs);
  return after === undefined ? undefined : Math.max(1000, after);
}
