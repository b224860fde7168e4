/**
 * A local GitHub (REST API v3, the teams slice, the App installation token exchange and the
 * GraphQL query for an organization's SAML identities), for the GitHub connector and the
 * integration tests. `basePath: '/api/v3'` serves it the way GitHub Enterprise Server does, with
 * GraphQL at `/api/graphql`.
 *
 * What it models, and where it comes from:
 * - Errors are `{"message", "documentation_url"}`; not found is 404 "Not Found", bad or expired
 *   credentials 401 "Bad credentials"
 *   (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api).
 * - Rate limits (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
 *   every answer carries `x-ratelimit-limit`, `-remaining`, `-used`, `-reset` (epoch seconds) and
 *   `-resource`; over the primary limit, 403 "API rate limit exceeded for …" with remaining 0
 *   (`primaryRateLimit`); a secondary limit, 403 or 429 "You have exceeded a secondary rate
 *   limit…" with `retry-after` seconds (`secondaryRateLimit`).
 * - App auth: `POST /app/installations/{installation_id}/access_tokens` with `Authorization:
 *   Bearer <JWT>` (RS256, `iss` the app id, `exp` at most 10 minutes after `iat`;
 *   https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app)
 *   → 201 `{token, expires_at, permissions, repository_selection}`, the token living one hour
 *   (https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app);
 *   a JWT that does not verify: 401 "A JSON web token could not be decoded"; an `exp` too far:
 *   401 "'Expiration time' claim ('exp') is too far in the future"; an unknown installation 404.
 * - Teams (https://docs.github.com/en/rest/teams/members): GET/PUT/DELETE
 *   `/orgs/{org}/teams/{team_slug}/memberships/{username}` → `{url, role, state}`; PUT of someone
 *   outside the organization makes a `pending` membership (an emailed invitation) until they
 *   accept (`acceptInvitation`); GET and DELETE answer 404 when not a member; DELETE 204.
 *   `GET /orgs/{org}/teams/{team_slug}/members` lists active members, `per_page` (default 30,
 *   max 100) and `page`, with `Link` rel="next"/"last". `GET /orgs/{org}/teams/{team_slug}`
 *   (https://docs.github.com/en/rest/teams/teams#get-a-team-by-name).
 * - `GET /users/{username}` (https://docs.github.com/en/rest/users/users#get-a-user),
 *   `GET /rate_limit` (https://docs.github.com/en/rest/rate-limit/rate-limit).
 * - GraphQL `POST /graphql`: `organization(login:).samlIdentityProvider.externalIdentities(userName:, first:)`
 *   with `samlIdentity { nameId emails }`, `scimIdentity { username emails }`, `user { login }`
 *   (the query of https://docs.github.com/en/enterprise-cloud@latest/organizations/managing-saml-single-sign-on-for-your-organization/troubleshooting-identity-and-access-management-for-your-organization;
 *   `userName` filters on the SCIM userName or the SAML NameID, per GitHub's resolver
 *   "user_name = ? OR name_id = ?"; compared here without case, as GitHub's MySQL collation
 *   would, not verified). No SAML: `samlIdentityProvider: null`. Unknown organization: 200 with
 *   `errors: [{type: "NOT_FOUND", …}]`.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse, type Handler } from './base.js';

type State = 'active' | 'pending';

interface Team {
  id: number;
  slug: string;
  name: string;
  members: Map<string, { login: string; state: State }>;
}

interface Org {
  login: string;
  members: Set<string>;
  teams: Map<string, Team>;
  /** undefined: the organization has no SAML single sign-on. */
  saml?: { nameId: string; login: string | null; scimEmails?: string[] }[];
}

export interface GitHubEmulatorOptions {
  /** A personal access token it accepts. */
  token?: string;
  appId?: string;
  installationId?: string;
  /** '' (github.com) or '/api/v3' (GitHub Enterprise Server). */
  basePath?: '' | '/api/v3';
  /** Life of installation tokens, seconds. Default 3600. */
  tokenLifetimeSec?: number;
  now?: () => number;
}

const DOCS = 'https://docs.github.com/rest';
const JSON_TYPE = 'application/json; charset=utf-8';
const HOURLY_LIMIT = 5000;

export class GitHubEmulator extends EmulatorServer {
  readonly token: string;
  readonly appId: string;
  readonly installationId: string;
  readonly basePath: string;
  readonly privateKeyPem: string;
  tokenLifetimeSec: number;
  /** Installation tokens issued. */
  tokensIssued = 0;
  /** PUT membership calls that reached the org (auth and limits passed). */
  addCalls = 0;

  private readonly publicKey: KeyObject;
  private readonly now: () => number;
  private readonly installationTokens = new Map<string, number>();
  private readonly users = new Map<string, { login: string; id: number; name: string | null }>();
  private readonly orgs = new Map<string, Org>();
  private window = { start: 0, used: 0 };
  private nextId = 1000;

  constructor(opts: GitHubEmulatorOptions = {}) {
    super('github');
    this.token = opts.token ?? 'github_pat_emulator_0123456789abcdef';
    this.appId = opts.appId ?? '123456';
    this.installationId = opts.installationId ?? '7654321';
    this.basePath = opts.basePath ?? '';
    this.tokenLifetimeSec = opts.tokenLifetimeSec ?? 3600;
    this.now = opts.now ?? Date.now;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    this.publicKey = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
    this.installRoutes();
  }

  /** What GITHUB_API_URL would be. */
  get apiUrl(): string {
    return `${this.url}${this.basePath}`;
  }

  get graphqlUrl(): string {
    return `${this.url}${this.basePath === '/api/v3' ? '/api/graphql' : '/graphql'}`;
  }

  // ---- test state -------------------------------------------------------------------------

  addUser(login: string, name?: string): void {
    this.users.set(login.toLowerCase(), { login, id: this.nextId++, name: name ?? null });
  }

  addOrg(login: string, opts: { saml?: boolean } = {}): void {
    this.orgs.set(login.toLowerCase(), { login, members: new Set(), teams: new Map(), ...(opts.saml ? { saml: [] } : {}) });
  }

  addOrgMember(org: string, login: string): void {
    this.mustOrg(org).members.add(login.toLowerCase());
  }

  addTeam(org: string, slug: string, name: string): void {
    this.mustOrg(org).teams.set(slug, { id: this.nextId++, slug, name, members: new Map() });
  }

  removeTeam(org: string, slug: string): void {
    this.mustOrg(org).teams.delete(slug);
  }

  /** An active membership made outside the bot (the user joins the organization too). */
  addTeamMember(org: string, slug: string, login: string): void {
    this.addOrgMember(org, login);
    this.mustTeam(org, slug).members.set(login.toLowerCase(), { login: this.users.get(login.toLowerCase())?.login ?? login, state: 'active' });
  }

  /** 'active', 'pending', or undefined when no membership. */
  membership(org: string, slug: string, login: string): State | undefined {
    return this.orgs.get(org.toLowerCase())?.teams.get(slug)?.members.get(login.toLowerCase())?.state;
  }

  /** Active members' logins, in the order added. */
  members(org: string, slug: string): string[] {
    return [...this.mustTeam(org, slug).members.values()].filter((m) => m.state === 'active').map((m) => m.login);
  }

  /** The user accepts the invitation: they join the organization and their pending memberships become active. */
  acceptInvitation(org: string, login: string): void {
    const o = this.mustOrg(org);
    o.members.add(login.toLowerCase());
    for (const t of o.teams.values()) {
      const m = t.members.get(login.toLowerCase());
      if (m) m.state = 'active';
    }
  }

  /** The user declines (or the invitation expires): their pending memberships are gone. */
  declineInvitation(org: string, login: string): void {
    for (const t of this.mustOrg(org).teams.values()) {
      if (t.members.get(login.toLowerCase())?.state === 'pending') t.members.delete(login.toLowerCase());
    }
  }

  /** A SAML identity (NameID, usually the email) linked to a login (null: not linked yet). */
  addSamlIdentity(org: string, identity: { nameId: string; login: string | null; scimEmails?: string[] }): void {
    const o = this.mustOrg(org);
    if (!o.saml) throw new Error(`github emulator: ${org} has no SAML`);
    o.saml.push(identity);
  }

  /** Every installation token issued so far stops working (the next call gets 401). */
  invalidateTokens(): void {
    this.installationTokens.clear();
  }

  /** The next `times` matching calls: 403 over the primary limit, remaining 0, reset at `resetAt` (epoch seconds). */
  primaryRateLimit(times: number, opts: { resetAt: number; path?: string | RegExp; method?: string }): () => void {
    return this.inject({
      times,
      status: 403,
      path: opts.path,
      method: opts.method,
      headers: { ...this.rateHeaders(0, opts.resetAt), 'content-type': JSON_TYPE },
      body: {
        message: `API rate limit exceeded for installation ID ${this.installationId}. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.`,
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
      },
    });
  }

  /** The next `times` matching calls: a secondary rate limit (403 by default) with `retry-after`. */
  secondaryRateLimit(times: number, opts: { retryAfterSec: number; status?: 403 | 429; path?: string | RegExp; method?: string }): () => void {
    return this.inject({
      times,
      status: opts.status ?? 403,
      path: opts.path,
      method: opts.method,
      headers: { ...this.rateHeaders(HOURLY_LIMIT - 1, Math.ceil(this.now() / 1000) + 3600), 'retry-after': String(opts.retryAfterSec), 'content-type': JSON_TYPE },
      body: {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.',
        documentation_url: 'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      },
    });
  }

  /** Rate-limit answers sent (primary or secondary). */
  get rateLimited(): number {
    return this.calls.filter((c) => (c.status === 403 || c.status === 429) && /rate limit/i.test(JSON.stringify(c.response ?? ''))).length;
  }

  // ---- routes -----------------------------------------------------------------------------

  private installRoutes(): void {
    const b = this.basePath;
    this.route('POST', `${b}/app/installations/:id/access_tokens`, (req) => this.accessToken(req));
    const api = (method: string, pattern: string, h: Handler): void => {
      this.route(method, `${b}${pattern}`, (req) => this.guard(req, h));
    };
    api('GET', '/rate_limit', () => ({ body: { resources: { core: this.rateJson(), graphql: this.rateJson() }, rate: this.rateJson() } }));
    api('GET', '/users/:username', (req) => {
      const u = this.users.get(req.params.username!.toLowerCase());
      return u ? { body: { login: u.login, id: u.id, type: 'User', site_admin: false, name: u.name } } : notFound();
    });
    api('GET', '/orgs/:org/teams/:slug', (req) => {
      const t = this.team(req);
      return t ? { body: { id: t.id, name: t.name, slug: t.slug, privacy: 'closed', permission: 'pull', members_count: this.activeCount(t) } } : notFound();
    });
    api('GET', '/orgs/:org/teams/:slug/members', (req) => this.listMembers(req));
    api('GET', '/orgs/:org/teams/:slug/memberships/:username', (req) => {
      const t = this.team(req);
      const m = t?.members.get(req.params.username!.toLowerCase());
      return t && m ? { body: this.membershipJson(req, m.state) } : notFound();
    });
    api('PUT', '/orgs/:org/teams/:slug/memberships/:username', (req) => {
      this.addCalls += 1;
      const o = this.orgs.get(req.params.org!.toLowerCase());
      const t = this.team(req);
      const user = this.users.get(req.params.username!.toLowerCase());
      if (!o || !t || !user) return notFound();
      const key = user.login.toLowerCase();
      const existing = t.members.get(key);
      const state: State = existing?.state ?? (o.members.has(key) ? 'active' : 'pending');
      t.members.set(key, { login: user.login, state });
      return { body: this.membershipJson(req, state) };
    });
    api('DELETE', '/orgs/:org/teams/:slug/memberships/:username', (req) => {
      const t = this.team(req);
      if (!t || !t.members.delete(req.params.username!.toLowerCase())) return notFound();
      return { status: 204 };
    });
    this.route('POST', this.basePath === '/api/v3' ? '/api/graphql' : '/graphql', (req) => this.guard(req, (r) => this.graphql(r)));
  }

  private accessToken(req: EmuRequest): EmuResponse {
    const jwt = bearer(req);
    const claims = jwt ? this.verifyJwt(jwt) : undefined;
    if (!claims || claims.iss !== this.appId) return error(401, 'A JSON web token could not be decoded');
    const nowSec = Math.floor(this.now() / 1000);
    if (claims.exp - claims.iat > 600) return error(401, "'Expiration time' claim ('exp') is too far in the future");
    if (claims.exp <= nowSec) return error(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
    if (req.params.id !== this.installationId) return notFound();
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = this.now() + this.tokenLifetimeSec * 1000;
    this.installationTokens.set(token, expiresAt);
    this.tokensIssued += 1;
    return {
      status: 201,
      headers: { 'content-type': JSON_TYPE, date: new Date(this.now()).toUTCString() },
      body: { token, expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'), permissions: { members: 'write' }, repository_selection: 'all' },
    };
  }

  private verifyJwt(jwt: string): { iss: string; iat: number; exp: number } | undefined {
    const [h, p, s] = jwt.split('.');
    if (!h || !p || !s) return undefined;
    try {
      const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
      if (header.alg !== 'RS256' || !verify('RSA-SHA256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(s, 'base64url'))) return undefined;
      const c = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss?: unknown; iat?: unknown; exp?: unknown };
      if (typeof c.iat !== 'number' || typeof c.exp !== 'number' || (typeof c.iss !== 'string' && typeof c.iss !== 'number')) return undefined;
      return { iss: String(c.iss), iat: c.iat, exp: c.exp };
    } catch {
      return undefined;
    }
  }

  /** Credentials, then the primary limit's count, then the handler; every answer carries the rate headers. */
  private async guard(req: EmuRequest, h: Handler): Promise<EmuResponse> {
    const token = bearer(req);
    const expiry = token ? this.installationTokens.get(token) : undefined;
    const valid = token !== undefined && (token === this.token || (expiry !== undefined && expiry > this.now()));
    const nowSec = Math.floor(this.now() / 1000);
    if (this.now() - this.window.start >= 3_600_000) this.window = { start: this.now(), used: 0 };
    const reset = Math.ceil((this.window.start + 3_600_000) / 1000);
    if (!valid) return { ...error(401, 'Bad credentials'), headers: { 'content-type': JSON_TYPE, ...this.rateHeaders(59, nowSec + 3600) } };
    this.window.used += 1;
    const out = await h(req);
    return { ...out, headers: { 'content-type': JSON_TYPE, ...this.rateHeaders(HOURLY_LIMIT - this.window.used, reset), ...(out.headers ?? {}) } };
  }

  private listMembers(req: EmuRequest): EmuResponse {
    const t = this.team(req);
    if (!t) return notFound();
    const perPage = Math.min(100, Number(req.query.get('per_page') ?? 30) || 30);
    const page = Math.max(1, Number(req.query.get('page') ?? 1) || 1);
    const all = [...t.members.values()].filter((m) => m.state === 'active');
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const headers: Record<string, string> = {};
    if (page < last) {
      const link = (n: number): string => `${this.origin(req)}${req.path}?per_page=${perPage}&page=${n}`;
      headers.link = `<${link(page + 1)}>; rel="next", <${link(last)}>; rel="last"`;
    }
    return { headers, body: slice.map((m) => ({ login: m.login, id: this.users.get(m.login.toLowerCase())?.id ?? 0, type: 'User', site_admin: false })) };
  }

  private graphql(req: EmuRequest): EmuResponse {
    const body = (req.body ?? {}) as { query?: unknown; variables?: Record<string, unknown> };
    const query = typeof body.query === 'string' ? body.query : '';
    const vars = body.variables ?? {};
    if (!/samlIdentityProvider/.test(query) || !/externalIdentities\(userName: \$userName/.test(query) || typeof vars.org !== 'string' || typeof vars.userName !== 'string') {
      this.unexpected.push({ method: 'POST', path: `${req.path} (a query this emulator does not model)` });
      return { body: { errors: [{ message: 'emulator: query not modelled' }] } };
    }
    const o = this.orgs.get(vars.org.toLowerCase());
    if (!o) {
      return {
        body: {
          data: { organization: null },
          errors: [{ type: 'NOT_FOUND', path: ['organization'], locations: [{ line: 2, column: 3 }], message: `Could not resolve to an Organization with the login of '${vars.org}'.` }],
        },
      };
    }
    if (!o.saml) return { body: { data: { organization: { samlIdentityProvider: null } } } };
    const wanted = vars.userName.toLowerCase();
    const first = typeof vars.first === 'number' ? vars.first : 100;
    const nodes = o.saml
      .filter((i) => i.nameId.toLowerCase() === wanted)
      .slice(0, first)
      .map((i) => ({
        samlIdentity: { nameId: i.nameId, emails: [{ value: i.nameId }] },
        scimIdentity: i.scimEmails ? { username: i.nameId, emails: i.scimEmails.map((value) => ({ value })) } : null,
        user: i.login ? { login: i.login } : null,
      }));
    return { body: { data: { organization: { samlIdentityProvider: { externalIdentities: { nodes } } } } } };
  }

  private membershipJson(req: EmuRequest, state: State): Record<string, unknown> {
    const t = this.team(req)!;
    return { url: `${this.origin(req)}${this.basePath}/teams/${t.id}/memberships/${req.params.username}`, role: 'member', state };
  }

  private team(req: EmuRequest): Team | undefined {
    return this.orgs.get(req.params.org!.toLowerCase())?.teams.get(req.params.slug!);
  }

  private activeCount(t: Team): number {
    return [...t.members.values()].filter((m) => m.state === 'active').length;
  }

  private mustOrg(org: string): Org {
    const o = this.orgs.get(org.toLowerCase());
    if (!o) throw new Error(`github emulator: no org ${org}`);
    return o;
  }

  private mustTeam(org: string, slug: string): Team {
    const t = this.mustOrg(org).teams.get(slug);
    if (!t) throw new Error(`github emulator: no team ${org}/${slug}`);
    return t;
  }

  private origin(req: EmuRequest): string {
    return `http://${req.headers.host ?? new URL(this.url).host}`;
  }

  private rateHeaders(remaining: number, resetSec: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(HOURLY_LIMIT),
      'x-ratelimit-remaining': String(Math.max(0, remaining)),
      'x-ratelimit-used': String(HOURLY_LIMIT - Math.max(0, remaining)),
      'x-ratelimit-reset': String(resetSec),
      'x-ratelimit-resource': 'core',
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
      date: new Date(this.now()).toUTCString(),
    };
  }

  private rateJson(): Record<string, number> {
    return { limit: HOURLY_LIMIT, used: this.window.used, remaining: HOURLY_LIMIT - this.window.used, reset: Math.ceil((this.window.start + 3_600_000) / 1000) };
  }
}

function bearer(req: EmuRequest): string | undefined {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^(?:Bearer|token)\s+(\S+)$/i.exec(auth) : null;
  return m?.[1];
}

function error(status: number, message: string): EmuResponse {
  return { status, body: { message, documentation_url: DOCS } };
}

function notFound(): EmuResponse {
  return error(404, 'Not Found');
}
