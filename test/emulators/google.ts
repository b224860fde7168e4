/**
 * A local Google Workspace Admin SDK Directory API (users, groups, members) with Google's OAuth 2.0
 * token endpoint for service accounts, for the Google connector and integration tests.
 *
 * What it models, and where it comes from (where a detail could not be confirmed it says so):
 * - Token: POST /token, form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and
 *   `assertion`, a JWT signed RS256 with the service account's key, claims `iss` (client_email),
 *   `sub` (the admin impersonated), `scope` (space-separated), `aud` (the token URL), `iat`, `exp`
 *   (https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests).
 *   The signature is VERIFIED against the public half of a key pair generated at start-up
 *   (`serviceAccountJson()` hands tests the private half). Answers `{access_token, expires_in,
 *   token_type: "Bearer"}`. Errors `{error, error_description}`: bad signature or unknown issuer
 *   400 invalid_grant "Invalid JWT Signature."; `iat`/`exp` out of range 400 invalid_grant
 *   "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.
 *   Check your iat and exp values in the JWT claim."; wrong audience 400 invalid_grant
 *   "Invalid JWT: Failed audience check." (text not verified); unknown `sub` 400 invalid_grant
 *   "Invalid email or User ID"; a scope not delegated 401 unauthorized_client "Client is
 *   unauthorized to retrieve access tokens using this method, or client not authorized for any
 *   of the scopes requested." (googleapis/google-api-php-client#2214 and the many reports of the
 *   same texts); another grant type 400 unsupported_grant_type.
 * - API auth: `Authorization: Bearer`; missing/unknown/expired 401 UNAUTHENTICATED
 *   (reason authError); a token whose scopes do not cover the method 403 PERMISSION_DENIED
 *   "Request had insufficient authentication scopes." (reason insufficientPermissions). The
 *   scopes each method accepts are the "Authorization scopes" of its reference page.
 * - Errors: `{"error": {"code", "message", "errors": [{"message", "domain": "global", "reason"}],
 *   "status"}}`. users.get of an unknown user 404 "Resource Not Found: userKey"; groups of an
 *   unknown group 404 "Resource Not Found: groupKey"; members.delete/get of a non-member 404
 *   "Resource Not Found: memberKey" (googleapis/google-api-nodejs-client#166); members.insert
 *   of a member 409 "Member already exists." reason duplicate (lithnet/googleapps-managementagent#9);
 *   members.insert of an unknown user of the domain 404 "Resource Not Found: memberKey" (not
 *   verified); hasMember of an unknown user 400 "Invalid Input: memberKey"
 *   (googleapis/google-api-python-client#1754).
 * - Rate limits: 403 with reason userRateLimitExceeded / quotaExceeded, or 429 rateLimitExceeded
 *   RESOURCE_EXHAUSTED (https://developers.google.com/admin-sdk/directory/v1/limits).
 * - Paths under /admin/directory/v1: users/{userKey}; groups/{groupKey};
 *   groups/{groupKey}/members; groups/{groupKey}/members/{memberKey};
 *   groups/{groupKey}/hasMember/{memberKey}. Keys are an email, an alias or the id. members.delete
 *   answers 204 with no body. `fields` is honoured for top-level fields. No nested groups.
 *
 * - users.get also carries `lastLoginTime` ("1970-01-01T00:00:00.000Z" for a user who never signed
 *   in: GAM-team/GAM#488, doitintl/DoiT-AdminPulse-for-Workspace#9), `suspended` (with
 *   `suspensionReason` when suspended, e.g. ADMIN) and `archived` (the User resource,
 *   https://developers.google.com/admin-sdk/directory/reference/rest/v1/users).
 *
 * Test helpers: users (with a manager relation), groups and memberships set directly; counters
 * for token requests and membership writes; `rateLimit()` injects rate-limit answers; tokens can
 * be given a short life or revoked.
 */
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse, type Handler } from './base.js';

export const SCOPE = {
  groupMember: 'https://www.googleapis.com/auth/admin.directory.group.member',
  groupMemberReadonly: 'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
  group: 'https://www.googleapis.com/auth/admin.directory.group',
  groupReadonly: 'https://www.googleapis.com/auth/admin.directory.group.readonly',
  user: 'https://www.googleapis.com/auth/admin.directory.user',
  userReadonly: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
} as const;

export interface GoogleUserInput {
  primaryEmail: string;
  id?: string;
  givenName?: string;
  familyName?: string;
  aliases?: string[];
  /** The manager's email, stored as a `relations` entry of type `manager`. */
  manager?: string;
  suspended?: boolean;
}

export interface GoogleUserRecord {
  id: string;
  primaryEmail: string;
  givenName: string;
  familyName: string;
  aliases: string[];
  relations: { type: string; value: string; customType?: string }[];
  suspended: boolean;
  /** Why, when suspended (ADMIN, ABUSE, …). */
  suspensionReason?: string;
  archived: boolean;
  /** Epoch ms of the last sign-in; 0: never. */
  lastLoginTime: number;
  isAdmin: boolean;
}

export interface GoogleGroupRecord {
  id: string;
  email: string;
  name: string;
  aliases: string[];
  /** Member user ids, in the order they were added. */
  members: Set<string>;
}

export interface GoogleDirectoryEmulatorOptions {
  domain?: string;
  /** The service account's client_email. */
  clientEmail?: string;
  /** Admins that may be impersonated (`sub`); created as users. Default admin@<domain>. */
  admins?: string[];
  /** Scopes delegated to the service account (domain-wide delegation). */
  delegatedScopes?: string[];
  /** `expires_in` of issued tokens, seconds. Default 3599. */
  tokenLifetimeSec?: number;
  now?: () => number;
}

interface TokenRecord {
  expiresAt: number;
  scopes: Set<string>;
  sub: string;
}

const DEFAULT_DELEGATED = [SCOPE.groupMember, SCOPE.userReadonly, SCOPE.groupReadonly];

export class GoogleDirectoryEmulator extends EmulatorServer {
  readonly domain: string;
  readonly clientEmail: string;
  readonly privateKeyId: string;
  readonly privateKeyPem: string;
  delegatedScopes: Set<string>;
  tokenLifetimeSec: number;
  /** Token requests answered (successful or not). */
  tokenRequests = 0;
  tokensIssued = 0;
  /** members.insert calls that reached the directory (token and scopes accepted). */
  insertCalls = 0;
  /** members.delete calls that reached the directory. */
  deleteCalls = 0;

  private readonly publicKey: KeyObject;
  private readonly now: () => number;
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly users = new Map<string, GoogleUserRecord>();
  private readonly groups = new Map<string, GoogleGroupRecord>();
  private nextId = 100000000000000000000n;

  constructor(opts: GoogleDirectoryEmulatorOptions = {}) {
    super('google');
    this.domain = opts.domain ?? 'example.com';
    this.clientEmail = opts.clientEmail ?? 'access-bot@emulated-project.iam.gserviceaccount.com';
    this.delegatedScopes = new Set(opts.delegatedScopes ?? DEFAULT_DELEGATED);
    this.tokenLifetimeSec = opts.tokenLifetimeSec ?? 3599;
    this.now = opts.now ?? Date.now;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.publicKey = publicKey;
    this.privateKeyId = randomBytes(20).toString('hex');
    for (const a of opts.admins ?? [`admin@${this.domain}`]) {
      const u = this.addUser({ primaryEmail: a, givenName: 'Workspace', familyName: 'Admin' });
      u.isAdmin = true;
    }
    this.installRoutes();
  }

  /** The token endpoint (what GOOGLE_TOKEN_URL would be). */
  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  /** The root URL for the Directory client (what GOOGLE_ROOT_URL would be). */
  get rootUrl(): string {
    return `${this.url}/`;
  }

  /** A service account key file's content, as Google Cloud issues it, for this emulator. */
  serviceAccountJson(): string {
    return JSON.stringify(
      {
        type: 'service_account',
        project_id: 'emulated-project',
        private_key_id: this.privateKeyId,
        private_key: this.privateKeyPem,
        client_email: this.clientEmail,
        client_id: '100000000000000000001',
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: this.url ? this.tokenUrl : 'https://oauth2.googleapis.com/token',
        auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
        client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(this.clientEmail)}`,
        universe_domain: 'googleapis.com',
      },
      null,
      2,
    );
  }

  // ---- test state -------------------------------------------------------------------------

  addUser(input: GoogleUserInput): GoogleUserRecord {
    if (this.userByKey(input.primaryEmail)) throw new Error(`google emulator: ${input.primaryEmail} exists`);
    const u: GoogleUserRecord = {
      id: input.id ?? this.newId(),
      primaryEmail: input.primaryEmail,
      givenName: input.givenName ?? input.primaryEmail.split('@')[0]!,
      familyName: input.familyName ?? 'User',
      aliases: input.aliases ?? [],
      relations: input.manager ? [{ type: 'manager', value: input.manager }] : [],
      suspended: input.suspended ?? false,
      archived: false,
      lastLoginTime: 0,
      isAdmin: false,
    };
    this.users.set(u.id, u);
    return u;
  }

  user(key: string): GoogleUserRecord | undefined {
    return this.userByKey(key);
  }

  /** The user signed in at `at` (epoch ms). */
  setLastLogin(key: string, at: number): void {
    this.mustUserByKey(key).lastLoginTime = at;
  }

  /** Suspends the user as an admin would (suspensionReason ADMIN), or lifts it. */
  setSuspended(key: string, suspended: boolean): void {
    const u = this.mustUserByKey(key);
    u.suspended = suspended;
    if (suspended) u.suspensionReason = 'ADMIN';
    else delete u.suspensionReason;
  }

  private mustUserByKey(key: string): GoogleUserRecord {
    const u = this.userByKey(key);
    if (!u) throw new Error(`google emulator: no user ${key}`);
    return u;
  }

  setManager(userKey: string, managerEmail: string | undefined): void {
    const u = this.userByKey(userKey);
    if (!u) throw new Error(`google emulator: no user ${userKey}`);
    u.relations = u.relations.filter((r) => r.type !== 'manager');
    if (managerEmail) u.relations.push({ type: 'manager', value: managerEmail });
  }

  addGroup(input: { email: string; name?: string; id?: string; aliases?: string[] }): GoogleGroupRecord {
    if (this.groupByKey(input.email)) throw new Error(`google emulator: group ${input.email} exists`);
    const g: GoogleGroupRecord = { id: input.id ?? this.newId(16), email: input.email, name: input.name ?? input.email.split('@')[0]!, aliases: input.aliases ?? [], members: new Set() };
    this.groups.set(g.id, g);
    return g;
  }

  removeGroup(key: string): void {
    const g = this.groupByKey(key);
    if (g) this.groups.delete(g.id);
  }

  addMember(groupKey: string, userKey: string): void {
    const g = this.groupByKey(groupKey);
    const u = this.userByKey(userKey);
    if (!g || !u) throw new Error(`google emulator: no group ${groupKey} or user ${userKey}`);
    g.members.add(u.id);
  }

  /** Primary emails of the group's members, in the order they were added. */
  members(groupKey: string): string[] {
    const g = this.groupByKey(groupKey);
    if (!g) throw new Error(`google emulator: no group ${groupKey}`);
    return [...g.members].map((id) => this.users.get(id)?.primaryEmail ?? id);
  }

  isMember(groupKey: string, userKey: string): boolean {
    const g = this.groupByKey(groupKey);
    const u = this.userByKey(userKey);
    return !!g && !!u && g.members.has(u.id);
  }

  /** Every token issued so far stops working: the next call gets 401. */
  invalidateTokens(): void {
    this.tokens.clear();
  }

  /**
   * The next `times` matching calls answer a rate limit, before auth: `kind` 'user' is 403
   * userRateLimitExceeded, 'quota' 403 quotaExceeded, '429' 429 rateLimitExceeded.
   */
  rateLimit(times: number, opts: { kind?: 'user' | 'quota' | '429'; path?: string | RegExp; method?: string; retryAfterSec?: number } = {}): () => void {
    const kind = opts.kind ?? 'user';
    const headers: Record<string, string> = {};
    if (opts.retryAfterSec !== undefined) headers['Retry-After'] = String(opts.retryAfterSec);
    const e =
      kind === '429'
        ? googleError(
            429,
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com' for consumer 'project_number:100000000000'.",
            'rateLimitExceeded',
            'RESOURCE_EXHAUSTED',
          )
        : kind === 'quota'
          ? googleError(403, 'Quota exceeded for concurrent requests.', 'quotaExceeded', 'PERMISSION_DENIED')
          : googleError(403, 'User Rate Limit Exceeded', 'userRateLimitExceeded', 'PERMISSION_DENIED');
    return this.inject({ times, status: e.status, headers, body: e.body, path: opts.path, method: opts.method });
  }

  // ---- routes -----------------------------------------------------------------------------

  private installRoutes(): void {
    this.route('POST', '/token', (req) => this.token(req));
    const base = '/admin/directory/v1';
    const api = (method: string, pattern: string, scopes: string[], h: Handler): void => {
      this.route(method, `${base}${pattern}`, (req) => this.guard(req, scopes, h));
    };
    const readUsers = [SCOPE.user, SCOPE.userReadonly];
    const readGroups = [SCOPE.group, SCOPE.groupReadonly];
    const readMembers = [SCOPE.group, SCOPE.groupReadonly, SCOPE.groupMember, SCOPE.groupMemberReadonly];
    const writeMembers = [SCOPE.group, SCOPE.groupMember];

    api('GET', '/users/:userKey', readUsers, (req) => {
      const u = this.userByKey(req.params.userKey!);
      return u ? { body: fields(req, this.userJson(u)) } : notFound('userKey');
    });
    api('GET', '/groups/:groupKey', readGroups, (req) => {
      const g = this.groupByKey(req.params.groupKey!);
      return g ? { body: fields(req, this.groupJson(g)) } : notFound('groupKey');
    });
    api('GET', '/groups/:groupKey/members', readMembers, (req) => {
      const g = this.groupByKey(req.params.groupKey!);
      if (!g) return notFound('groupKey');
      const all = [...g.members].map((id) => this.memberJson(this.users.get(id)!));
      const max = Math.min(200, Math.max(1, Number(req.query.get('maxResults') ?? 200) || 200));
      const from = Number(req.query.get('pageToken') ?? 0) || 0;
      const body: Record<string, unknown> = { kind: 'admin#directory#members', etag: etag(), members: all.slice(from, from + max) };
      if (from + max < all.length) body.nextPageToken = String(from + max);
      return { body };
    });
    api('GET', '/groups/:groupKey/members/:memberKey', readMembers, (req) => {
      const g = this.groupByKey(req.params.groupKey!);
      if (!g) return notFound('groupKey');
      const u = this.userByKey(req.params.memberKey!);
      if (!u || !g.members.has(u.id)) return notFound('memberKey');
      return { body: fields(req, this.memberJson(u)) };
    });
    api('GET', '/groups/:groupKey/hasMember/:memberKey', readMembers, (req) => {
      const g = this.groupByKey(req.params.groupKey!);
      if (!g) return notFound('groupKey');
      const u = this.userByKey(req.params.memberKey!);
      if (!u) return googleError(400, 'Invalid Input: memberKey', 'invalid');
      return { body: { isMember: g.members.has(u.id) } };
    });
    api('POST', '/groups/:groupKey/members', writeMembers, (req) => {
      this.insertCalls += 1;
      const g = this.groupByKey(req.params.groupKey!);
      if (!g) return notFound('groupKey');
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
      const key = typeof body.email === 'string' ? body.email : typeof body.id === 'string' ? body.id : '';
      if (!key) return googleError(400, 'Missing required field: memberKey', 'required');
      const u = this.userByKey(key);
      if (!u) return notFound('memberKey');
      if (g.members.has(u.id)) return googleError(409, 'Member already exists.', 'duplicate', 'ALREADY_EXISTS');
      g.members.add(u.id);
      return { body: this.memberJson(u) };
    });
    api('DELETE', '/groups/:groupKey/members/:memberKey', writeMembers, (req) => {
      this.deleteCalls += 1;
      const g = this.groupByKey(req.params.groupKey!);
      if (!g) return notFound('groupKey');
      const u = this.userByKey(req.params.memberKey!);
      if (!u || !g.members.delete(u.id)) return notFound('memberKey');
      return { status: 204 };
    });
  }

  /** POST /token: the JWT bearer grant for service accounts. */
  private token(req: EmuRequest): EmuResponse {
    this.tokenRequests += 1;
    const form = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, string>;
    const fail = (status: number, error: string, description: string): EmuResponse => ({ status, body: { error, error_description: description } });
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return fail(400, 'unsupported_grant_type', `Invalid grant_type: ${form.grant_type ?? ''}`);
    const parts = (form.assertion ?? '').split('.');
    if (parts.length !== 3) return fail(400, 'invalid_grant', 'Invalid JWT Signature.');
    const [h, p, s] = parts as [string, string, string];
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return fail(400, 'invalid_grant', 'Invalid JWT Signature.');
    }
    // RS256 over "header.payload" with the service account's public key.
    const signatureOk = header.alg === 'RS256' && verify('RSA-SHA256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(s, 'base64url'));
    if (!signatureOk || claims.iss !== this.clientEmail) return fail(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== this.tokenUrl) return fail(400, 'invalid_grant', 'Invalid JWT: Failed audience check.');
    const nowS = Math.floor(this.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp <= iat || exp - iat > 3600 || iat > nowS + 300 || exp < nowS) {
      return fail(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    const sub = typeof claims.sub === 'string' ? claims.sub : '';
    const admin = this.userByKey(sub);
    if (!admin || !admin.isAdmin) return fail(400, 'invalid_grant', 'Invalid email or User ID');
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/).filter(Boolean) : [];
    if (scopes.length === 0 || scopes.some((sc) => !this.delegatedScopes.has(sc))) {
      return fail(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
    }
    const token = `ya29.emu-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { expiresAt: this.now() + this.tokenLifetimeSec * 1000, scopes: new Set(scopes), sub: admin.primaryEmail });
    this.tokensIssued += 1;
    return { headers: { 'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate' }, body: { access_token: token, expires_in: this.tokenLifetimeSec, token_type: 'Bearer' } };
  }

  private async guard(req: EmuRequest, scopes: string[], h: Handler): Promise<EmuResponse> {
    const auth = req.headers.authorization;
    const token = typeof auth === 'string' && /^Bearer /i.test(auth) ? auth.slice(7).trim() : '';
    const rec = token ? this.tokens.get(token) : undefined;
    if (!rec || rec.expiresAt <= this.now()) {
      return {
        ...googleError(
          401,
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          'authError',
          'UNAUTHENTICATED',
          { message: 'Invalid Credentials', location: 'Authorization', locationType: 'header' },
        ),
        headers: { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      };
    }
    if (!scopes.some((sc) => rec.scopes.has(sc))) {
      return googleError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', 'PERMISSION_DENIED', { message: 'Insufficient Permission' });
    }
    return h(req);
  }

  private userByKey(key: string): GoogleUserRecord | undefined {
    const k = key.toLowerCase();
    const byId = this.users.get(key);
    if (byId) return byId;
    for (const u of this.users.values()) if (u.primaryEmail.toLowerCase() === k || u.aliases.some((a) => a.toLowerCase() === k)) return u;
    return undefined;
  }

  private groupByKey(key: string): GoogleGroupRecord | undefined {
    const k = key.toLowerCase();
    const byId = this.groups.get(key);
    if (byId) return byId;
    for (const g of this.groups.values()) if (g.email.toLowerCase() === k || g.aliases.some((a) => a.toLowerCase() === k)) return g;
    return undefined;
  }

  private newId(digits = 21): string {
    this.nextId += 1n + BigInt(randomBytes(2).readUInt16BE(0));
    const s = this.nextId.toString();
    return digits === 21 ? s : `0${s.slice(-(digits - 1))}`;
  }

  private userJson(u: GoogleUserRecord): Record<string, unknown> {
    const out: Record<string, unknown> = {
      kind: 'admin#directory#user',
      id: u.id,
      etag: etag(),
      primaryEmail: u.primaryEmail,
      name: { givenName: u.givenName, familyName: u.familyName, fullName: `${u.givenName} ${u.familyName}` },
      isAdmin: u.isAdmin,
      isDelegatedAdmin: false,
      suspended: u.suspended,
      ...(u.suspensionReason ? { suspensionReason: u.suspensionReason } : {}),
      archived: u.archived,
      lastLoginTime: new Date(u.lastLoginTime).toISOString(),
      emails: [{ address: u.primaryEmail, primary: true }, ...u.aliases.map((a) => ({ address: a }))],
      customerId: 'C0emulat0',
      orgUnitPath: '/',
      isMailboxSetup: true,
    };
    if (u.aliases.length) out.aliases = [...u.aliases];
    if (u.relations.length) out.relations = u.relations.map((r) => ({ ...r }));
    return out;
  }

  private groupJson(g: GoogleGroupRecord): Record<string, unknown> {
    const out: Record<string, unknown> = {
      kind: 'admin#directory#group',
      id: g.id,
      etag: etag(),
      email: g.email,
      name: g.name,
      directMembersCount: String(g.members.size),
      description: '',
      adminCreated: true,
    };
    if (g.aliases.length) out.aliases = [...g.aliases];
    return out;
  }

  private memberJson(u: GoogleUserRecord): Record<string, unknown> {
    return { kind: 'admin#directory#member', etag: etag(), id: u.id, email: u.primaryEmail, role: 'MEMBER', type: 'USER', status: u.suspended ? 'SUSPENDED' : 'ACTIVE' };
  }
}

// ---- helpers --------------------------------------------------------------------------------

function googleError(
  code: number,
  message: string,
  reason: string,
  status?: string,
  extra: { message?: string; location?: string; locationType?: string } = {},
): EmuResponse & { status: number; body: unknown } {
  const detail: Record<string, string> = { message: extra.message ?? message, domain: 'global', reason };
  if (extra.location) detail.location = extra.location;
  if (extra.locationType) detail.locationType = extra.locationType;
  const error: Record<string, unknown> = { code, message, errors: [detail] };
  if (status) error.status = status;
  return { status: code, body: { error } };
}

function notFound(key: 'userKey' | 'groupKey' | 'memberKey'): EmuResponse {
  return googleError(404, `Resource Not Found: ${key}`, 'notFound');
}

/** `fields=a,b,c(d)` keeps those top-level fields. */
function fields(req: EmuRequest, obj: Record<string, unknown>): Record<string, unknown> {
  const raw = req.query.get('fields');
  if (!raw) return obj;
  const keep = new Set(raw.split(',').map((f) => f.trim().split(/[/(]/)[0]!));
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keep.has(k)));
}

function etag(): string {
  return `"${randomBytes(12).toString('base64url')}/${randomBytes(9).toString('base64url')}"`;
}
