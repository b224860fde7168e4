/**
 * A local Atlassian organization behind the Organizations REST API (https://api.atlassian.com/admin),
 * for the `atlassian-org` connector: users in a directory, the directory's groups and their
 * memberships, and suspending a user's access.
 *
 * What it models, and where it comes from:
 * - Auth: an org API key as `Authorization: Bearer <key>`; the org id is a path parameter
 *   (https://developer.atlassian.com/cloud/admin/organization/rest/intro/, "Authentication").
 *   Anything else is 401 ADMIN-UAM-401-1; another org's id is 404 ADMIN-UAM-404-2.
 * - Errors: `{"errors": [{"id", "code", "status", "title", "detail"}]}` with the ADMIN-UAM-* codes
 *   (the spec's ApiError model, as generated into jira.js src/admin/models/apiError.ts: 404-1
 *   Unknown Resource, 404-3 Group Not Found, 403-1 Forbidden, 409-2 Resource Conflicts, …).
 * - Rate limits: every answer carries X-RateLimit-Limit / -Remaining / -Reset, the reset an ISO 8601
 *   UTC time (the Organizations and API Access REST API intros, "Rate limit response headers");
 *   a 429 also carries Retry-After in seconds, as Atlassian's cloud APIs send it
 *   (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
 * - Routes (jira.js src/admin/api/{orgs,directory,groups,users}.ts, generated from the spec):
 *   GET /admin/v1/orgs/{orgId} (getOrgById); GET /admin/v2/orgs/{orgId}/directories
 *   (getDirectoriesForOrg); GET …/directories/{directoryId}/groups/{groupId} (getGroup, with
 *   `externalSynced`, `managedBy` and `managementAccess`); POST …/groups/{groupId}/memberships
 *   `{accountId}` and DELETE …/memberships/{accountId} (addUserToGroup / removeUserFromGroup);
 *   POST …/directories/{directoryId}/users/search (searchDirectoryUsers: `emails` exact match,
 *   `accountIds`, `groupIds`, `cursor`, `limit` default 50; a page `{data, links: {self, next}}`);
 *   POST …/users/{accountId}/suspend (suspendDirectoryUser); GET
 *   /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates (getUserLastActiveDates:
 *   `{data: {product_access: [{id, key, last_active, last_active_timestamp}], added_to_org},
 *   links: {next}}`, product_access empty for a user who used no product,
 *   https://developer.atlassian.com/cloud/admin/organization/user-last-active-dates/; the item
 *   fields as getUserLastActiveDates' response in jira.js src/admin/api/users.ts). An unknown
 *   account's answer is not documented: here 404 ADMIN-UAM-404-1.
 * - A group synced from an identity provider cannot be changed: "You can’t add a user to a group
 *   synced from an identity provider. Manage this group in your identity provider instead."
 *   (addUserToGroup's description). Which status says so is not documented; here 403 ADMIN-UAM-403-1.
 * - Adding an existing member and removing a non-member are not documented either: here 409
 *   ADMIN-UAM-409-2 and 404 ADMIN-UAM-404-1. The connector settles both by reading the membership,
 *   so it does not depend on these choices.
 */
import { randomUUID } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse, type Handler } from './base.js';

export interface OrgUser {
  accountId: string;
  email: string;
  name: string;
  accountType: 'atlassian' | 'app' | 'customer';
  accountStatus: 'active' | 'inactive' | 'closed';
  membershipStatus: 'active' | 'suspended' | 'no_membership';
  /** Last activity per product key (epoch ms), for the last-active-dates endpoint. */
  lastActive: Map<string, number>;
}

export interface OrgGroup {
  id: string;
  name: string;
  /** Synced from an identity provider (SCIM): the API cannot change its members. */
  externalSynced: boolean;
  members: Set<string>;
}

export interface AtlassianAdminOptions {
  apiKey?: string;
  orgId?: string;
  directoryId?: string;
  /** Requests per window before a 429 (default: plenty). */
  limit?: number;
}

const WINDOW_MS = 60_000;

export class AtlassianAdminEmulator extends EmulatorServer {
  readonly apiKey: string;
  readonly orgId: string;
  readonly directoryId: string;
  readonly users = new Map<string, OrgUser>();
  readonly groups = new Map<string, OrgGroup>();
  /** 429 answers sent. */
  tooManyRequests = 0;
  private readonly limit: number;
  private window = { start: 0, used: 0 };
  private forced: { left: number; retryAfterSec: number; method?: string; path?: RegExp }[] = [];

  constructor(opts: AtlassianAdminOptions = {}) {
    super('atlassian-admin');
    this.apiKey = opts.apiKey ?? 'atlassian-org-api-key-5e6f7a8b9c';
    this.orgId = opts.orgId ?? '0a1b2c3d-org0-4000-8000-00000000e0e0';
    this.directoryId = opts.directoryId ?? 'd1rec70r-0000-4000-8000-00000000d1d1';
    this.limit = opts.limit ?? 10_000;
    this.installRoutes();
  }

  /** The base URL the connector takes (the API's `https://api.atlassian.com`). */
  get baseUrl(): string {
    return this.url;
  }

  // ---- test state -------------------------------------------------------------------------

  addUser(u: { email: string; name?: string; accountId?: string; accountType?: OrgUser['accountType']; accountStatus?: OrgUser['accountStatus'] }): OrgUser {
    const user: OrgUser = {
      accountId: u.accountId ?? `712020:${randomUUID()}`,
      email: u.email,
      name: u.name ?? u.email.split('@')[0]!,
      accountType: u.accountType ?? 'atlassian',
      accountStatus: u.accountStatus ?? 'active',
      membershipStatus: 'active',
      lastActive: new Map(),
    };
    this.users.set(user.accountId, user);
    return user;
  }

  addGroup(g: { name: string; id?: string; externalSynced?: boolean; members?: string[] }): OrgGroup {
    const group: OrgGroup = { id: g.id ?? randomUUID(), name: g.name, externalSynced: g.externalSynced ?? false, members: new Set(g.members ?? []) };
    this.groups.set(group.id, group);
    return group;
  }

  isMember(groupId: string, accountId: string): boolean {
    return this.groups.get(groupId)?.members.has(accountId) ?? false;
  }

  members(groupId: string): string[] {
    return [...(this.groups.get(groupId)?.members ?? [])];
  }

  /** The next `times` matching calls get 429 with `Retry-After: retryAfterSec`. */
  rateLimit(times: number, opts: { retryAfterSec?: number; method?: string; path?: RegExp } = {}): void {
    this.forced.push({ left: times, retryAfterSec: opts.retryAfterSec ?? 1, method: opts.method, path: opts.path });
  }

  /** The account used a product at `at` (what its last-active dates report). */
  setLastActive(accountId: string, product: string, at: number): void {
    const u = this.users.get(accountId);
    if (!u) throw new Error(`atlassian-admin emulator: no user ${accountId}`);
    u.lastActive.set(product, at);
  }

  /** Calls to the suspend endpoint that reached the org. */
  suspendCalls(): number {
    return this.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/suspend')).length;
  }

  // ---- routes -----------------------------------------------------------------------------

  private installRoutes(): void {
    const v2 = '/admin/v2/orgs/:orgId/directories/:directoryId';
    this.route('GET', '/admin/v1/orgs/:orgId', this.guard((r) => this.org(r)));
    this.route('GET', '/admin/v2/orgs/:orgId/directories', this.guard(() => this.directories()));
    this.route('POST', `${v2}/users/search`, this.guard((r) => this.searchUsers(r), true));
    this.route('POST', `${v2}/users/:accountId/suspend`, this.guard((r) => this.suspend(r), true));
    this.route('GET', `${v2}/groups/:groupId`, this.guard((r) => this.getGroup(r), true));
    this.route('GET', '/admin/v1/orgs/:orgId/directory/users/:accountId/last-active-dates', this.guard((r) => this.lastActiveDates(r)));
    this.route('POST', `${v2}/groups/:groupId/memberships`, this.guard((r) => this.addMembership(r), true));
    this.route('DELETE', `${v2}/groups/:groupId/memberships/:accountId`, this.guard((r) => this.removeMembership(r), true));
  }

  /** Auth, org, directory and rate limits, then the handler; every answer gets the rate-limit headers. */
  private guard(h: Handler, inDirectory = false): Handler {
    return async (req) => {
      const now = Date.now();
      if (now - this.window.start >= WINDOW_MS) this.window = { start: now, used: 0 };
      this.window.used += 1;
      const reset = new Date(this.window.start + WINDOW_MS).toISOString();
      const headers = { 'X-RateLimit-Limit': String(this.limit), 'X-RateLimit-Remaining': String(Math.max(0, this.limit - this.window.used)), 'X-RateLimit-Reset': reset };
      const forced = this.forced.find((f) => f.left > 0 && (!f.method || f.method === req.method) && (!f.path || f.path.test(req.path)));
      if (forced || this.window.used > this.limit) {
        if (forced) forced.left -= 1;
        this.tooManyRequests += 1;
        const retryAfter = forced ? forced.retryAfterSec : Math.ceil((this.window.start + WINDOW_MS - now) / 1000);
        return { status: 429, headers: { ...headers, 'X-RateLimit-Remaining': '0', 'Retry-After': String(retryAfter) }, body: adminError(429, 'ADMIN-UAM-429-1', 'Too Many Requests', 'Rate limit exceeded') };
      }
      const out = await this.authorised(req, inDirectory, h);
      return { ...out, headers: { ...headers, ...(out.headers ?? {}) } };
    };
  }

  private async authorised(req: EmuRequest, inDirectory: boolean, h: Handler): Promise<EmuResponse> {
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return adminError(401, 'ADMIN-UAM-401-1', 'Unauthenticated', 'The API key is missing or invalid');
    if (req.params['orgId'] !== this.orgId) return adminError(404, 'ADMIN-UAM-404-2', 'Organization not found', `No organization ${req.params['orgId']}`);
    if (inDirectory && req.params['directoryId'] !== this.directoryId) return adminError(404, 'ADMIN-UAM-404-1', 'Unknown Resource', `No directory ${req.params['directoryId']}`);
    return h(req);
  }

  private org(_req: EmuRequest): EmuResponse {
    return { body: { data: { id: this.orgId, type: 'orgs', attributes: { name: 'Example Org' }, links: { self: `${this.url}/admin/v1/orgs/${this.orgId}` } } } };
  }

  private directories(): EmuResponse {
    return { body: { data: [{ directoryId: this.directoryId, name: 'Example directory' }], links: { next: null } } };
  }

  private groupJson(g: OrgGroup): Record<string, unknown> {
    return {
      id: g.id,
      name: g.name,
      description: '',
      directoryId: this.directoryId,
      managementAccess: { deletable: !g.externalSynced, modifiable: !g.externalSynced, readable: true },
      externalSynced: g.externalSynced,
      managedBy: g.externalSynced ? 'external' : 'admins',
      counts: { members: g.members.size },
    };
  }

  private getGroup(req: EmuRequest): EmuResponse {
    const g = this.groups.get(req.params['groupId']!);
    return g ? { body: { data: this.groupJson(g) } } : groupNotFound(req.params['groupId']!);
  }

  private addMembership(req: EmuRequest): EmuResponse {
    const g = this.groups.get(req.params['groupId']!);
    if (!g) return groupNotFound(req.params['groupId']!);
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as { accountId?: unknown };
    const accountId = typeof body.accountId === 'string' ? body.accountId : '';
    if (!accountId) return adminError(400, 'ADMIN-UAM-400-1', 'Bad Request', 'accountId is required');
    if (g.externalSynced) return syncedGroup();
    if (!this.users.has(accountId)) return adminError(404, 'ADMIN-UAM-404-1', 'Unknown Resource', `No user ${accountId} in the directory`);
    if (g.members.has(accountId)) return adminError(409, 'ADMIN-UAM-409-2', 'Resource Conflicts', 'The user is already a member of the group');
    g.members.add(accountId);
    return { status: 204 };
  }

  private removeMembership(req: EmuRequest): EmuResponse {
    const g = this.groups.get(req.params['groupId']!);
    if (!g) return groupNotFound(req.params['groupId']!);
    if (g.externalSynced) return syncedGroup();
    const accountId = req.params['accountId']!;
    if (!g.members.has(accountId)) return adminError(404, 'ADMIN-UAM-404-1', 'Unknown Resource', 'The user is not a member of the group');
    g.members.delete(accountId);
    return { status: 204 };
  }

  private suspend(req: EmuRequest): EmuResponse {
    const u = this.users.get(req.params['accountId']!);
    if (!u) return adminError(404, 'ADMIN-UAM-404-1', 'Unknown Resource', `No user ${req.params['accountId']} in the directory`);
    u.membershipStatus = 'suspended';
    return { status: 204 };
  }

  private lastActiveDates(req: EmuRequest): EmuResponse {
    const u = this.users.get(req.params['accountId']!);
    if (!u) return adminError(404, 'ADMIN-UAM-404-1', 'Unknown Resource', `No user ${req.params['accountId']} in the organization`);
    const product_access = [...u.lastActive].map(([key, at]) => ({
      id: `ari:cloud:${key}::site/emulated-site`,
      key,
      last_active: new Date(at).toISOString().slice(0, 10),
      last_active_timestamp: new Date(at).toISOString(),
    }));
    return { body: { data: { product_access, added_to_org: '2024-01-01' }, links: { next: null } } };
  }

  /** `cursor` is opaque (here the offset, base64); with a cursor the filters of the first call are kept in it. */
  private searchUsers(req: EmuRequest): EmuResponse {
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const list = (k: string): string[] | undefined => (Array.isArray(b[k]) ? (b[k] as unknown[]).filter((x): x is string => typeof x === 'string') : undefined);
    let filters: { emails?: string[]; accountIds?: string[]; groupIds?: string[] } = { emails: list('emails'), accountIds: list('accountIds'), groupIds: list('groupIds') };
    if (filters.emails && typeof b['searchTerm'] === 'string') return adminError(400, 'ADMIN-UAM-400-1', 'Bad Request', 'searchTerm and emails are mutually exclusive');
    let offset = 0;
    if (typeof b['cursor'] === 'string') {
      try {
        const c = JSON.parse(Buffer.from(b['cursor'], 'base64url').toString('utf8')) as { offset: number; filters: typeof filters };
        offset = c.offset;
        filters = c.filters;
      } catch {
        return adminError(400, 'ADMIN-UAM-400-1', 'Bad Request', 'Invalid page cursor');
      }
    }
    const limit = typeof b['limit'] === 'number' && b['limit'] > 0 ? Math.floor(b['limit']) : 50;
    const emails = filters.emails?.map((e) => e.toLowerCase());
    const all = [...this.users.values()].filter(
      (u) =>
        (!emails || emails.includes(u.email.toLowerCase())) &&
        (!filters.accountIds || filters.accountIds.includes(u.accountId)) &&
        (!filters.groupIds || filters.groupIds.some((g) => this.groups.get(g)?.members.has(u.accountId))),
    );
    const page = all.slice(offset, offset + limit);
    const cursor = (at: number) => Buffer.from(JSON.stringify({ offset: at, filters })).toString('base64url');
    const next = offset + page.length < all.length ? cursor(offset + page.length) : null;
    return {
      body: {
        data: page.map((u) => ({
          accountId: u.accountId,
          accountType: u.accountType,
          accountStatus: u.accountStatus,
          membershipStatus: u.membershipStatus,
          status: u.accountStatus !== 'active' ? 'deactivated' : u.membershipStatus === 'suspended' ? 'suspended' : 'active',
          name: u.name,
          nickname: u.name,
          email: u.email,
          emailVerified: true,
          claimStatus: 'managed',
        })),
        links: { self: cursor(offset), prev: null, next },
      },
    };
  }
}

function adminError(status: number, code: string, title: string, detail: string): EmuResponse {
  return { status, body: { errors: [{ id: randomUUID(), code, status: String(status), title, detail }] } };
}

function groupNotFound(id: string): EmuResponse {
  return adminError(404, 'ADMIN-UAM-404-3', 'Group Not Found', `No group ${id} in the directory`);
}

function syncedGroup(): EmuResponse {
  return adminError(403, 'ADMIN-UAM-403-1', 'Forbidden', 'You can’t add a user to a group synced from an identity provider. Manage this group in your identity provider instead.');
}
