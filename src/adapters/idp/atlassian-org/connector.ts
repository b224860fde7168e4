/**
 * Atlassian organization connector: product access (Jira, Confluence, JSM) through the groups of
 * one directory of an Atlassian organization, over the Organizations REST API with an org API
 * key (Bearer) — separate from the Jira site credentials the `atlassian` connector uses.
 *
 * Endpoints (https://developer.atlassian.com/cloud/admin/organization/rest/, paths as jira.js
 * 5.x src/admin/api/*.ts generates them from Atlassian's spec), all under `<baseUrl>/admin`:
 * - `GET /v1/orgs/{orgId}` (getOrgById): the credentials probe.
 * - `GET /v2/orgs/{orgId}/directories` (getDirectoriesForOrg): the directory exists.
 * - `POST /v2/orgs/{orgId}/directories/{directoryId}/users/search` (searchDirectoryUsers):
 *   `emails` is an exact match (lookup by email), `accountIds` + `groupIds` answer "is this
 *   account in this group", `groupIds` alone lists a group's members, paged by an opaque `cursor`
 *   (`links.next`), `limit` default 50.
 * - `GET …/groups/{groupId}` (getGroup): exists, and whether it is synced from an identity
 *   provider (`externalSynced`, `managedBy: external`, `managementAccess.modifiable: false`).
 * - `POST …/groups/{groupId}/memberships {accountId}` / `DELETE …/memberships/{accountId}`.
 * - `GET /v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates` (getUserLastActiveDates):
 *   `{data: {product_access: [{key, id, last_active, last_active_timestamp}], added_to_org},
 *   links: {next}}`, the user's last activity per product ("viewing a product's page for a
 *   minimum of 2 seconds", "may be delayed by up to 24 hours"; empty when the user never used one:
 *   https://developer.atlassian.com/cloud/admin/organization/user-last-active-dates/). The last
 *   sign-in is the latest of them. Account status is the search's `accountStatus` (active,
 *   inactive, closed) and `membershipStatus` (suspended).
 * - `POST …/users/{accountId}/suspend` (suspendDirectoryUser): only `suspendUser`, an explicit
 *   offboarding action; it is no capability, so nothing the bot does on its own (an expiry, a
 *   revocation) can reach it.
 *
 * Groups synced from an IdP cannot be changed through this API ("Manage this group in your
 * identity provider instead", addUserToGroup's description): the group is read before each
 * change and such a group is a PermanentError saying where to manage it, with nothing sent.
 * What the API answers to adding an existing member or removing a non-member is not documented,
 * so a 4xx on either is settled by reading the membership. Errors carry
 * `{errors: [{code: "ADMIN-UAM-…", title, detail}]}`; 429s carry Retry-After, and every answer
 * X-RateLimit-Remaining / X-RateLimit-Reset (ISO 8601), kept per endpoint in a RateGate so a
 * long listing waits for the window instead of running into 429s.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { headerValue, HttpTimeout, sendHttp } from '../../http.js';
import { RateGate } from '../../rateGate.js';
import { isRetryableStatus, PermanentError, RetryableError } from '../../../outbox/errors.js';
import { redactor } from '../../../redact.js';
import { nonEmpty, parseJson, parseSignInTime, retryAfterMs } from '../http.js';
import { runHealthChecks } from '../health.js';
import type { AccountStatuses, LoginActivity, Health, HealthReport, IdpConnector, IdpMember, IdpUser, MemberListing, MemberPage, Memberships, UserDirectory } from '../../../app/ports/idp.js';
import type { AccountStatus } from '../../../domain/offboarding.js';

export interface AtlassianOrgConfig {
  /** The instance name (what grants name). Default the type. */
  name?: string;
  /** Default https://api.atlassian.com (an emulator's URL in tests). */
  baseUrl: string;
  orgId: string;
  directoryId: string;
  apiKey: string;
  /** Per request, headers and body included. Default 15 s. */
  timeoutMs?: number;
}

export interface AtlassianOrgDeps {
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Members per page when the caller does not say (the API's default is 50). */
const MEMBER_PAGE = 100;
/** Enough matches to tell "one account" from "ambiguous". */
const SEARCH_LIMIT = 10;
/** Pages of a user's per-product last-active dates read at most (one product a row). */
const MAX_ACTIVITY_PAGES = 10;

interface OrgUserLike {
  accountId?: string;
  accountType?: string;
  accountStatus?: string;
  membershipStatus?: string;
  email?: string;
  name?: string;
  nickname?: string;
}

interface GroupLike {
  id?: string;
  name?: string;
  externalSynced?: boolean;
  managedBy?: string;
  managementAccess?: { modifiable?: boolean };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A non-2xx answer from the admin API. */
class AdminHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly said: string,
    readonly headers: IncomingHttpHeaders,
  ) {
    super(`Atlassian admin API answered ${status}`);
  }
}

export class AtlassianOrgConnector implements IdpConnector, UserDirectory, Memberships, Health, MemberListing, LoginActivity, AccountStatuses {
  readonly type = 'atlassian-org';

  private readonly gate: RateGate;
  private readonly redact: (text: string) => string;
  private readonly dir: string;

  private constructor(
    readonly name: string,
    private readonly base: URL,
    private readonly orgId: string,
    private readonly directoryId: string,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.gate = new RateGate(now);
    this.redact = redactor([apiKey]);
    this.dir = `admin/v2/orgs/${encodeURIComponent(orgId)}/directories/${encodeURIComponent(directoryId)}`;
  }

  static fromConfig(config: AtlassianOrgConfig, deps: AtlassianOrgDeps = {}): AtlassianOrgConnector {
    const base = new URL(config.baseUrl.replace(/\/+$/, '') + '/');
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`the Atlassian admin API URL must be http(s), got ${base.protocol}`);
    if (!config.orgId.trim() || !config.directoryId.trim()) throw new Error('the Atlassian organization connector needs an org id and a directory id');
    return new AtlassianOrgConnector(config.name ?? 'atlassian-org', base, config.orgId.trim(), config.directoryId.trim(), config.apiKey, config.timeoutMs ?? DEFAULT_TIMEOUT_MS, deps.now ?? Date.now);
  }

  /** The active Atlassian account in the directory whose email is exactly `email`; its id is the accountId. */
  async findUserByEmail(email: string): Promise<IdpUser | undefined> {
    const wanted = email.trim().toLowerCase();
    if (!wanted) return undefined;
    const page = await this.call(`looking up ${wanted} in the Atlassian organization`, () => this.search({ emails: [wanted], limit: SEARCH_LIMIT }));
    const matches = page.users.filter((u) => u.accountId && u.email?.toLowerCase() === wanted && (u.accountType ?? 'atlassian') === 'atlassian' && (u.accountStatus ?? 'active') === 'active');
    if (matches.length > 1) {
      throw new PermanentError(`${matches.length} Atlassian accounts have the email ${wanted}: ${matches.map((u) => u.accountId).join(', ')}`, 'atlassian_org_ambiguous_user');
    }
    const u = matches[0];
    if (!u) return undefined;
    const name = nonEmpty(u.name) ?? nonEmpty(u.nickname);
    return { id: u.accountId!, email: u.email ?? wanted, ...(name ? { displayName: name } : {}) };
  }

  /** One search for this account among the group's members. A missing group reads as "not a member"; the add names it. */
  async isMember(group: string, userId: string): Promise<boolean> {
    const page = await this.call(`reading whether ${userId} is in Atlassian group ${group}`, () => this.search({ accountIds: [userId], groupIds: [group], limit: 1 }));
    return page.users.some((u) => u.accountId === userId);
  }

  async addMember(group: string, userId: string): Promise<void> {
    const what = `adding account ${userId} to Atlassian group ${group}`;
    await this.modifiable(group, what);
    try {
      await this.send('POST', `${this.dir}/groups/${encodeURIComponent(group)}/memberships`, { accountId: userId });
    } catch (err) {
      // "Already a member" is undocumented: settle any refusal by reading the membership.
      if (err instanceof AdminHttpError && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 429 && (await this.isMember(group, userId))) return;
      if (err instanceof AdminHttpError && err.status === 404 && err.code !== 'ADMIN-UAM-404-3') {
        throw new PermanentError(`Atlassian account ${userId} is not in directory ${this.directoryId} (while ${what}: ${this.redact(err.said)})`, 'atlassian_org_user_not_found');
      }
      throw this.classify(err, what, group);
    }
  }

  async removeMember(group: string, userId: string): Promise<void> {
    const what = `removing account ${userId} from Atlassian group ${group}`;
    await this.modifiable(group, what);
    try {
      await this.send('DELETE', `${this.dir}/groups/${encodeURIComponent(group)}/memberships/${encodeURIComponent(userId)}`);
    } catch (err) {
      if (err instanceof AdminHttpError && (err.status === 404 || err.status === 400) && !(await this.isMember(group, userId))) return;
      throw this.classify(err, what, group);
    }
  }

  /**
   * One page of the group's members, by the directory's user search filtered to the group; the
   * cursor is the API's own. The group is read on the first page, so a missing one is named.
   */
  async listMembers(group: string, page: { cursor?: string; size?: number } = {}): Promise<MemberPage> {
    const what = `listing the members of Atlassian group ${group}`;
    if (page.cursor === undefined) await this.readGroup(group, what);
    const limit = Math.max(1, Math.min(page.size ?? MEMBER_PAGE, MEMBER_PAGE));
    const found = await this.call(what, () => this.search(page.cursor === undefined ? { groupIds: [group], limit } : { groupIds: [group], limit, cursor: page.cursor }), group);
    const members: IdpMember[] = found.users
      .filter((u) => u.accountId)
      .map((u) => {
        const name = nonEmpty(u.name) ?? nonEmpty(u.nickname);
        return { id: u.accountId!, ...(u.email ? { email: u.email } : {}), ...(name ? { displayName: name } : {}) };
      });
    return found.next ? { members, next: found.next } : { members };
  }

  /** The latest of the account's per-product last-active dates; null when it used no product. */
  async lastLoginOf(userId: string): Promise<number | null> {
    const what = `reading the last-active dates of Atlassian account ${userId}`;
    const base = `admin/v1/orgs/${encodeURIComponent(this.orgId)}/directory/users/${encodeURIComponent(userId)}/last-active-dates`;
    let latest: number | null = null;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_ACTIVITY_PAGES; page++) {
      const answer = await this.call(what, () => this.send('GET', cursor === undefined ? base : `${base}?${new URLSearchParams({ cursor }).toString()}`));
      const b = (answer.body ?? {}) as { data?: { product_access?: unknown }; links?: { next?: unknown } };
      const products = (Array.isArray(b.data?.product_access) ? b.data.product_access : []) as { last_active?: unknown; last_active_timestamp?: unknown }[];
      for (const p of products) {
        const at = parseSignInTime(p.last_active_timestamp ?? p.last_active, `Atlassian account ${userId}'s last-active date`, 'atlassian_org_bad_time');
        if (at !== null && (latest === null || at > latest)) latest = at;
      }
      cursor = typeof b.links?.next === 'string' && b.links.next ? b.links.next : undefined;
      if (!cursor) break;
    }
    return latest;
  }

  /** The directory's `accountStatus` (inactive: deactivated; closed: deleted) and `membershipStatus` (suspended). */
  async accountStatus(userId: string): Promise<AccountStatus> {
    const page = await this.call(`reading the status of Atlassian account ${userId}`, () => this.search({ accountIds: [userId], limit: 1 }));
    const u = page.users.find((x) => x.accountId === userId);
    if (!u) return { state: 'deleted', detail: `not in directory ${this.directoryId}` };
    if (u.accountStatus === 'closed') return { state: 'deleted', detail: 'account closed' };
    if (u.accountStatus === 'inactive') return { state: 'deactivated', detail: 'account inactive' };
    if (u.membershipStatus === 'suspended') return { state: 'suspended', detail: 'access suspended in the directory' };
    return { state: 'active' };
  }

  /**
   * Suspends the account's access in the directory (it keeps its groups; restoring brings them
   * back). An explicit offboarding action only: not part of any capability, so neither an expiry
   * nor a revocation can call it.
   */
  async suspendUser(accountId: string): Promise<void> {
    await this.call(`suspending Atlassian account ${accountId}`, () => this.send('POST', `${this.dir}/users/${encodeURIComponent(accountId)}/suspend`));
  }

  checkHealth(groups: string[]): Promise<HealthReport> {
    return runHealthChecks(
      {
        credentials: async () => {
          const org = await this.call('reading the Atlassian organization', () => this.send('GET', `admin/v1/orgs/${encodeURIComponent(this.orgId)}`));
          const orgName = nonEmpty((org.body as { data?: { attributes?: { name?: string } } } | undefined)?.data?.attributes?.name);
          const dirs = await this.call('listing the organization’s directories', () => this.send('GET', `admin/v2/orgs/${encodeURIComponent(this.orgId)}/directories`));
          const list = ((dirs.body as { data?: { directoryId?: string; name?: string }[] } | undefined)?.data ?? []).filter((d) => d.directoryId);
          const d = list.find((x) => x.directoryId === this.directoryId);
          if (!d) {
            throw new PermanentError(`directory ${this.directoryId} is not in organization ${orgName ?? this.orgId} (its directories: ${list.map((x) => x.directoryId).join(', ') || 'none visible to the key'})`, 'atlassian_org_no_directory');
          }
          return `organization ${orgName ?? this.orgId}, directory ${nonEmpty(d.name) ?? this.directoryId}`;
        },
        group: async (g) => {
          const found = await this.readGroup(g, `reading Atlassian group ${g}`);
          if (synced(found)) throw syncedError(g, `reading Atlassian group ${g}`);
          return found.name;
        },
        explain: (err) => this.redact(err instanceof Error ? err.message : String(err)),
        withoutCredentials: 'credentials rejected',
      },
      groups,
    );
  }

  // ---- internals ----------------------------------------------------------------------------

  /** The group, read; a synced one is refused before anything is sent to change it. */
  private async modifiable(group: string, what: string): Promise<void> {
    const g = await this.readGroup(group, what);
    if (synced(g)) throw syncedError(group, what);
  }

  private async readGroup(group: string, what: string): Promise<GroupLike> {
    const answer = await this.call(what, () => this.send('GET', `${this.dir}/groups/${encodeURIComponent(group)}`), group);
    return ((answer.body as { data?: GroupLike } | undefined)?.data ?? {}) as GroupLike;
  }

  private async search(body: { emails?: string[]; accountIds?: string[]; groupIds?: string[]; limit: number; cursor?: string }): Promise<{ users: OrgUserLike[]; next?: string }> {
    const answer = await this.send('POST', `${this.dir}/users/search`, body);
    const b = (answer.body ?? {}) as { data?: unknown; links?: { next?: unknown } };
    const users = (Array.isArray(b.data) ? b.data : []) as OrgUserLike[];
    const next = typeof b.links?.next === 'string' && b.links.next ? b.links.next : undefined;
    return next ? { users, next } : { users };
  }

  /**
   * One request, sent once; a non-2xx answer is thrown as AdminHttpError. When an earlier answer
   * said this endpoint's window is used up, the call is not sent: a RetryableError asks to come
   * back at the reset.
   */
  private async send(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
    const key = rateKey(method, path);
    const gate = this.gate.reserve(key);
    if (!gate.ok) {
      throw new RetryableError(`the Atlassian admin API's rate limit for ${key} is used up for ${Math.ceil(gate.waitMs / 1000)} s more; waiting instead of calling`, gate.waitMs, 'atlassian_org_rate_limited');
    }
    let answer;
    try {
      answer = await sendHttp(new URL(path, this.base), {
        method,
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: `Bearer ${this.apiKey}`, 'User-Agent': 'access-bot' },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.timeoutMs,
      });
    } finally {
      this.gate.release(key, gate.ticket);
    }
    const resetAt = resetTime(answer.headers, this.now());
    if (answer.status === 429) {
      this.gate.exhausted(key, this.now() + (retryAfterMs(headerValue(answer.headers, 'retry-after'), this.now(), 429) ?? Math.max(1000, (resetAt ?? 0) - this.now())));
    } else if (resetAt !== undefined) {
      this.gate.observe(key, Number(headerValue(answer.headers, 'x-ratelimit-remaining') ?? Number.NaN), resetAt);
    }
    const parsed = parseJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return { status: answer.status, headers: answer.headers, body: parsed };
    const first = ((parsed as { errors?: unknown } | undefined)?.errors as { code?: unknown; title?: unknown; detail?: unknown }[] | undefined)?.[0];
    const code = typeof first?.code === 'string' ? first.code : undefined;
    const text = [first?.title, first?.detail].filter((s): s is string => typeof s === 'string' && s.length > 0).join(': ');
    throw new AdminHttpError(answer.status, code, [String(answer.status), code].filter(Boolean).join(' ') + (text ? ` ${text}` : ''), answer.headers);
  }

  private async call<T>(what: string, fn: () => Promise<T>, group?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, what, group);
    }
  }

  private classify(err: unknown, what: string, group?: string): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    if (err instanceof AdminHttpError) {
      const said = this.redact(err.said);
      if (err.status === 429) {
        const wait = retryAfterMs(headerValue(err.headers, 'retry-after'), this.now(), 429) ?? afterReset(err.headers, this.now());
        return new RetryableError(`Atlassian admin API rate limit reached while ${what} (${said})`, wait, 'atlassian_org_rate_limited');
      }
      if (isRetryableStatus(err.status)) {
        return new RetryableError(`the Atlassian admin API failed while ${what} (${said})`, retryAfterMs(headerValue(err.headers, 'retry-after'), this.now(), err.status), 'atlassian_org_unavailable');
      }
      if (err.status === 401) return new PermanentError(`the Atlassian admin API rejected the org API key while ${what} (${said})`, 'atlassian_org_auth');
      if (err.status === 403) return new PermanentError(`the Atlassian admin API forbade ${what} (${said})`, 'atlassian_org_forbidden');
      if (err.status === 404 && err.code === 'ADMIN-UAM-404-3' && group !== undefined) {
        return new PermanentError(`Atlassian group ${group} not found (while ${what}: ${said})`, 'atlassian_org_group_not_found');
      }
      if (err.status === 404 && err.code === 'ADMIN-UAM-404-2') return new PermanentError(`Atlassian organization ${this.orgId} not found for this key (while ${what}: ${said})`, 'atlassian_org_auth');
      return new PermanentError(`the Atlassian admin API refused ${what} (${said})`, 'atlassian_org_rejected');
    }
    if (err instanceof HttpTimeout) return new RetryableError(`the Atlassian admin API did not answer within ${this.timeoutMs} ms while ${what}`, undefined, 'atlassian_org_timeout');
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return new RetryableError(`could not reach the Atlassian admin API while ${what} (${e.code})`, undefined, 'atlassian_org_unreachable');
    return new RetryableError(this.redact(`unexpected failure while ${what}: ${typeof e.message === 'string' ? e.message : String(err)}`), undefined, 'atlassian_org_unexpected');
  }
}

// ---- helpers --------------------------------------------------------------------------------

function synced(g: GroupLike): boolean {
  return g.externalSynced === true || g.managedBy === 'external' || g.managementAccess?.modifiable === false;
}

function syncedError(group: string, what: string): PermanentError {
  return new PermanentError(
    `Atlassian group ${group} is synced from an identity provider and cannot be changed through the Atlassian API (while ${what}): manage this group in your IdP, or grant through its connector`,
    'atlassian_org_synced_group',
  );
}

/** `X-RateLimit-Reset`, an ISO 8601 time, on our clock (read against the answer's `Date`). */
function resetTime(headers: IncomingHttpHeaders, nowMs: number): number | undefined {
  const at = Date.parse(headerValue(headers, 'x-ratelimit-reset') ?? '');
  if (Number.isNaN(at)) return undefined;
  const date = Date.parse(headerValue(headers, 'date') ?? '');
  return nowMs + at - (Number.isNaN(date) ? nowMs : date);
}

function afterReset(headers: IncomingHttpHeaders, nowMs: number): number | undefined {
  const at = resetTime(headers, nowMs);
  return at === undefined ? undefined : Math.max(1000, at - nowMs);
}

/** The gate's key: the method and the path's shape, ids left out. */
function rateKey(method: string, path: string): string {
  const shape = path
    .split('/')
    .map((seg, i, all) => (i > 0 && ['orgs', 'directories', 'groups', 'memberships', 'users'].includes(all[i - 1]!) && seg !== 'search' ? '{}' : seg))
    .join('/');
  return `${method} ${shape}`;
}
