/**
 * A local Okta org that speaks the Management API v1 wire format, for the connector over
 * `@okta/okta-sdk-nodejs` and for integration tests.
 *
 * What it models, and where it comes from:
 * - Auth: `Authorization: SSWS <token>`; anything else is 401 E0000011 "Invalid token provided"
 *   (error fields per https://developer.okta.com/docs/reference/error-codes/).
 * - Error bodies `{errorCode, errorSummary, errorLink, errorId, errorCauses}`; not found is 404
 *   E0000007 "Not found: Resource not found: <id> (User)" or "(UserGroup)" for groups (the
 *   suffix okta/terraform-provider-okta matches on); rate limited is 429 E0000047 "API call
 *   exceeded rate limit due to too many requests.".
 * - Rate limits: every answer carries X-Rate-Limit-Limit / -Remaining / -Reset (epoch seconds),
 *   counted per endpoint bucket per minute, as https://developer.okta.com/docs/reference/rl-best-practices/
 *   and https://developer.okta.com/docs/reference/rl-global-mgmt/ describe (defaults below are
 *   the Workforce Identity column of that page).
 * - Users: GET /api/v1/users/{id|login|me} (`me` is the admin who owns the token, per the SDK's
 *   getUser doc); GET /api/v1/users with `search` (any profile attribute, values
 *   case-insensitive, eventually consistent), `filter` (a few attributes, `eq`, case-sensitive:
 *   https://support.okta.com/help/s/article/case-sensitivity-in-okta-users-api-filter-vs-search),
 *   or `q` (startsWith on firstName, lastName, email); GET /api/v1/users/{id}/groups (paged by
 *   `limit`, at most 200, and `after`). A User object carries `lastLogin` (ISO 8601, null before
 *   the first sign-in: the User object in the getUser reference,
 *   https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser);
 *   the group members listing returns whole User objects.
 * - Groups: GET /api/v1/groups with `q` (name startsWith) or `search` (an expression on `id`,
 *   `type`, `profile.name`, `profile.description` and string custom profile attributes;
 *   eventually consistent in Okta, immediate here), each group's `profile` carrying its custom
 *   attributes (the group schema's custom properties),
 *   paged like the members below; a `search` that does not parse is 400 E0000031 "Invalid search
 *   criteria." with the cause "Invalid search syntax." (the body okta/okta-powershell-cli#48
 *   quotes; listGroups: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroups).
 *   GET /api/v1/groups/{id}; GET /api/v1/groups/{id}/users paginated by `limit` and
 *   `after` (the last id of the page) with `Link: <...>; rel="next"`; PUT and DELETE
 *   /api/v1/groups/{id}/users/{userId} answer 204, also when the user is already (or not) a
 *   member; 404 only when the group or the user does not exist (okta/terraform-provider-okta
 *   suppresses 404 on unassign; baton-okta notes "Okta returns 204 when the user simply is not
 *   a member of the group").
 *
 * - User lifecycle: `status` is one of the UserStatus values (ACTIVE, SUSPENDED, DEPROVISIONED, …;
 *   the User schema of the Management API), `lastLogin` a date-time or null for a user who never
 *   signed in. Deactivated (DEPROVISIONED) users keep their group memberships ("the users aren't
 *   removed from any groups":
 *   https://help.okta.com/en-us/Content/Topics/users-groups-profiles/usgp-deactivate-user-account.htm),
 *   and membership calls on them answer as for anyone else.
 *
 * Test helpers: users, groups and memberships are set directly; `addCalls`/`removeCalls` count
 * membership writes that reached the org; `tooManyRequests` counts 429s sent.
 */
import { randomBytes } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse, type Handler } from './base.js';

export type OktaUserStatus = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'RECOVERY' | 'LOCKED_OUT' | 'PASSWORD_EXPIRED' | 'SUSPENDED' | 'DEPROVISIONED';

/** Profile attributes as Okta names them; custom attributes are allowed too. */
export interface OktaProfile {
  login: string;
  email: string;
  firstName: string;
  lastName: string;
  displayName?: string | null;
  /** Okta's base attribute: the manager's user id (this project also accepts a login here). */
  managerId?: string | null;
  /** Okta's base attribute: the manager's displayName (some orgs map an email into it). */
  manager?: string | null;
  [attribute: string]: string | null | undefined;
}

export interface AddUserInput {
  id?: string;
  login: string;
  email: string;
  firstName: string;
  lastName: string;
  managerId?: string;
  manager?: string;
  displayName?: string;
  /** Base profile attributes (approval rules test them). */
  department?: string;
  title?: string;
  status?: OktaUserStatus;
  /** The User object's `lastLogin` (ms); absent or null: never signed in. */
  lastLogin?: number | null;
}

export interface AddGroupInput {
  id?: string;
  name: string;
  description?: string;
  /**
   * Custom group profile attributes (the group schema's custom properties: string, string
   * array, number, boolean; updateGroupSchema,
   * https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Schema/#tag/Schema/operation/updateGroupSchema),
   * returned in the group's `profile` beside `name` and `description`.
   */
  profile?: Record<string, string | string[] | number | boolean | null>;
}

/**
 * Rate limit buckets, after the rows of Okta's management rate limit table:
 * `users` GET/POST /api/v1/users; `user` GET /api/v1/users/{idOrLogin}; `userWrite` other
 * methods on /api/v1/users/{id}; `group` /api/v1/groups/{id} only; `groups` the rest of
 * /api/v1/groups (members, membership writes); `default` most other /api/v1 calls.
 */
export type OktaRateBucket = 'users' | 'user' | 'userWrite' | 'group' | 'groups' | 'default';

const DEFAULT_LIMITS: Record<OktaRateBucket, number> = {
  users: 600,
  user: 2000,
  userWrite: 600,
  group: 1000,
  groups: 500,
  default: 1200,
};

interface UserSnapshot {
  status: OktaUserStatus;
  profile: OktaProfile;
}

interface UserRecord extends UserSnapshot {
  id: string;
  /** Okta's `lastLogin`: null until the first sign-in. */
  lastLogin: number | null;
  created: number;
  lastUpdated: number;
  statusChanged: number;
  /** What the (eventually consistent) search index holds until `lastUpdated + searchLagMs`. */
  indexed?: UserSnapshot;
}

interface GroupRecord {
  id: string;
  name: string;
  description: string | null;
  custom: Record<string, string | string[] | number | boolean | null>;
  created: number;
  lastUpdated: number;
  lastMembershipUpdated: number;
}

interface ForcedLimit {
  left: number;
  resetAt?: number;
  path?: string | RegExp;
}

export interface OktaEmulatorOptions {
  /** The API token the org accepts (sent as `SSWS <token>`). */
  token?: string;
  now?: () => number;
}

export class OktaEmulator extends EmulatorServer {
  readonly token: string;
  /** The admin who owns the token: what GET /api/v1/users/me answers. */
  readonly adminId: string;
  /** 429 answers sent, forced or earned. */
  tooManyRequests = 0;
  /** PUT /api/v1/groups/{id}/users/{userId} calls that reached the org (auth and limits passed). */
  addCalls = 0;
  /** DELETE /api/v1/groups/{id}/users/{userId} calls that reached the org. */
  removeCalls = 0;

  private now: () => number;
  private readonly users = new Map<string, UserRecord>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly memberships = new Map<string, Set<string>>();
  private readonly limits: Record<OktaRateBucket, number> = { ...DEFAULT_LIMITS };
  private readonly windows = new Map<OktaRateBucket, { start: number; used: number }>();
  private readonly forced: ForcedLimit[] = [];
  private searchLagMs = 0;

  constructor(opts: OktaEmulatorOptions = {}) {
    super('okta');
    this.token = opts.token ?? 'okta-emulator-token';
    this.now = opts.now ?? Date.now;
    this.adminId = this.addUser({ login: 'okta-admin@example.com', email: 'okta-admin@example.com', firstName: 'Okta', lastName: 'Admin' }).id;
    this.installRoutes();
  }

  // ---- test state -------------------------------------------------------------------------

  /** Adds a user (ACTIVE unless said otherwise); returns it as the API would. */
  addUser(input: AddUserInput): { id: string; profile: OktaProfile } {
    const id = input.id ?? oktaId('00u');
    if (this.users.has(id)) throw new Error(`okta emulator: user ${id} exists`);
    if (this.findByLogin(input.login)) throw new Error(`okta emulator: login ${input.login} is taken`);
    const at = this.now();
    const profile: OktaProfile = {
      firstName: input.firstName,
      lastName: input.lastName,
      mobilePhone: null,
      secondEmail: null,
      login: input.login,
      email: input.email,
    };
    if (input.displayName !== undefined) profile.displayName = input.displayName;
    if (input.managerId !== undefined) profile.managerId = input.managerId;
    if (input.manager !== undefined) profile.manager = input.manager;
    if (input.department !== undefined) profile.department = input.department;
    if (input.title !== undefined) profile.title = input.title;
    this.users.set(id, { id, status: input.status ?? 'ACTIVE', profile, lastLogin: input.lastLogin ?? null, created: at, lastUpdated: at, statusChanged: at });
    return { id, profile: { ...profile } };
  }

  /** Changes profile attributes (e.g. `managerId`, `email`); `null` clears one. */
  updateProfile(idOrLogin: string, patch: Partial<OktaProfile>): void {
    const u = this.mustUser(idOrLogin);
    this.snapshotForSearch(u);
    u.profile = { ...u.profile, ...patch } as OktaProfile;
    u.lastUpdated = this.now();
  }

  /** Records a sign-in (`lastLogin`), or none with null. */
  setLastLogin(idOrLogin: string, at: number | null): void {
    this.mustUser(idOrLogin).lastLogin = at;
  }

  setStatus(idOrLogin: string, status: OktaUserStatus): void {
    const u = this.mustUser(idOrLogin);
    this.snapshotForSearch(u);
    u.status = status;
    u.statusChanged = u.lastUpdated = this.now();
  }

  /** Deletes a user and their memberships. */
  removeUser(idOrLogin: string): void {
    const u = this.mustUser(idOrLogin);
    this.users.delete(u.id);
    for (const set of this.memberships.values()) set.delete(u.id);
  }

  /** The user as GET /api/v1/users/{id} would show it (without `_links`), or undefined. */
  user(idOrLogin: string): { id: string; status: OktaUserStatus; profile: OktaProfile } | undefined {
    const u = this.users.get(idOrLogin) ?? this.findByLogin(idOrLogin);
    return u && { id: u.id, status: u.status, profile: { ...u.profile } };
  }

  addGroup(input: AddGroupInput): { id: string; name: string } {
    const id = input.id ?? oktaId('00g');
    if (this.groups.has(id)) throw new Error(`okta emulator: group ${id} exists`);
    const at = this.now();
    this.groups.set(id, { id, name: input.name, description: input.description ?? null, custom: { ...input.profile }, created: at, lastUpdated: at, lastMembershipUpdated: at });
    this.memberships.set(id, new Set());
    return { id, name: input.name };
  }

  removeGroup(groupId: string): void {
    this.groups.delete(groupId);
    this.memberships.delete(groupId);
  }

  /** A membership that exists before the test (not counted in `addCalls`). */
  addMember(groupId: string, userId: string): void {
    if (!this.groups.has(groupId)) throw new Error(`okta emulator: no group ${groupId}`);
    const u = this.mustUser(userId);
    this.memberships.get(groupId)!.add(u.id);
  }

  /** Member user ids, sorted (the order the members endpoint pages in). */
  members(groupId: string): string[] {
    return [...(this.memberships.get(groupId) ?? [])].sort();
  }

  isMember(groupId: string, userId: string): boolean {
    return this.memberships.get(groupId)?.has(userId) ?? false;
  }

  /**
   * Per-minute budget for one bucket, or every bucket when `bucket` is unset. `now` replaces
   * the emulator's clock (milliseconds), so a test can move to the next window.
   */
  setRateLimit(opts: { perMinute: number; bucket?: OktaRateBucket; now?: () => number }): void {
    if (opts.now) this.now = opts.now;
    const buckets = opts.bucket ? [opts.bucket] : (Object.keys(this.limits) as OktaRateBucket[]);
    for (const b of buckets) this.limits[b] = opts.perMinute;
    this.windows.clear();
  }

  /**
   * The next `times` API calls (matching `path` when given) get 429 E0000047 with
   * X-Rate-Limit-Reset = `resetAt` (epoch seconds; default: the end of the current minute).
   */
  forceRateLimit(times = 1, opts: { resetAt?: number; path?: string | RegExp } = {}): void {
    this.forced.push({ left: times, resetAt: opts.resetAt, path: opts.path });
  }

  /**
   * Makes `search` eventually consistent: a change is visible to `search` only `ms` after it is
   * made (Okta: "sourced from an eventually consistent datasource"). `filter` and id/login
   * lookups always see the latest data.
   */
  setSearchLag(ms: number): void {
    this.searchLagMs = ms;
  }

  // ---- wire -------------------------------------------------------------------------------

  private installRoutes(): void {
    const api = (method: string, pattern: string, h: Handler): void => {
      this.route(method, pattern, (req) => this.guard(req, h));
    };
    api('GET', '/api/v1/users', (req) => this.listUsers(req));
    api('GET', '/api/v1/users/:id', (req) => {
      const u = this.lookupUser(req.params.id!);
      return u ? { body: this.userJson(req, u) } : notFound(req.params.id!, 'User');
    });
    api('GET', '/api/v1/users/:id/groups', (req) => {
      const u = this.lookupUser(req.params.id!);
      if (!u) return notFound(req.params.id!, 'User');
      // listUserGroups pages like the other lists: `limit` up to 200 (its default), `after`, and
      // `Link: <…>; rel="next"` (https://developer.okta.com/docs/api/openapi/okta-management/management/tags/userresources/other/listusergroups).
      const gs = [...this.groups.values()].filter((g) => this.memberships.get(g.id)?.has(u.id)).sort(byId);
      return this.page(req, gs, (g) => this.groupJson(req, g), 200);
    });
    api('GET', '/api/v1/groups', (req) => {
      const search = req.query.get('search');
      let all = [...this.groups.values()];
      if (search !== null) {
        const expr = parseExpression(search, 'search');
        if (!expr) return badGroupSearch();
        all = all.filter((g) => matchesExpr(expr, (attr) => groupAttr(g, attr), false));
      } else {
        const q = (req.query.get('q') ?? '').toLowerCase();
        all = all.filter((g) => g.name.toLowerCase().startsWith(q));
      }
      return this.page(req, all.sort(byId), (g) => this.groupJson(req, g), 10000);
    });
    api('GET', '/api/v1/groups/:groupId', (req) => {
      const g = this.groups.get(req.params.groupId!);
      return g ? { body: this.groupJson(req, g) } : notFound(req.params.groupId!, 'UserGroup');
    });
    api('GET', '/api/v1/groups/:groupId/users', (req) => {
      const g = this.groups.get(req.params.groupId!);
      if (!g) return notFound(req.params.groupId!, 'UserGroup');
      const users = this.members(g.id).map((id) => this.users.get(id)!);
      return this.page(req, users, (u) => this.userJson(req, u), 1000);
    });
    api('PUT', '/api/v1/groups/:groupId/users/:userId', (req) => {
      this.addCalls += 1;
      const found = this.membershipTarget(req);
      if ('error' in found) return found.error;
      if (!found.set.has(found.user.id)) {
        found.set.add(found.user.id);
        found.group.lastMembershipUpdated = this.now();
      }
      return { status: 204 };
    });
    api('DELETE', '/api/v1/groups/:groupId/users/:userId', (req) => {
      this.removeCalls += 1;
      const found = this.membershipTarget(req);
      if ('error' in found) return found.error;
      if (found.set.delete(found.user.id)) found.group.lastMembershipUpdated = this.now();
      return { status: 204 };
    });
  }

  /** Rate limit, then auth, then the handler; every answer carries the rate limit headers. */
  private async guard(req: EmuRequest, h: Handler): Promise<EmuResponse> {
    const bucket = bucketFor(req.method, req.path);
    const now = this.now();
    const requestId = randomBytes(12).toString('base64url');
    const forced = this.forced.find((f) => f.left > 0 && (!f.path || (typeof f.path === 'string' ? f.path === req.path : f.path.test(req.path))));
    if (forced) {
      forced.left -= 1;
      if (forced.left === 0) this.forced.splice(this.forced.indexOf(forced), 1);
      return this.tooMany(now, requestId, this.limits[bucket], forced.resetAt ?? windowReset(now));
    }
    const limit = this.limits[bucket];
    const start = Math.floor(now / 60_000) * 60_000;
    let w = this.windows.get(bucket);
    if (!w || w.start !== start) this.windows.set(bucket, (w = { start, used: 0 }));
    if (w.used >= limit) return this.tooMany(now, requestId, limit, windowReset(now));
    w.used += 1;
    const headers = {
      'X-Rate-Limit-Limit': String(limit),
      'X-Rate-Limit-Remaining': String(limit - w.used),
      'X-Rate-Limit-Reset': String(windowReset(now)),
      'X-Okta-Request-Id': requestId,
      // From the emulator's clock, so a client measuring the reset against Date stays consistent.
      Date: new Date(now).toUTCString(),
    };
    const auth = req.headers.authorization;
    if (auth !== `SSWS ${this.token}`) {
      return { status: 401, headers, body: oktaError('E0000011', 'Invalid token provided') };
    }
    const out = await h(req);
    return { ...out, headers: { ...headers, ...(out.headers ?? {}) } };
  }

  private tooMany(now: number, requestId: string, limit: number, resetAt: number): EmuResponse {
    this.tooManyRequests += 1;
    return {
      status: 429,
      headers: {
        'X-Rate-Limit-Limit': String(limit),
        'X-Rate-Limit-Remaining': '0',
        'X-Rate-Limit-Reset': String(resetAt),
        'X-Okta-Request-Id': requestId,
        Date: new Date(now).toUTCString(),
      },
      body: oktaError('E0000047', 'API call exceeded rate limit due to too many requests.'),
    };
  }

  private listUsers(req: EmuRequest): EmuResponse {
    const search = req.query.get('search');
    const filter = req.query.get('filter');
    const q = req.query.get('q');
    let matches: UserRecord[];
    if (search !== null) {
      const expr = parseExpression(search, 'search');
      if (!expr) return badSearch();
      const now = this.now();
      matches = [];
      for (const u of this.users.values()) {
        const visible = u.lastUpdated + this.searchLagMs <= now ? u : u.indexed;
        if (visible && evaluate(expr, visible, u.id, false)) matches.push(u);
      }
    } else if (filter !== null) {
      const expr = parseExpression(filter, 'filter');
      if (!expr) return badSearch();
      matches = [...this.users.values()].filter((u) => evaluate(expr, u, u.id, true));
    } else if (q !== null) {
      const needle = q.toLowerCase();
      matches = [...this.users.values()].filter(
        (u) => u.status !== 'DEPROVISIONED' && [u.profile.firstName, u.profile.lastName, u.profile.email].some((v) => v.toLowerCase().startsWith(needle)),
      );
    } else {
      // Without a query Okta omits DEPROVISIONED users (listUsers doc in the SDK).
      matches = [...this.users.values()].filter((u) => u.status !== 'DEPROVISIONED');
    }
    // `limit` defaults to 10 with `q` (SDK listUsers doc), else to the maximum, 200.
    return this.page(req, matches.sort(byId), (u) => this.userJson(req, u), 200, q !== null && search === null && filter === null ? 10 : 200);
  }

  /** Cursor pagination: `after` is the id of the previous page's last item. */
  private page<T extends { id: string }>(req: EmuRequest, all: T[], render: (t: T) => unknown, maxLimit: number, defaultLimit = maxLimit): EmuResponse {
    const limitParam = Number(req.query.get('limit') ?? defaultLimit);
    const limit = Number.isInteger(limitParam) && limitParam > 0 ? Math.min(limitParam, maxLimit) : defaultLimit;
    const after = req.query.get('after');
    const from = after ? all.findIndex((t) => t.id > after) : 0;
    const slice = from < 0 ? [] : all.slice(from, from + limit);
    const self = new URL(req.path, this.origin(req));
    for (const [k, v] of req.query) self.searchParams.set(k, v);
    const links = [`<${self.href}>; rel="self"`];
    const last = slice.at(-1);
    if (last && from + limit < all.length) {
      const next = new URL(self.href);
      next.searchParams.set('after', last.id);
      next.searchParams.set('limit', String(limit));
      links.push(`<${next.href}>; rel="next"`);
    }
    return { headers: { Link: links.join(', ') }, body: slice.map(render) };
  }

  /** The group checked first: a missing group is reported even when the user is missing too. */
  private membershipTarget(req: EmuRequest): { group: GroupRecord; user: UserRecord; set: Set<string> } | { error: EmuResponse } {
    const group = this.groups.get(req.params.groupId!);
    if (!group) return { error: notFound(req.params.groupId!, 'UserGroup') };
    const user = this.users.get(req.params.userId!);
    if (!user) return { error: notFound(req.params.userId!, 'User') };
    return { group, user, set: this.memberships.get(group.id)! };
  }

  private lookupUser(idOrLogin: string): UserRecord | undefined {
    if (idOrLogin === 'me') return this.users.get(this.adminId);
    return this.users.get(idOrLogin) ?? this.findByLogin(idOrLogin);
  }

  /** Okta logins are unique regardless of case, and GET /users/{login} finds them so. */
  private findByLogin(login: string): UserRecord | undefined {
    const l = login.toLowerCase();
    for (const u of this.users.values()) if (u.profile.login.toLowerCase() === l) return u;
    return undefined;
  }

  private mustUser(idOrLogin: string): UserRecord {
    const u = this.users.get(idOrLogin) ?? this.findByLogin(idOrLogin);
    if (!u) throw new Error(`okta emulator: no user ${idOrLogin}`);
    return u;
  }

  /** Before a change: remember what search may still see while the change propagates. */
  private snapshotForSearch(u: UserRecord): void {
    if (u.lastUpdated + this.searchLagMs <= this.now()) u.indexed = { status: u.status, profile: { ...u.profile } };
  }

  private origin(req: EmuRequest): string {
    return `http://${req.headers.host ?? new URL(this.url).host}`;
  }

  private userJson(req: EmuRequest, u: UserRecord): unknown {
    const base = this.origin(req);
    return {
      id: u.id,
      status: u.status,
      created: iso(u.created),
      activated: u.status === 'STAGED' ? null : iso(u.created),
      statusChanged: iso(u.statusChanged),
      lastLogin: u.lastLogin === null ? null : iso(u.lastLogin),
      lastUpdated: iso(u.lastUpdated),
      passwordChanged: null,
      type: { id: 'oty1defaultusertype' },
      profile: { ...u.profile },
      credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
      _links: { self: { href: `${base}/api/v1/users/${u.id}` } },
    };
  }

  private groupJson(req: EmuRequest, g: GroupRecord): unknown {
    const base = this.origin(req);
    return {
      id: g.id,
      created: iso(g.created),
      lastUpdated: iso(g.lastUpdated),
      lastMembershipUpdated: iso(g.lastMembershipUpdated),
      objectClass: ['okta:user_group'],
      type: 'OKTA_GROUP',
      profile: { name: g.name, description: g.description, ...g.custom },
      _links: {
        users: { href: `${base}/api/v1/groups/${g.id}/users` },
        apps: { href: `${base}/api/v1/groups/${g.id}/apps` },
      },
    };
  }
}

// ---- helpers --------------------------------------------------------------------------------

function bucketFor(method: string, path: string): OktaRateBucket {
  const seg = path.split('/').filter(Boolean); // ['api','v1','users',...]
  if (seg[2] === 'users') {
    if (seg.length === 3) return 'users';
    if (seg.length === 4) return method === 'GET' ? 'user' : 'userWrite';
  }
  if (seg[2] === 'groups') return seg.length === 4 ? 'group' : 'groups';
  return 'default';
}

/** The end of the current one-minute window, in epoch seconds. */
function windowReset(nowMs: number): number {
  return (Math.floor(nowMs / 60_000) + 1) * 60;
}

function oktaError(code: string, summary: string): Record<string, unknown> {
  return { errorCode: code, errorSummary: summary, errorLink: code, errorId: `oae${randomBytes(16).toString('base64url').slice(0, 22)}`, errorCauses: [] };
}

function notFound(id: string, kind: 'User' | 'UserGroup'): EmuResponse {
  return { status: 404, body: oktaError('E0000007', `Not found: Resource not found: ${id} (${kind})`) };
}

function badGroupSearch(): EmuResponse {
  return { status: 400, body: { ...oktaError('E0000031', 'Invalid search criteria.'), errorCauses: [{ errorSummary: 'Invalid search syntax.' }] } };
}

function groupAttr(g: GroupRecord, attr: string): string | null | undefined {
  if (attr === 'id') return g.id;
  if (attr === 'type') return 'OKTA_GROUP';
  if (attr === 'profile.name') return g.name;
  if (attr === 'profile.description') return g.description;
  const custom = attr.startsWith('profile.') ? g.custom[attr.slice('profile.'.length)] : undefined;
  return typeof custom === 'string' ? custom : undefined;
}

function badSearch(): EmuResponse {
  // Okta's error code table lists E0000031 as 400 "Bad request. Invalid filter parameter."
  return { status: 400, body: oktaError('E0000031', 'Invalid filter parameter.') };
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Okta ids: a 3-character type prefix (00u users, 00g groups) and 17 more characters. */
function oktaId(prefix: string): string {
  const bytes = randomBytes(17);
  let s = prefix;
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return s;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// ---- the search / filter expression language (the subset the connector and tests use) ---------

type Expr =
  | { kind: 'cmp'; attr: string; op: 'eq' | 'sw' | 'co' | 'pr'; value?: string }
  | { kind: 'and'; left: Expr; right: Expr }
  | { kind: 'or'; left: Expr; right: Expr };

/** Attributes `filter` accepts (the SDK's listUsers doc); `search` takes any attribute. */
const FILTER_ATTRS = new Set(['status', 'lastUpdated', 'id', 'profile.login', 'profile.email', 'profile.firstName', 'profile.lastName']);

/** Parses `a eq "x" and (b sw "y" or c pr)`; undefined when the expression is invalid. */
function parseExpression(src: string, mode: 'search' | 'filter'): Expr | undefined {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|\(|\)|[^\s()"]+)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(src)) !== null) {
    tokens.push(m[1]!);
    consumed = re.lastIndex;
  }
  if (src.slice(consumed).trim() !== '' || tokens.length === 0) return undefined;
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const parseOr = (): Expr | undefined => {
    let left = parseAnd();
    while (left && peek()?.toLowerCase() === 'or') {
      i += 1;
      const right = parseAnd();
      if (!right) return undefined;
      left = { kind: 'or', left, right };
    }
    return left;
  };
  const parseAnd = (): Expr | undefined => {
    let left = parseTerm();
    while (left && peek()?.toLowerCase() === 'and') {
      i += 1;
      const right = parseTerm();
      if (!right) return undefined;
      left = { kind: 'and', left, right };
    }
    return left;
  };
  const parseTerm = (): Expr | undefined => {
    const t = tokens[i++];
    if (t === undefined) return undefined;
    if (t === '(') {
      const e = parseOr();
      return tokens[i++] === ')' ? e : undefined;
    }
    const op = tokens[i++]?.toLowerCase();
    if (mode === 'filter' && !FILTER_ATTRS.has(t)) return undefined;
    if (op === 'pr' && mode === 'search') return { kind: 'cmp', attr: t, op };
    if (op !== 'eq' && !(mode === 'search' && (op === 'sw' || op === 'co'))) return undefined;
    const lit = tokens[i++];
    if (lit === undefined || !lit.startsWith('"')) return undefined;
    return { kind: 'cmp', attr: t, op, value: lit.slice(1, -1).replace(/\\(.)/g, '$1') };
  };
  const e = parseOr();
  return e && i === tokens.length ? e : undefined;
}

function evaluate(e: Expr, u: UserSnapshot, id: string, caseSensitive: boolean): boolean {
  return matchesExpr(e, (attr) => (attr === 'id' ? id : attr === 'status' ? u.status : attr.startsWith('profile.') ? u.profile[attr.slice(8)] : undefined), caseSensitive);
}

function matchesExpr(e: Expr, attr: (name: string) => string | null | undefined, caseSensitive: boolean): boolean {
  if (e.kind === 'and') return matchesExpr(e.left, attr, caseSensitive) && matchesExpr(e.right, attr, caseSensitive);
  if (e.kind === 'or') return matchesExpr(e.left, attr, caseSensitive) || matchesExpr(e.right, attr, caseSensitive);
  const raw = attr(e.attr);
  if (e.op === 'pr') return raw !== undefined && raw !== null && raw !== '';
  if (raw === undefined || raw === null) return false;
  const norm = (s: string): string => (caseSensitive ? s : s.toLowerCase());
  const have = norm(raw);
  const want = norm(e.value ?? '');
  return e.op === 'eq' ? have === want : e.op === 'sw' ? have.startsWith(want) : have.includes(want);
}
