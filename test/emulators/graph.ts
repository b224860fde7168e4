/**
 * A local Microsoft Graph (v1.0, the users and groups slice) with its Microsoft identity
 * platform token endpoint, for the Entra connector and integration tests.
 *
 * What it models, and where it comes from (where a detail could not be confirmed it says so):
 * - Token: POST /{tenant}/oauth2/v2.0/token, form `client_id`, `client_secret`,
 *   `scope=https://graph.microsoft.com/.default`, `grant_type=client_credentials`; answers
 *   `{token_type: "Bearer", expires_in, ext_expires_in, access_token}`
 *   (https://learn.microsoft.com/graph/auth-v2-service). Errors are `{error, error_description,
 *   error_codes, timestamp, trace_id, correlation_id, error_uri}` with AADSTS codes
 *   (https://learn.microsoft.com/entra/identity-platform/reference-error-codes): unknown tenant
 *   400 invalid_request AADSTS90002; unknown client 400 unauthorized_client AADSTS700016; wrong
 *   secret 401 invalid_client AADSTS7000215 ("Invalid client secret provided. Ensure the secret
 *   being sent in the request is the client secret value, not the client secret ID…"); a scope
 *   without `/.default` 400 invalid_scope AADSTS1002012 (message as quoted by MSAL users);
 *   another grant type 400 unsupported_grant_type AADSTS70003 (code not verified).
 * - Access tokens are opaque here (real ones are JWTs); a missing, unknown or expired one gets
 *   401 `InvalidAuthenticationToken` ("Access token is empty." / "Access token has expired or is
 *   not yet valid." are the texts clients report; "Access token validation failure." for others).
 * - Errors: `{"error": {"code", "message", "innerError": {"date", "request-id",
 *   "client-request-id"}}}` (https://learn.microsoft.com/graph/errors); a missing object is 404
 *   `Request_ResourceNotFound` "Resource '<id>' does not exist or one of its queried
 *   reference-property objects are not present.".
 * - Users: GET /v1.0/users/{id | userPrincipalName} (case-insensitive UPN), GET /v1.0/users with
 *   `$filter=mail eq '…'` or `userPrincipalName eq '…'` (values compared without case, `''` is a
 *   quote), `$select`, `$top`; GET /v1.0/users/{id}/memberOf (direct only, "This operation isn't
 *   transitive"; default page 100, max 999, `@odata.nextLink` with `$skiptoken`,
 *   https://learn.microsoft.com/graph/api/user-list-memberof); GET /v1.0/users/{id}/manager, 404
 *   "Resource 'manager' does not exist…" when none is set (microsoftgraph/aspnet-snippets-sample#6).
 * - Groups: GET /v1.0/groups/{id}; GET /v1.0/groups/{id}/members; POST
 *   /v1.0/groups/{id}/members/$ref with `{"@odata.id": ".../directoryObjects/{id}"}` → 204, 400
 *   `Request_BadRequest` "One or more added object references already exist for the following
 *   modified properties: 'members'." when already a member, 404 when the group or the object is
 *   missing (https://learn.microsoft.com/graph/api/group-post-members); DELETE
 *   /v1.0/groups/{id}/members/{id}/$ref → 204, 404 when not a member. The 404 for "not a member"
 *   names the GROUP id here, as reported in microsoftgraph/microsoft-graph-docs#9191, so a client
 *   cannot tell it from a missing group by the message alone (what Graph names exactly in each
 *   case is not documented).
 * - Throttling: 429 with `Retry-After` (seconds) and code `TooManyRequests`
 *   (https://learn.microsoft.com/graph/throttling; the body text of the directory's own throttle
 *   is not documented, the one here is the shape seen in Q&A threads); 503 `serviceNotAvailable`.
 * - Answers carry `request-id` / `client-request-id` headers and Graph's JSON content type.
 *
 * - Sign-in activity: `signInActivity` (`lastSignInDateTime`, `lastNonInteractiveSignInDateTime`,
 *   `lastSuccessfulSignInDateTime`, each with its request id) is sent only when `$select` names
 *   it (https://learn.microsoft.com/graph/api/user-list, "get users including their last sign-in
 *   time"), and only in a tenant with an Entra ID P1/P2 licence: otherwise 403
 *   `Authentication_RequestFromNonPremiumTenantOrB2CTenant` "Neither tenant is B2C or tenant
 *   doesn't have premium license" (microsoftgraph/microsoft-graph-docs#12772, #14118;
 *   `premium: false` here). A user who never signed in has no signInActivity (null).
 *   `accountEnabled: false` is a disabled account (sign-in blocked).
 *
 * Test helpers: users (with a manager), groups and memberships are set directly; counters for
 * token requests and membership writes; `throttle()` injects 429/503 answers; tokens can be
 * given a short life or revoked.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse, type Handler } from './base.js';

export interface GraphUserInput {
  id?: string;
  userPrincipalName: string;
  mail?: string | null;
  displayName?: string;
  /** Object id of the user's manager. */
  managerId?: string;
  accountEnabled?: boolean;
}

export interface GraphUserRecord {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  displayName: string;
  managerId?: string;
  accountEnabled: boolean;
  /** Epoch ms of the last successful sign-in; absent: never signed in. */
  lastSignIn?: number;
}

export interface GraphGroupRecord {
  id: string;
  displayName: string;
  members: Set<string>;
}

export interface GraphEmulatorOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** `expires_in` of issued tokens, seconds. Default 3599. */
  tokenLifetimeSec?: number;
  /** Cap on page sizes (Graph's own cap is 999), to exercise paging with few objects. */
  maxPageSize?: number;
  now?: () => number;
}

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export class GraphEmulator extends EmulatorServer {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  tokenLifetimeSec: number;
  maxPageSize: number;
  /** Token requests answered (successful or not). */
  tokenRequests = 0;
  /** Tokens issued. */
  tokensIssued = 0;
  /** POST /groups/{id}/members/$ref calls that reached the directory (token accepted). */
  addCalls = 0;
  /** DELETE /groups/{id}/members/{id}/$ref calls that reached the directory. */
  removeCalls = 0;

  private readonly now: () => number;
  private readonly tokens = new Map<string, number>();
  private readonly users = new Map<string, GraphUserRecord>();
  private readonly groups = new Map<string, GraphGroupRecord>();

  constructor(opts: GraphEmulatorOptions = {}) {
    super('graph');
    this.tenantId = opts.tenantId ?? '11111111-2222-4333-8444-555555555555';
    this.clientId = opts.clientId ?? 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    this.clientSecret = opts.clientSecret ?? 'graph-emulator-secret~0123456789';
    this.tokenLifetimeSec = opts.tokenLifetimeSec ?? 3599;
    this.maxPageSize = opts.maxPageSize ?? 999;
    this.now = opts.now ?? Date.now;
    this.installRoutes();
  }

  /** The token endpoint for this emulator's tenant (what GRAPH_TOKEN_URL would be). */
  get tokenUrl(): string {
    return `${this.url}/${this.tenantId}/oauth2/v2.0/token`;
  }

  // ---- test state -------------------------------------------------------------------------

  addUser(input: GraphUserInput): GraphUserRecord {
    const id = input.id ?? randomUUID();
    if (this.users.has(id)) throw new Error(`graph emulator: user ${id} exists`);
    if (this.byUpn(input.userPrincipalName)) throw new Error(`graph emulator: UPN ${input.userPrincipalName} is taken`);
    const u: GraphUserRecord = {
      id,
      userPrincipalName: input.userPrincipalName,
      mail: input.mail === undefined ? input.userPrincipalName : input.mail,
      displayName: input.displayName ?? input.userPrincipalName.split('@')[0]!,
      accountEnabled: input.accountEnabled ?? true,
    };
    if (input.managerId) u.managerId = input.managerId;
    this.users.set(id, u);
    return u;
  }

  user(id: string): GraphUserRecord | undefined {
    return this.users.get(id);
  }

  /** Whether the tenant has an Entra ID P1/P2 licence (sign-in activity is readable). Default true. */
  premium = true;

  /** The user signed in at `at` (epoch ms). */
  setLastSignIn(userId: string, at: number): void {
    this.mustUser(userId).lastSignIn = at;
  }

  /** Blocks (or unblocks) sign-in, as an admin disabling the account. */
  setAccountEnabled(userId: string, enabled: boolean): void {
    this.mustUser(userId).accountEnabled = enabled;
  }

  setManager(userId: string, managerId: string | undefined): void {
    const u = this.mustUser(userId);
    if (managerId === undefined) delete u.managerId;
    else u.managerId = managerId;
  }

  removeUser(id: string): void {
    this.users.delete(id);
    for (const g of this.groups.values()) g.members.delete(id);
  }

  addGroup(input: { id?: string; displayName: string }): GraphGroupRecord {
    const g: GraphGroupRecord = { id: input.id ?? randomUUID(), displayName: input.displayName, members: new Set() };
    if (this.groups.has(g.id)) throw new Error(`graph emulator: group ${g.id} exists`);
    this.groups.set(g.id, g);
    return g;
  }

  removeGroup(id: string): void {
    this.groups.delete(id);
  }

  addMember(groupId: string, userId: string): void {
    this.mustGroup(groupId).members.add(userId);
  }

  /** Member object ids, in the order they were added. */
  members(groupId: string): string[] {
    return [...this.mustGroup(groupId).members];
  }

  isMember(groupId: string, userId: string): boolean {
    return this.groups.get(groupId)?.members.has(userId) ?? false;
  }

  /** Every token issued so far stops working (as after a revocation): the next call gets 401. */
  invalidateTokens(): void {
    this.tokens.clear();
  }

  /**
   * The next `times` matching calls answer `status` (429 by default) with `Retry-After` and
   * Graph's error body, before auth or routing (as a gateway throttle would).
   */
  throttle(times: number, opts: { retryAfterSec?: number; status?: 429 | 503 | 504; path?: string | RegExp; method?: string } = {}): () => void {
    const status = opts.status ?? 429;
    const headers: Record<string, string> = { 'content-type': JSON_TYPE, ...this.requestIds() };
    if (opts.retryAfterSec !== undefined) headers['Retry-After'] = String(opts.retryAfterSec);
    const body =
      status === 429
        ? graphError('TooManyRequests', `Too many requests from Identifier:${this.tenantId}+${this.clientId} under category:throttle.aad.ags.groups. Please try again later.`)
        : graphError('serviceNotAvailable', 'Service unavailable. Please try again later.');
    return this.inject({ times, status, headers, body: body.body, path: opts.path, method: opts.method });
  }

  // ---- routes -----------------------------------------------------------------------------

  private installRoutes(): void {
    this.route('POST', '/:tenant/oauth2/v2.0/token', (req) => this.token(req));
    const api = (method: string, pattern: string, h: Handler): void => {
      this.route(method, pattern, (req) => this.guard(req, h));
    };
    api('GET', '/v1.0/users', (req) => this.listUsers(req));
    api('GET', '/v1.0/users/:key', (req) => {
      const u = this.lookupUser(req.params.key!);
      if (!u) return notFound(req.params.key!);
      const wantsSignIns = (req.query.get('$select') ?? '').split(',').some((f) => f.trim() === 'signInActivity');
      if (!wantsSignIns) return ok(select(req, this.userJson(u)));
      if (!this.premium) return graphError('Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license", 403);
      return ok(select(req, { ...this.userJson(u), signInActivity: signInActivity(u) }));
    });
    api('GET', '/v1.0/users/:key/memberOf', (req) => {
      const u = this.lookupUser(req.params.key!);
      if (!u) return notFound(req.params.key!);
      const groups = [...this.groups.values()].filter((g) => g.members.has(u.id));
      return this.page(req, groups.map((g) => select(req, { '@odata.type': '#microsoft.graph.group', ...this.groupJson(g) })), 100);
    });
    api('GET', '/v1.0/users/:key/manager', (req) => {
      const u = this.lookupUser(req.params.key!);
      if (!u) return notFound(req.params.key!);
      const m = u.managerId ? this.users.get(u.managerId) : undefined;
      return m ? ok(select(req, { '@odata.type': '#microsoft.graph.user', ...this.userJson(m) })) : notFound('manager');
    });
    api('GET', '/v1.0/groups/:id', (req) => {
      const g = this.groups.get(req.params.id!);
      return g ? ok(select(req, this.groupJson(g))) : notFound(req.params.id!);
    });
    api('GET', '/v1.0/groups/:id/members', (req) => {
      const g = this.groups.get(req.params.id!);
      if (!g) return notFound(req.params.id!);
      const members = [...g.members].map((id) => this.users.get(id)).filter((u): u is GraphUserRecord => u !== undefined);
      return this.page(req, members.map((u) => select(req, { '@odata.type': '#microsoft.graph.user', ...this.userJson(u) })), 100);
    });
    api('POST', '/v1.0/groups/:id/members/$ref', (req) => {
      this.addCalls += 1;
      const g = this.groups.get(req.params.id!);
      if (!g) return notFound(req.params.id!);
      const ref = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>)['@odata.id'] : undefined;
      const m = typeof ref === 'string' ? /\/(?:directoryObjects|users)\/([^/?#]+)$/.exec(ref) : null;
      // Text not verified; Graph refuses a body without a usable @odata.id with 400 Request_BadRequest.
      if (!m) return graphError('Request_BadRequest', "Unsupported referenced-object resource identifier for link property 'members'.", 400);
      const memberId = decodeURIComponent(m[1]!);
      if (!this.users.has(memberId)) return notFound(memberId);
      if (g.members.has(memberId)) {
        return graphError('Request_BadRequest', "One or more added object references already exist for the following modified properties: 'members'.", 400);
      }
      g.members.add(memberId);
      return { status: 204 };
    });
    api('DELETE', '/v1.0/groups/:id/members/:member/$ref', (req) => {
      this.removeCalls += 1;
      const g = this.groups.get(req.params.id!);
      if (!g) return notFound(req.params.id!);
      // Names the group, as observed (see the header), not the member.
      if (!g.members.delete(req.params.member!)) return notFound(g.id);
      return { status: 204 };
    });
  }

  /** POST /{tenant}/oauth2/v2.0/token (client credentials). */
  private token(req: EmuRequest): EmuResponse {
    this.tokenRequests += 1;
    const form = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, string>;
    const tenant = req.params.tenant!;
    if (tenant !== this.tenantId) {
      return aadError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    if (form.grant_type !== 'client_credentials') {
      return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (form.client_id !== this.clientId) {
      return aadError(400, 'unauthorized_client', 700016, `Application with identifier '${form.client_id ?? ''}' was not found in the directory '${this.tenantId}'.`);
    }
    if (form.client_secret !== this.clientSecret) {
      return aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.clientId}'.`,
      );
    }
    if (form.scope !== GRAPH_SCOPE) {
      return aadError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${form.scope ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const token = `eyJ0eXAiOiJKV1QiLCJlbXUiOiJncmFwaCJ9.${randomBytes(24).toString('base64url')}.emu`;
    this.tokens.set(token, this.now() + this.tokenLifetimeSec * 1000);
    this.tokensIssued += 1;
    return {
      headers: { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
      body: { token_type: 'Bearer', expires_in: this.tokenLifetimeSec, ext_expires_in: this.tokenLifetimeSec, access_token: token },
    };
  }

  /** Token check, then the handler; every answer carries Graph's request ids and content type. */
  private async guard(req: EmuRequest, h: Handler): Promise<EmuResponse> {
    const ids = this.requestIds();
    const auth = req.headers.authorization;
    const token = typeof auth === 'string' && /^Bearer /i.test(auth) ? auth.slice(7).trim() : '';
    let problem: string | undefined;
    if (!token) problem = 'Access token is empty.';
    else if (!this.tokens.has(token)) problem = 'Access token validation failure.';
    else if (this.tokens.get(token)! <= this.now()) problem = 'Access token has expired or is not yet valid.';
    if (problem) {
      const e = graphError('InvalidAuthenticationToken', problem, 401);
      return { ...e, headers: { ...ids, 'content-type': JSON_TYPE, 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' } };
    }
    const out = await h(req);
    const headers: Record<string, string> = { ...ids, ...(out.headers ?? {}) };
    if (out.body !== undefined && typeof out.body !== 'string') headers['content-type'] ??= JSON_TYPE;
    return { ...out, headers };
  }

  private listUsers(req: EmuRequest): EmuResponse {
    const filter = req.query.get('$filter');
    let users = [...this.users.values()];
    if (filter !== null) {
      const m = /^\s*(mail|userPrincipalName)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
      if (!m) return graphError('Request_UnsupportedQuery', 'Unsupported or invalid query filter clause specified for property.', 400);
      const prop = m[1]!.toLowerCase() === 'mail' ? 'mail' : 'userPrincipalName';
      const value = m[2]!.replace(/''/g, "'").toLowerCase();
      users = users.filter((u) => (u[prop] ?? '').toLowerCase() === value);
    }
    return this.page(req, users.map((u) => select(req, this.userJson(u))), 100);
  }

  /** `$top` (default `defaultTop`, at most 999 and `maxPageSize`), `$skiptoken` an opaque offset. */
  private page(req: EmuRequest, all: unknown[], defaultTop: number): EmuResponse {
    const topRaw = req.query.get('$top');
    const top = topRaw === null ? defaultTop : Number(topRaw);
    if (!Number.isInteger(top) || top < 1 || top > 999) return graphError('Request_BadRequest', `Invalid page size specified: '${topRaw ?? ''}'. Must be between 1 and 999 inclusive.`, 400);
    const size = Math.min(top, this.maxPageSize);
    const skipRaw = req.query.get('$skiptoken');
    const from = skipRaw ? Number(Buffer.from(skipRaw, 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(from) || from < 0) return graphError('Request_BadRequest', 'Invalid $skiptoken.', 400);
    const slice = all.slice(from, from + size);
    const body: Record<string, unknown> = { '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#directoryObjects`, value: slice };
    if (from + size < all.length) {
      const next = new URL(`${this.origin(req)}${req.path}`);
      for (const [k, v] of req.query) if (k !== '$skiptoken') next.searchParams.set(k, v);
      next.searchParams.set('$skiptoken', Buffer.from(String(from + size)).toString('base64url'));
      body['@odata.nextLink'] = next.href;
    }
    return ok(body);
  }

  private lookupUser(key: string): GraphUserRecord | undefined {
    return this.users.get(key) ?? this.byUpn(key);
  }

  private byUpn(upn: string): GraphUserRecord | undefined {
    const l = upn.toLowerCase();
    for (const u of this.users.values()) if (u.userPrincipalName.toLowerCase() === l) return u;
    return undefined;
  }

  private mustUser(id: string): GraphUserRecord {
    const u = this.users.get(id);
    if (!u) throw new Error(`graph emulator: no user ${id}`);
    return u;
  }

  private mustGroup(id: string): GraphGroupRecord {
    const g = this.groups.get(id);
    if (!g) throw new Error(`graph emulator: no group ${id}`);
    return g;
  }

  private origin(req: EmuRequest): string {
    return `http://${req.headers.host ?? new URL(this.url).host}`;
  }

  private requestIds(): Record<string, string> {
    const id = randomUUID();
    return { 'request-id': id, 'client-request-id': id };
  }

  private userJson(u: GraphUserRecord): Record<string, unknown> {
    return {
      id: u.id,
      businessPhones: [],
      displayName: u.displayName,
      givenName: null,
      jobTitle: null,
      mail: u.mail,
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: null,
      surname: null,
      userPrincipalName: u.userPrincipalName,
      accountEnabled: u.accountEnabled,
    };
  }

  private groupJson(g: GraphGroupRecord): Record<string, unknown> {
    return {
      id: g.id,
      displayName: g.displayName,
      description: null,
      groupTypes: [],
      mailEnabled: false,
      securityEnabled: true,
      mail: null,
    };
  }
}

// ---- helpers --------------------------------------------------------------------------------

/** The signInActivity resource: null for a user who never signed in. */
function signInActivity(u: GraphUserRecord): Record<string, unknown> | null {
  if (u.lastSignIn === undefined) return null;
  const at = new Date(u.lastSignIn).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    lastSignInDateTime: at,
    lastSignInRequestId: randomUUID(),
    lastNonInteractiveSignInDateTime: at,
    lastNonInteractiveSignInRequestId: randomUUID(),
    lastSuccessfulSignInDateTime: at,
    lastSuccessfulSignInRequestId: randomUUID(),
  };
}

function ok(body: unknown): EmuResponse {
  return { status: 200, body };
}

/** `$select=a,b` keeps those properties (and `@odata.type`); without it everything is sent. */
function select(req: EmuRequest, obj: Record<string, unknown>): Record<string, unknown> {
  const raw = req.query.get('$select');
  if (!raw) return obj;
  const keep = new Set(raw.split(',').map((s) => s.trim()));
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keep.has(k) || k === '@odata.type'));
}

function graphError(code: string, message: string, status = 500): EmuResponse & { body: unknown } {
  const date = new Date().toISOString().slice(0, 19);
  const id = randomUUID();
  return { status, body: { error: { code, message, innerError: { date, 'request-id': id, 'client-request-id': id } } } };
}

function notFound(id: string): EmuResponse {
  return graphError('Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`, 404);
}

function aadError(status: number, error: string, code: number, text: string): EmuResponse {
  const trace = randomUUID();
  const correlation = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: trace,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}
