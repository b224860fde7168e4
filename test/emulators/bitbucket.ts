/**
 * A local Bitbucket Data Center that speaks its REST API 1.0 wire format, for the bitbucket-dc
 * connector and the integration tests.
 *
 * Sources. The endpoints, parameters, status codes and body shapes are those of Bitbucket's own
 * OpenAPI document, version 8.14 ("Bitbucket Server", as vendored in
 * github.com/gdasson/bitbucketv1go api/swagger.yaml; the same operations are listed on
 * https://developer.atlassian.com/server/bitbucket/rest/v811/api-group-permission-management/):
 * - `GET /rest/api/1.0/admin/users?filter=` (LICENSED_USER): "only users with usernames, display
 *   name or email addresses containing the supplied string", a page of RestDetailedUser
 *   (`name`, `slug`, `emailAddress`, `displayName`, `active`, `type` NORMAL|SERVICE).
 * - `GET /rest/api/1.0/admin/groups?filter=` (LICENSED_USER): group names containing the string.
 * - `GET /rest/api/1.0/admin/groups/more-members?context=<group>&filter=` (LICENSED_USER).
 * - `POST /rest/api/1.0/admin/groups/add-user` and `/remove-user` (ADMIN): a UserPickerContext
 *   body in which "the context attribute is the group and the itemName is the user"; 200 when
 *   done, 401 without ADMIN, 404 "The specified user or group does not exist". (BSERV-13706 is
 *   about the mirror-image `admin/users/remove-group`, whose context is the user.) The spec says
 *   nothing about adding a member or removing a non-member; this emulator answers 200 to both,
 *   and the connector never relies on it: it reads the membership first.
 * - `GET /rest/api/1.0/admin/permissions/users` (ADMIN): 401 AuthorisationException otherwise,
 *   with the body sourcegraph/sourcegraph's Bitbucket Server provider tests recorded:
 *   `{"errors":[{"context":null,"message":"You are not permitted to access this resource",
 *   "exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}`.
 * - `GET /rest/api/1.0/projects/{key}`, `.../repos/{slug}`; `GET|PUT|DELETE
 *   .../permissions/users` (`?filter=` on user names; PUT `?name=&permission=` promotes or
 *   demotes, 204; DELETE `?name=` revokes every permission, 204; 404 when the project or
 *   repository does not exist; a RestPermittedUser is `{user, permission}`).
 * - Pages: `{size, limit, isLastPage, start, values, nextPageStart}`, `start`/`limit` (25 by default).
 * - Errors: RestErrors `{"errors":[{"context","message","exceptionName"}]}`.
 * - `GET /rest/api/1.0/users?filter=` ("Only authenticated users may call this resource"):
 *   users whose username, name or email address contain the text, as RestApplicationUser.
 * - Auth: an HTTP access token as `Authorization: Bearer`, or a username and password as Basic
 *   (https://confluence.atlassian.com/bitbucketserver091/http-access-tokens-1443038354.html).
 *   HTTP access tokens cannot call the administrative endpoints (BSERV-10482; "Bitbucket Data
 *   Center doesn't support HTTP token authentication for administrative endpoints, user
 *   management, …: use Basic Authentication or OAuth",
 *   https://confluence.atlassian.com/bitbucketserverkb/how-to-use-oauth2-tokens-for-administrative-endpoints-of-bitbucket-data-center-1489469945.html).
 *   The KB does not show the answer; this emulator refuses a token on every `admin/` path with
 *   the same 401 AuthorisationException body as a missing permission.
 * - Rate limiting (Data Center): a token bucket per user for requests with Basic or Bearer auth,
 *   answered 429 when empty (https://confluence.atlassian.com/bitbucketserver089/improving-instance-stability-with-rate-limiting-1236436676.html).
 *   The headers are those of Atlassian's Data Center rate limiter, documented for Confluence DC
 *   (https://confluence.atlassian.com/conf87/_ratelimiting_httpheaders-1333822054.html):
 *   X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Interval-Seconds, X-RateLimit-FillRate
 *   and Retry-After. The 429 body is not documented; a RestErrors body is sent, and the
 *   connector reads only the status and Retry-After.
 */
import { EmulatorServer, type EmuRequest, type EmuResponse } from './base.js';

export type ProjectPermission = 'PROJECT_READ' | 'PROJECT_WRITE' | 'PROJECT_ADMIN';
export type RepoPermission = 'REPO_READ' | 'REPO_WRITE' | 'REPO_ADMIN';

export interface BitbucketUser {
  name: string;
  slug: string;
  emailAddress: string;
  displayName: string;
  active: boolean;
  type: 'NORMAL' | 'SERVICE';
  id: number;
}

interface Repo {
  slug: string;
  name: string;
  users: Map<string, RepoPermission>;
}

interface Project {
  key: string;
  name: string;
  users: Map<string, ProjectPermission>;
  repos: Map<string, Repo>;
}

export interface BitbucketEmulatorOptions {
  /** An HTTP access token (Bearer) of `admin`. */
  token?: string;
  /** A service account's username and password (Basic). */
  basic?: { username: string; password: string };
  /** Whether the credentials' user has the ADMIN global permission. Default true. */
  admin?: boolean;
}

const API = '/rest/api/1.0';
const DEFAULT_PAGE = 25;
/** Bitbucket caps page sizes (1000 for these resources); larger limits are cut to it. */
const MAX_PAGE = 1000;

export class BitbucketEmulator extends EmulatorServer {
  readonly token: string;
  readonly basic: { username: string; password: string };
  admin: boolean;
  private readonly users = new Map<string, BitbucketUser>();
  private readonly groups = new Map<string, Set<string>>();
  private readonly projects = new Map<string, Project>();
  private nextId = 1;
  private throttles: { left: number; retryAfterSec: number; method?: string; path?: RegExp }[] = [];

  constructor(opts: BitbucketEmulatorOptions = {}) {
    super('bitbucket');
    this.token = opts.token ?? 'bitbucket-emulator-http-access-token';
    this.basic = opts.basic ?? { username: 'access-bot', password: 'bitbucket-emulator-password' };
    this.admin = opts.admin ?? true;
    this.install();
  }

  // ---- test state -------------------------------------------------------------------------

  addUser(input: { name: string; emailAddress: string; displayName?: string; active?: boolean; type?: 'NORMAL' | 'SERVICE' }): BitbucketUser {
    if (this.users.has(input.name)) throw new Error(`bitbucket emulator: user ${input.name} exists`);
    const u: BitbucketUser = {
      name: input.name,
      // Bitbucket's slug is the URL-safe form of the name.
      slug: input.name.toLowerCase().replace(/[^a-z0-9._-]/g, '_'),
      emailAddress: input.emailAddress,
      displayName: input.displayName ?? input.name,
      active: input.active ?? true,
      type: input.type ?? 'NORMAL',
      id: this.nextId++,
    };
    this.users.set(u.name, u);
    return u;
  }

  addGroup(name: string): void {
    if (!this.groups.has(name)) this.groups.set(name, new Set());
  }

  addMember(group: string, user: string): void {
    this.mustGroup(group).add(user);
  }

  isMember(group: string, user: string): boolean {
    return this.groups.get(group)?.has(user) ?? false;
  }

  members(group: string): string[] {
    return [...this.mustGroup(group)];
  }

  addProject(key: string, name = key): void {
    if (!this.projects.has(key)) this.projects.set(key, { key, name, users: new Map(), repos: new Map() });
  }

  addRepo(key: string, slug: string): void {
    this.mustProject(key).repos.set(slug, { slug, name: slug, users: new Map() });
  }

  setProjectPermission(key: string, user: string, permission: ProjectPermission | undefined): void {
    const p = this.mustProject(key);
    if (permission) p.users.set(user, permission);
    else p.users.delete(user);
  }

  projectPermission(key: string, user: string): ProjectPermission | undefined {
    return this.projects.get(key)?.users.get(user);
  }

  setRepoPermission(key: string, slug: string, user: string, permission: RepoPermission | undefined): void {
    const r = this.mustRepo(key, slug);
    if (permission) r.users.set(user, permission);
    else r.users.delete(user);
  }

  repoPermission(key: string, slug: string, user: string): RepoPermission | undefined {
    return this.projects.get(key)?.repos.get(slug)?.users.get(user);
  }

  /** The next `times` matching requests are answered 429 by the rate limiter, asking to wait `retryAfterSec`. */
  throttle(times: number, opts: { retryAfterSec: number; method?: string; path?: RegExp }): void {
    this.throttles.push({ left: times, ...opts });
  }

  /** 429 answers sent. */
  get tooManyRequests(): number {
    return this.calls.filter((c) => c.status === 429).length;
  }

  // ---- routes -----------------------------------------------------------------------------

  private install(): void {
    const r = (method: string, path: string, handler: (req: EmuRequest) => EmuResponse): void => {
      this.route(method, `${API}${path}`, (req) => this.guard(req, handler));
    };
    r('GET', '/users', (req) => this.page(req, [...this.users.values()].filter((u) => contains(req, [u.name, u.displayName, u.emailAddress])).map(application)));
    r('GET', '/admin/users', (req) => this.page(req, [...this.users.values()].filter((u) => contains(req, [u.name, u.displayName, u.emailAddress])).map(detailed)));
    r('GET', '/admin/groups', (req) =>
      this.page(req, [...this.groups.keys()].filter((g) => contains(req, [g])).map((name) => ({ name, deletable: true }))),
    );
    r('GET', '/admin/groups/more-members', (req) => {
      const group = req.query.get('context') ?? '';
      const members = this.groups.get(group);
      if (!members) return noSuchGroup(group);
      const users = [...members].map((n) => this.users.get(n)).filter((u): u is BitbucketUser => !!u);
      return this.page(req, users.filter((u) => contains(req, [u.name, u.displayName, u.emailAddress])).map(detailed));
    });
    r('POST', '/admin/groups/add-user', (req) => this.membership(req, (members, user) => members.add(user)));
    r('POST', '/admin/groups/remove-user', (req) => this.membership(req, (members, user) => members.delete(user)));
    r('GET', '/admin/permissions/users', (req) => {
      if (!this.admin) return notPermitted();
      const me = this.principal();
      return this.page(req, contains(req, [me.name]) ? [{ user: detailed(me), permission: 'ADMIN' }] : []);
    });
    r('GET', '/projects/:key', (req) => {
      const p = this.projects.get(req.params.key!);
      return p ? { body: { key: p.key, id: 1, name: p.name, public: false, type: 'NORMAL' } } : noSuchProject(req.params.key!);
    });
    r('GET', '/projects/:key/repos/:slug', (req) => {
      const found = this.repoOf(req);
      return 'error' in found ? found.error : { body: { slug: found.repo.slug, name: found.repo.name, project: { key: req.params.key } } };
    });
    r('GET', '/projects/:key/permissions/users', (req) => {
      const p = this.projects.get(req.params.key!);
      return p ? this.permitted(req, p.users) : noSuchProject(req.params.key!);
    });
    r('PUT', '/projects/:key/permissions/users', (req) => {
      const p = this.projects.get(req.params.key!);
      return p ? this.grant(req, p.users, ['PROJECT_READ', 'PROJECT_WRITE', 'PROJECT_ADMIN']) : noSuchProject(req.params.key!);
    });
    r('DELETE', '/projects/:key/permissions/users', (req) => {
      const p = this.projects.get(req.params.key!);
      return p ? this.revoke(req, p.users) : noSuchProject(req.params.key!);
    });
    r('GET', '/projects/:key/repos/:slug/permissions/users', (req) => {
      const found = this.repoOf(req);
      return 'error' in found ? found.error : this.permitted(req, found.repo.users);
    });
    r('PUT', '/projects/:key/repos/:slug/permissions/users', (req) => {
      const found = this.repoOf(req);
      return 'error' in found ? found.error : this.grant(req, found.repo.users, ['REPO_READ', 'REPO_WRITE', 'REPO_ADMIN']);
    });
    r('DELETE', '/projects/:key/repos/:slug/permissions/users', (req) => {
      const found = this.repoOf(req);
      return 'error' in found ? found.error : this.revoke(req, found.repo.users);
    });
  }

  /** Authentication, then the rate limiter, then the route. */
  private guard(req: EmuRequest, handler: (req: EmuRequest) => EmuResponse): EmuResponse {
    if (!this.authenticated(req.headers.authorization)) {
      return errors(401, null, 'Authentication failed. Please check your credentials and try again.', 'com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException');
    }
    const t = this.throttles.find((x) => x.left > 0 && (!x.method || x.method === req.method) && (!x.path || x.path.test(req.path)));
    if (t) {
      t.left -= 1;
      return {
        ...errors(429, null, 'Too many requests: rate limit exceeded.', 'com.atlassian.ratelimiting.RateLimitedException'),
        headers: {
          'Retry-After': String(t.retryAfterSec),
          'X-RateLimit-Limit': '60',
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Interval-Seconds': '1',
          'X-RateLimit-FillRate': '5',
        },
      };
    }
    if (req.path.startsWith(`${API}/admin/`) && req.headers.authorization?.startsWith('Bearer ')) return notPermitted();
    return handler(req);
  }

  private authenticated(header: string | undefined): boolean {
    if (!header) return false;
    if (header === `Bearer ${this.token}`) return true;
    const m = /^Basic (.+)$/.exec(header);
    if (!m) return false;
    return Buffer.from(m[1]!, 'base64').toString('utf8') === `${this.basic.username}:${this.basic.password}`;
  }

  /** Who the credentials belong to (the service account). */
  private principal(): BitbucketUser {
    return this.users.get(this.basic.username) ?? { name: this.basic.username, slug: this.basic.username, emailAddress: '', displayName: 'access-bot', active: true, type: 'NORMAL', id: 0 };
  }

  private membership(req: EmuRequest, change: (members: Set<string>, user: string) => void): EmuResponse {
    if (!this.admin) return notPermitted();
    const body = (req.body ?? {}) as { context?: unknown; itemName?: unknown };
    const group = typeof body.context === 'string' ? body.context : '';
    const user = typeof body.itemName === 'string' ? body.itemName : '';
    const members = this.groups.get(group);
    if (!members) return noSuchGroup(group);
    if (!this.users.has(user)) return noSuchUser(user);
    change(members, user);
    return { status: 200 };
  }

  private repoOf(req: EmuRequest): { repo: Repo } | { error: EmuResponse } {
    const p = this.projects.get(req.params.key!);
    if (!p) return { error: noSuchProject(req.params.key!) };
    const repo = p.repos.get(req.params.slug!);
    return repo ? { repo } : { error: errors(404, null, `Repository ${req.params.key}/${req.params.slug} does not exist.`, 'com.atlassian.bitbucket.repository.NoSuchRepositoryException') };
  }

  private permitted(req: EmuRequest, users: Map<string, string>): EmuResponse {
    if (!this.admin) return notPermitted();
    const values = [...users].filter(([name]) => contains(req, [name])).map(([name, permission]) => ({ user: detailed(this.users.get(name)!), permission }));
    return this.page(req, values);
  }

  private grant(req: EmuRequest, users: Map<string, string>, allowed: string[]): EmuResponse {
    if (!this.admin) return notPermitted();
    const name = req.query.get('name') ?? '';
    const permission = req.query.get('permission') ?? '';
    if (!allowed.includes(permission)) return errors(400, 'permission', `Invalid permission ${permission}`, 'com.atlassian.bitbucket.rest.exception.BadRequestException');
    if (!this.users.has(name)) return noSuchUser(name);
    users.set(name, permission);
    return { status: 204 };
  }

  private revoke(req: EmuRequest, users: Map<string, string>): EmuResponse {
    if (!this.admin) return notPermitted();
    users.delete(req.query.get('name') ?? '');
    return { status: 204 };
  }

  /** A Bitbucket page of `values` from `start`, `limit` items long. */
  private page(req: EmuRequest, values: unknown[]): EmuResponse {
    const start = Math.max(0, Number(req.query.get('start') ?? 0) || 0);
    const limit = Math.min(MAX_PAGE, Math.max(1, Number(req.query.get('limit') ?? DEFAULT_PAGE) || DEFAULT_PAGE));
    const slice = values.slice(start, start + limit);
    const isLastPage = start + slice.length >= values.length;
    return { body: { size: slice.length, limit, isLastPage, start, values: slice, ...(isLastPage ? {} : { nextPageStart: start + slice.length }) } };
  }

  private mustGroup(group: string): Set<string> {
    const g = this.groups.get(group);
    if (!g) throw new Error(`bitbucket emulator: no group ${group}`);
    return g;
  }

  private mustProject(key: string): Project {
    const p = this.projects.get(key);
    if (!p) throw new Error(`bitbucket emulator: no project ${key}`);
    return p;
  }

  private mustRepo(key: string, slug: string): Repo {
    const r = this.mustProject(key).repos.get(slug);
    if (!r) throw new Error(`bitbucket emulator: no repository ${key}/${slug}`);
    return r;
  }
}

function application(u: BitbucketUser): Record<string, unknown> {
  return { name: u.name, emailAddress: u.emailAddress, id: u.id, displayName: u.displayName, active: u.active, slug: u.slug, type: u.type };
}

function detailed(u: BitbucketUser): Record<string, unknown> {
  return { ...application(u), directoryName: 'Bitbucket Internal Directory', deletable: true, mutableDetails: true, mutableGroups: true };
}

/** Bitbucket's `filter`: a case-insensitive substring of any of the fields. */
function contains(req: EmuRequest, fields: string[]): boolean {
  const f = (req.query.get('filter') ?? '').toLowerCase();
  return !f || fields.some((x) => x.toLowerCase().includes(f));
}

function errors(status: number, context: string | null, message: string, exceptionName: string): EmuResponse {
  return { status, body: { errors: [{ context, message, exceptionName }] } };
}

function notPermitted(): EmuResponse {
  return errors(401, null, 'You are not permitted to access this resource', 'com.atlassian.bitbucket.AuthorisationException');
}

function noSuchGroup(group: string): EmuResponse {
  return errors(404, null, `Group ${group} does not exist.`, 'com.atlassian.bitbucket.user.NoSuchGroupException');
}

function noSuchUser(user: string): EmuResponse {
  return errors(404, null, `User ${user} does not exist.`, 'com.atlassian.bitbucket.user.NoSuchUserException');
}

function noSuchProject(key: string): EmuResponse {
  return errors(404, null, `Project ${key} does not exist.`, 'com.atlassian.bitbucket.project.NoSuchProjectException');
}
