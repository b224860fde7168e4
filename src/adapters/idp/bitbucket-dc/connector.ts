/**
 * Bitbucket Data Center connector: the REST API 1.0 over node:http(s) with keep-alive, with an
 * HTTP access token (Bearer) or a service account's username and password (Basic).
 *
 * Endpoints (Bitbucket's OpenAPI 8.14; developer.atlassian.com/server/bitbucket/rest/v811/api-group-permission-management/):
 * - Users: `GET users?filter=<email>` (any authenticated user, so an HTTP access token works too)
 *   matches usernames, names and emails CONTAINING the text, so only an active NORMAL user whose
 *   `emailAddress` equals the email (ignoring case) is taken; two such users are ambiguous. The
 *   IdP user id is the username (`name`), which the group and permission endpoints take (not the
 *   URL `slug`).
 * - Credentials: an HTTP access token cannot call the admin endpoints that group membership
 *   needs (BSERV-10482, https://confluence.atlassian.com/bitbucketserverkb/how-to-use-oauth2-tokens-for-administrative-endpoints-of-bitbucket-data-center-1489469945.html):
 *   groups need a username and password (Basic); a token serves project and repository permissions.
 * - Groups: the catalog group is the group name. `GET admin/groups/more-members?context=&filter=`
 *   (paged: `isLastPage`, `nextPageStart`) tells membership; `POST admin/groups/add-user` /
 *   `remove-user` with `{context: <group>, itemName: <user>}` change it (ADMIN; deprecated in
 *   favour of admin/users/add-groups but still in 8.x). Bitbucket documents no answer for
 *   "already a member" or "not a member", so both are read first; a 404 ("user or group does not
 *   exist") is settled by reading whether the group exists.
 * - Project and repository permissions (catalog `project:`, `repository:`, `permission:`, made
 *   into one string by `permissionTarget`): the user's explicit permission is read from
 *   `GET projects/{key}[/repos/{slug}]/permissions/users?filter=<user>`, set with `PUT …?name=&permission=`
 *   and revoked with `DELETE …?name=` (which revokes every explicit permission on it). A user who
 *   already holds the permission or a higher one holds the grant (kept at expiry). A lower
 *   explicit permission is refused: the PUT would replace it and the revoke could not give it
 *   back. A revoke finds the permission changed since the grant: refused, left as it is.
 * - Errors: RestErrors `{"errors":[{context, message, exceptionName}]}`; Bitbucket answers 401
 *   both for bad credentials and for a missing permission (the message says which); 429 from
 *   Data Center rate limiting carries `Retry-After` (seconds).
 *
 * Each request is sent once, with a timeout over the whole exchange: retrying is the outbox's
 * job (ARCHITECTURE.md §1.2).
 */
import { HttpTimeout, headerValue, sendHttp } from '../../http.js';
import { PermanentError, RetryableError, isRetryableStatus } from '../../../outbox/errors.js';
import { nonEmpty, parseJson, retryAfterMs } from '../http.js';
import { redactor } from '../../../redact.js';
import { runHealthChecks } from '../health.js';
import type { HealthReport, IdpMember, IdpUser, MemberPage, IdpConnector, UserDirectory, Memberships, Health, MemberListing } from '../../../app/ports/idp.js';

export interface BitbucketConnectorConfig {
  /** The instance name (what grants name). Default the type. */
  name?: string;
  /** e.g. https://bitbucket.example.com (a context path such as /bitbucket is kept). */
  baseUrl: string;
  /** An HTTP access token of a user with the ADMIN global permission (sent as Bearer). Wins over username and password. */
  token?: string;
  username?: string;
  password?: string;
  /** Per request, headers and body included. Default 15 s. */
  timeoutMs?: number;
}

export interface BitbucketConnectorDeps {
  now?: () => number;
}

export type ProjectPermission = 'PROJECT_READ' | 'PROJECT_WRITE' | 'PROJECT_ADMIN';
export type RepoPermission = 'REPO_READ' | 'REPO_WRITE' | 'REPO_ADMIN';

export type Target =
  | { kind: 'group'; group: string }
  | { kind: 'project'; project: string; permission: ProjectPermission }
  | { kind: 'repository'; project: string; repository: string; permission: RepoPermission };

const PROJECT_PERMISSIONS: readonly ProjectPermission[] = ['PROJECT_READ', 'PROJECT_WRITE', 'PROJECT_ADMIN'];
const REPO_PERMISSIONS: readonly RepoPermission[] = ['REPO_READ', 'REPO_WRITE', 'REPO_ADMIN'];
/** Bitbucket project keys: a letter, then letters, digits and underscores. */
const PROJECT_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Repository slugs: lowercase letters, digits, '.', '_' and '-'. */
const REPO_SLUG = /^[a-z0-9._-]+$/;

/** Why an HTTP access token cannot manage groups, for messages. */
const TOKEN_LIMIT = 'Bitbucket Data Center refuses HTTP access tokens on admin endpoints, BSERV-10482';

const DEFAULT_TIMEOUT_MS = 15_000;
/** Page size for searches and member listings (Bitbucket allows up to 1000). */
const PAGE = 100;
/** A runaway chain of pages is cut off here. */
const MAX_PAGES = 50;

interface Page<T> {
  values?: T[];
  isLastPage?: boolean;
  nextPageStart?: number;
}

interface BitbucketUserLike {
  name?: string;
  emailAddress?: string;
  displayName?: string;
  active?: boolean;
  type?: string;
}

/** A non-2xx answer, as Bitbucket gave it. */
class BitbucketHttpError extends Error {
  constructor(
    readonly status: number,
    readonly said: string,
    readonly retryAfter: string | undefined,
    /** Whether the call was to an `admin/` endpoint. */
    readonly admin: boolean,
  ) {
    super(`Bitbucket answered ${status}`);
  }
}

/**
 * The one string the bot keys a grant by, from a catalog grant's fields: `group` as it is;
 * `project: PAY, permission: PROJECT_WRITE` as `project:PAY:PROJECT_WRITE`; with `repository:
 * payments`, `repository:PAY/payments:REPO_WRITE`.
 */
export function permissionTarget(fields: Readonly<Record<string, string>>): { group: string } | { error: string } {
  const { group, project, repository, permission } = fields;
  if (group !== undefined) {
    if (project !== undefined || repository !== undefined || permission !== undefined) return { error: 'group: cannot be combined with project:, repository: or permission:' };
    if (!group || group.trim() !== group) return { error: `group "${group}" is empty or has leading or trailing spaces` };
    if (/^(project|repository):/.test(group)) return { error: `group "${group}" starts like a permission grant (use project: and permission: for those)` };
    return { group };
  }
  if (project === undefined) return { error: 'needs group: (a Bitbucket group name) or project: with permission:' };
  if (!PROJECT_KEY.test(project)) return { error: `project "${project}" is not a Bitbucket project key (letters, digits and underscores, starting with a letter)` };
  const key = project.toUpperCase();
  const perm = permission?.toUpperCase();
  if (repository === undefined) {
    if (!perm || !(PROJECT_PERMISSIONS as readonly string[]).includes(perm)) return { error: `permission must be one of ${PROJECT_PERMISSIONS.join(', ')} for a project` };
    return { group: `project:${key}:${perm}` };
  }
  if (!REPO_SLUG.test(repository)) return { error: `repository "${repository}" is not a repository slug (lowercase letters, digits, '.', '_' and '-')` };
  if (!perm || !(REPO_PERMISSIONS as readonly string[]).includes(perm)) return { error: `permission must be one of ${REPO_PERMISSIONS.join(', ')} for a repository` };
  return { group: `repository:${key}/${repository}:${perm}` };
}

/** What a membership key names: the inverse of `permissionTarget`. */
export function parseTarget(group: string): Target {
  const p = /^project:([A-Z][A-Z0-9_]*):(PROJECT_(?:READ|WRITE|ADMIN))$/.exec(group);
  if (p) return { kind: 'project', project: p[1]!, permission: p[2] as ProjectPermission };
  const r = /^repository:([A-Z][A-Z0-9_]*)\/([a-z0-9._-]+):(REPO_(?:READ|WRITE|ADMIN))$/.exec(group);
  if (r) return { kind: 'repository', project: r[1]!, repository: r[2]!, permission: r[3] as RepoPermission };
  return { kind: 'group', group };
}

export class BitbucketConnector implements IdpConnector, UserDirectory, Memberships, Health, MemberListing {
  readonly type = 'bitbucket-dc';

  /** Defence in depth: no message leaves this class with a credential in it. */
  private readonly redact: (text: string) => string;

  private constructor(
    readonly name: string,
    private readonly base: URL,
    private readonly authorization: string,
    /** True for an HTTP access token, which Bitbucket refuses on its admin endpoints. */
    private readonly bearer: boolean,
    secrets: string[],
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.redact = redactor(secrets);
  }

  static fromConfig(config: BitbucketConnectorConfig, deps: BitbucketConnectorDeps = {}): BitbucketConnector {
    const base = new URL(config.baseUrl.replace(/\/+$/, '') + '/');
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`the Bitbucket base URL must be an http(s) URL, got ${base.protocol}`);
    const token = nonEmpty(config.token);
    const username = nonEmpty(config.username);
    const password = config.password ?? '';
    let authorization: string;
    if (token) authorization = `Bearer ${token}`;
    else if (username && password) authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    else if (username || password) throw new Error('Bitbucket credentials: a username needs its password and a password its username (or give an HTTP access token instead)');
    else throw new Error('Bitbucket credentials: give an HTTP access token, or a username and password');
    const secrets = [token, password, authorization.slice(authorization.indexOf(' ') + 1)].filter((s): s is string => !!s);
    return new BitbucketConnector(config.name ?? 'bitbucket-dc', base, authorization, !!token, secrets, config.timeoutMs ?? DEFAULT_TIMEOUT_MS, deps.now ?? Date.now);
  }

  /** The active user whose email address is `email` (ignoring case); their username is the id. */
  async findUserByEmail(email: string): Promise<IdpUser | undefined> {
    const wanted = email.trim().toLowerCase();
    if (!wanted) return undefined;
    const users = await this.call(`searching Bitbucket users for ${wanted}`, () => this.all<BitbucketUserLike>('rest/api/1.0/users', { filter: wanted }));
    const matches = users.filter((u) => u.name && u.active !== false && (u.type ?? 'NORMAL') === 'NORMAL' && u.emailAddress?.toLowerCase() === wanted);
    if (matches.length > 1) {
      throw new PermanentError(`${matches.length} Bitbucket users have the email ${wanted}: ${matches.map((u) => u.name).join(', ')}`, 'bitbucket_ambiguous_user');
    }
    const u = matches[0];
    if (!u) return undefined;
    const user: IdpUser = { id: u.name!, email: u.emailAddress ?? wanted };
    if (nonEmpty(u.displayName)) user.displayName = u.displayName!.trim();
    return user;
  }

  async isMember(group: string, userId: string): Promise<boolean> {
    const t = parseTarget(group);
    if (t.kind !== 'group') {
      const held = await this.permissionOf(t, userId);
      return held !== undefined && rank(held) >= rank(t.permission);
    }
    try {
      const members = await this.all<BitbucketUserLike>('rest/api/1.0/admin/groups/more-members', { context: group, filter: userId });
      // `filter` matches substrings: only the exact username counts.
      return members.some((m) => m.name === userId);
    } catch (err) {
      throw this.classify(await this.missing(err, group), `reading the members of Bitbucket group ${group}`);
    }
  }

  async addMember(group: string, userId: string): Promise<void> {
    const t = parseTarget(group);
    if (t.kind !== 'group') return this.grantPermission(t, userId);
    if (await this.isMember(group, userId)) return;
    try {
      await this.send('POST', 'rest/api/1.0/admin/groups/add-user', undefined, { context: group, itemName: userId });
    } catch (err) {
      const missing = await this.missing(err, group);
      if (missing instanceof BitbucketHttpError && missing.status === 404) {
        throw new PermanentError(`Bitbucket user ${userId} not found (while adding them to Bitbucket group ${group})`, 'bitbucket_user_not_found');
      }
      throw this.classify(missing, `adding user ${userId} to Bitbucket group ${group}`);
    }
  }

  async removeMember(group: string, userId: string): Promise<void> {
    const t = parseTarget(group);
    if (t.kind !== 'group') return this.revokePermission(t, userId);
    if (!(await this.isMember(group, userId))) return;
    try {
      await this.send('POST', 'rest/api/1.0/admin/groups/remove-user', undefined, { context: group, itemName: userId });
    } catch (err) {
      const missing = await this.missing(err, group);
      // The group exists: the user was deleted meanwhile, and a deleted user is in no group.
      if (missing instanceof BitbucketHttpError && missing.status === 404) return;
      throw this.classify(missing, `removing user ${userId} from Bitbucket group ${group}`);
    }
  }

  /** One page of the group's members; the cursor is Bitbucket's `nextPageStart`. */
  async listMembers(group: string, page: { cursor?: string; size?: number } = {}): Promise<MemberPage> {
    if (parseTarget(group).kind !== 'group') throw new PermanentError(`${group} is a Bitbucket permission, not a group: its holders are not listed`, 'bitbucket_not_a_group');
    const start = page.cursor === undefined ? 0 : Number(page.cursor);
    if (!Number.isInteger(start) || start < 0) throw new PermanentError(`not a page of Bitbucket group ${group}'s members`, 'bitbucket_bad_cursor');
    const limit = Math.min(Math.max(1, page.size ?? PAGE), 1000);
    let answer: Page<BitbucketUserLike>;
    try {
      answer = (await this.send('GET', 'rest/api/1.0/admin/groups/more-members', { context: group, start: String(start), limit: String(limit) })) as Page<BitbucketUserLike>;
    } catch (err) {
      throw this.classify(await this.missing(err, group), `listing the members of Bitbucket group ${group}`);
    }
    const members: IdpMember[] = (answer.values ?? [])
      .filter((u) => u.name)
      .map((u) => ({ id: u.name!, ...(nonEmpty(u.emailAddress) ? { email: u.emailAddress! } : {}), ...(nonEmpty(u.displayName) ? { displayName: u.displayName! } : {}) }));
    const next = answer.isLastPage === false && typeof answer.nextPageStart === 'number' && answer.nextPageStart > start ? String(answer.nextPageStart) : undefined;
    return next ? { members, next } : { members };
  }

  checkHealth(groups: string[]): Promise<HealthReport> {
    const needsAdmin = groups.some((g) => parseTarget(g).kind === 'group');
    return runHealthChecks(
      {
        credentials: async () => {
          await this.call('checking the Bitbucket credentials', () => this.send('GET', 'rest/api/1.0/users', { limit: '1' }));
          if (!needsAdmin) return undefined;
          if (this.bearer) throw new PermanentError(`an HTTP access token cannot change Bitbucket group membership (${TOKEN_LIMIT}): the catalog grants groups, so give a username and password instead`, 'bitbucket_token_admin');
          // Group membership needs the ADMIN global permission; this read needs it too.
          await this.call('checking that the Bitbucket user has the ADMIN global permission', () => this.send('GET', 'rest/api/1.0/admin/permissions/users', { limit: '1' }));
          return 'ADMIN global permission';
        },
        group: async (g) => {
          const t = parseTarget(g);
          if (t.kind === 'group') {
            if (!(await this.groupExists(g))) throw new PermanentError(`Bitbucket group ${g} not found`, 'bitbucket_group_not_found');
            return undefined;
          }
          const where = this.permissionsPath(t);
          try {
            // Reading who holds what needs PROJECT_ADMIN (REPO_ADMIN) or more: what the grant needs.
            await this.send('GET', where.path, { limit: '1' });
          } catch (err) {
            throw this.classify(err, `reading the user permissions of Bitbucket ${where.what}`, () => `Bitbucket ${where.what} not found`);
          }
          return undefined;
        },
        explain: (err, what) => this.redact(this.classify(err, what).message),
        withoutCredentials: 'credentials rejected',
      },
      groups,
    );
  }

  // ---- permissions --------------------------------------------------------------------------

  private async grantPermission(t: Exclude<Target, { kind: 'group' }>, userId: string): Promise<void> {
    const held = await this.permissionOf(t, userId);
    if (held !== undefined && rank(held) >= rank(t.permission)) return;
    const where = this.permissionsPath(t);
    if (held !== undefined) {
      throw new PermanentError(
        `Bitbucket user ${userId} already has ${held} on ${where.what}: granting ${t.permission} would replace it, and the revoke could not give it back; grant it by hand`,
        'bitbucket_lower_permission',
      );
    }
    await this.call(`granting ${t.permission} on Bitbucket ${where.what} to user ${userId}`, () => this.send('PUT', where.path, { name: userId, permission: t.permission }), () => `Bitbucket ${where.what} not found`);
  }

  private async revokePermission(t: Exclude<Target, { kind: 'group' }>, userId: string): Promise<void> {
    const held = await this.permissionOf(t, userId);
    if (held === undefined) return;
    const where = this.permissionsPath(t);
    if (held !== t.permission) {
      throw new PermanentError(`Bitbucket user ${userId} now has ${held} on ${where.what}, not the ${t.permission} this grant gave; left as it is`, 'bitbucket_permission_changed');
    }
    await this.call(`revoking ${t.permission} on Bitbucket ${where.what} from user ${userId}`, () => this.send('DELETE', where.path, { name: userId }), () => `Bitbucket ${where.what} not found`);
  }

  /** The user's explicit permission on the project or repository, if any. */
  private async permissionOf(t: Exclude<Target, { kind: 'group' }>, userId: string): Promise<string | undefined> {
    const where = this.permissionsPath(t);
    const values = await this.call(
      `reading the permissions of ${userId} on Bitbucket ${where.what}`,
      () => this.all<{ user?: { name?: string }; permission?: string }>(where.path, { filter: userId }),
      () => `Bitbucket ${where.what} not found`,
    );
    return values.find((v) => v.user?.name === userId)?.permission;
  }

  private permissionsPath(t: Exclude<Target, { kind: 'group' }>): { path: string; what: string } {
    const project = `rest/api/1.0/projects/${encodeURIComponent(t.project)}`;
    return t.kind === 'project'
      ? { path: `${project}/permissions/users`, what: `project ${t.project}` }
      : { path: `${project}/repos/${encodeURIComponent(t.repository)}/permissions/users`, what: `repository ${t.project}/${t.repository}` };
  }

  // ---- internals ----------------------------------------------------------------------------

  private async groupExists(group: string): Promise<boolean> {
    const found = await this.call(`looking up Bitbucket group ${group}`, () => this.all<{ name?: string }>('rest/api/1.0/admin/groups', { filter: group }));
    return found.some((g) => g.name === group);
  }

  /**
   * A 404 on a group call means the user or the group does not exist: a missing group becomes
   * a PermanentError naming it; otherwise the error is handed back for the caller to read.
   */
  private async missing(err: unknown, group: string): Promise<unknown> {
    if (!(err instanceof BitbucketHttpError) || err.status !== 404) return err;
    if (!(await this.groupExists(group))) return new PermanentError(`Bitbucket group ${group} not found`, 'bitbucket_group_not_found');
    return err;
  }

  /** Every page of a paged resource (at most MAX_PAGES); a failure is thrown as Bitbucket gave it. */
  private async all<T>(path: string, query: Record<string, string>): Promise<T[]> {
    const out: T[] = [];
    let start = 0;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page = (await this.send('GET', path, { ...query, start: String(start), limit: String(PAGE) })) as Page<T>;
      out.push(...(page.values ?? []));
      if (page.isLastPage !== false || typeof page.nextPageStart !== 'number' || page.nextPageStart <= start) break;
      start = page.nextPageStart;
    }
    return out;
  }

  private async call<T>(what: string, fn: () => Promise<T>, notFound?: () => string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, what, notFound);
    }
  }

  /** One request, sent once; a non-2xx answer is thrown as BitbucketHttpError. */
  private async send(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, query?: Record<string, string>, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const answer = await sendHttp(url, {
      method,
      headers: {
        Accept: 'application/json',
        Authorization: this.authorization,
        'User-Agent': 'access-bot',
        // Bitbucket's XSRF check refuses REST writes without it (or a JSON content type).
        'X-Atlassian-Token': 'no-check',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: this.timeoutMs,
    });
    const parsed = parseJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return parsed;
    throw new BitbucketHttpError(answer.status, this.redact(errorText(parsed, answer.text)), headerValue(answer.headers, 'retry-after'), path.startsWith('rest/api/1.0/admin/'));
  }

  private classify(err: unknown, what: string, notFound?: () => string): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    if (err instanceof BitbucketHttpError) {
      const said = `${err.status}${err.said ? `: ${err.said}` : ''}`;
      if (err.status === 429) return new RetryableError(`Bitbucket rate limit reached while ${what} (${said})`, retryAfterMs(err.retryAfter, this.now(), 429), 'bitbucket_rate_limited');
      if (isRetryableStatus(err.status)) return new RetryableError(`Bitbucket failed while ${what} (${said})`, retryAfterMs(err.retryAfter, this.now(), err.status), 'bitbucket_unavailable');
      if (err.status === 401 || err.status === 403) {
        const hint = this.bearer && err.admin ? `; an HTTP access token cannot call Bitbucket's admin endpoints (${TOKEN_LIMIT}): use a username and password` : '';
        return new PermanentError(`Bitbucket refused the credentials or their permission while ${what} (${said}${hint})`, 'bitbucket_auth');
      }
      if (err.status === 404 && notFound) return new PermanentError(`${notFound()} (while ${what})`, 'bitbucket_not_found');
      return new PermanentError(`Bitbucket refused ${what} (${said})`, 'bitbucket_rejected');
    }
    if (err instanceof HttpTimeout) return new RetryableError(`Bitbucket did not answer within ${this.timeoutMs} ms while ${what}`, undefined, 'bitbucket_timeout');
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return new RetryableError(`could not reach Bitbucket while ${what} (${e.code})`, undefined, 'bitbucket_unreachable');
    return new RetryableError(this.redact(`unexpected failure while ${what}: ${typeof e.message === 'string' ? e.message : String(err)}`), undefined, 'bitbucket_unexpected');
  }
}

// ---- helpers --------------------------------------------------------------------------------

function rank(permission: string): number {
  return /_ADMIN$/.test(permission) ? 3 : /_WRITE$/.test(permission) ? 2 : /_READ$/.test(permission) ? 1 : 0;
}

/** The messages of a RestErrors body, or the start of a body that is not one (a proxy's page). */
function errorText(body: unknown, text: string): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(errors)) {
    const messages = errors.map((e) => (e as { message?: unknown }).message).filter((m): m is string => typeof m === 'string' && m.length > 0);
    if (messages.length > 0) return messages.join('; ');
  }
  return text.slice(0, 200).trim();
}
