/**
 * Microsoft Entra ID connector over `@microsoft/microsoft-graph-client` 3.0.7 (Graph v1.0,
 * application permissions, client-credentials token).
 *
 * How the client is set up, and why (read from the client's source, lib/es/src, v3.0.7):
 * - `Client.initWithMiddleware({ middleware: [...] })` with our own chain. The default chain's
 *   `AuthenticationHandler` adds the token only when `isGraphURL(url)` or `isCustomHost(url)` holds,
 *   and both only ever match `https://` URLs (GraphRequestUtil.isValidEndpoint), so against an
 *   `http://127.0.0.1:port` emulator it silently sends no token; `customHosts` cannot fix that.
 *   The default chain also has a `RetryHandler` (retries 429/503/504 itself, hiding them from the
 *   outbox) and a `RedirectHandler`. Our chain: `TokenMiddleware` (client-credentials token,
 *   cached; one refresh and one resend after a 401) → `ResponseMiddleware` (timeout, and every
 *   non-2xx answer or transport failure turned into an error that keeps status, Graph error code,
 *   message and `Retry-After`) → the library's `HTTPMessageHandler` (global `fetch`).
 * - `baseUrl` is the `GRAPH_BASE_URL` origin; `defaultVersion` `v1.0` is appended by
 *   `GraphRequest.buildFullUrl` (urlJoin of host, version, path). Any origin works, http included.
 * - The client neither encodes path segments nor `$filter` values (createQueryString joins them
 *   as given), so this file encodes them. Paths must not contain "https://" (parsePath strips it).
 * - Errors thrown by a middleware as `GraphClientError` pass through `GraphRequest.send` unchanged
 *   (`if (error instanceof GraphClientError) throw error`); anything else becomes a `GraphError`
 *   that keeps only the error's name. So the middleware attaches its findings as `customError`.
 *
 * Wire behaviour relied on (Microsoft Learn, v1.0 reference):
 * - Token: POST {tenant}/oauth2/v2.0/token, form client_id, client_secret,
 *   scope=https://graph.microsoft.com/.default, grant_type=client_credentials; answer
 *   `{token_type, expires_in, ext_expires_in, access_token}`; errors `{error, error_description:
 *   "AADSTSnnnn: …", error_codes}` (https://learn.microsoft.com/graph/auth-v2-service,
 *   https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
 * - User by UPN: GET /users/{id | userPrincipalName}; by mail: GET /users?$filter=mail eq '…'
 *   (string literals double their single quotes, OData ABNF; https://learn.microsoft.com/graph/filter-query-parameter).
 * - Direct membership: GET /users/{id}/memberOf ("This operation isn't transitive",
 *   https://learn.microsoft.com/graph/api/user-list-memberof; default/max page 100/999,
 *   `@odata.nextLink`). `checkMemberGroups` is NOT used: it is transitive
 *   (https://learn.microsoft.com/graph/api/directoryobject-checkmembergroups), and ownership
 *   (ARCHITECTURE.md §1.5) must compare against the direct membership the bot adds and removes;
 *   a nested member would otherwise read as "already a member" and the bot's direct add would
 *   never be removed.
 * - Add: POST /groups/{id}/members/$ref `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`,
 *   204; "400 Bad Request when the object is already a member of the group"; 404 when the object
 *   being added does not exist (https://learn.microsoft.com/graph/api/group-post-members). The 400
 *   text "One or more added object references already exist for the following modified
 *   properties: 'members'." is what clients match on.
 * - Remove: DELETE /groups/{id}/members/{id}/$ref, 204
 *   (https://learn.microsoft.com/graph/api/group-delete-members). A 404 answers both "not a
 *   member" and "no such group", and its message ("Resource '<id>' does not exist or one of its
 *   queried reference-property objects are not present.") has been seen naming the group id in
 *   either case (microsoftgraph/microsoft-graph-docs#9191), so after a 404 the group is read:
 *   group there → the membership is gone → success; group missing → PermanentError. A member
 *   object that no longer exists also reads as "not a member" (its membership is gone too).
 * - Manager: GET /users/{id}/manager; 404 "Resource 'manager' does not exist or one of its
 *   queried reference-property objects are not present." when none is set (by design,
 *   microsoftgraph/aspnet-snippets-sample#6).
 * - Throttling: 429 (and 503/504) with `Retry-After` in seconds
 *   (https://learn.microsoft.com/graph/throttling); error body `{"error": {"code", "message",
 *   "innerError": {"date", "request-id", "client-request-id"}}}` (https://learn.microsoft.com/graph/errors).
 *
 * - Last sign-in (inactivity reclaim): GET /users/{id}?$select=id,signInActivity; the
 *   signInActivity resource's `lastSuccessfulSignInDateTime` (since December 2023, not
 *   backfilled), else the later of `lastSignInDateTime` and `lastNonInteractiveSignInDateTime`
 *   (https://learn.microsoft.com/graph/api/resources/signinactivity). It "requires a Microsoft
 *   Entra ID P1 or P2 license and the AuditLog.Read.All permission": a tenant without the licence
 *   answers 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` "Neither tenant is B2C or
 *   tenant doesn't have premium license" (microsoftgraph/microsoft-graph-docs#12772, #14118).
 * - Account status (offboarding): GET /users/{id}?$select=id,accountEnabled; a user Graph does not
 *   find (404) was deleted.
 *
 * Permissions the app registration needs (application): GroupMember.ReadWrite.All and
 * User.Read.All (user lookup, memberOf, manager, accountEnabled), and AuditLog.Read.All for
 * inactivity reclaim (signInActivity). Role-assignable groups additionally need
 * RoleManagement.ReadWrite.Directory; without it Graph answers 403 Authorization_RequestDenied.
 */
import type * as GraphSdk from '@microsoft/microsoft-graph-client';
import type { Client, Context, Middleware } from '@microsoft/microsoft-graph-client';
import { lazyModule } from '../../lazyModule.js';
import { PermanentError, RetryableError, isRetryableStatus } from '../../../outbox/errors.js';
import { redactor } from '../../../redact.js';
import { runHealthChecks } from '../health.js';
import { CachedToken, nonEmpty, parseJson, parseSignInTime, postTokenForm, retryAfterMs, transportFailure as describeTransport } from '../http.js';
import type { AccountStatuses, LoginActivity, HealthReport, IdpUser, MemberPage, IdpConnector, UserDirectory, Memberships, ManagerSource, Health, MemberListing } from '../../../app/ports/idp.js';
import type { AccountStatus } from '../../../domain/offboarding.js';

/** The Graph client: loaded when the first Entra connector is built (lazyModule.ts). */
const graphSdk = lazyModule<typeof GraphSdk>('@microsoft/microsoft-graph-client');

export interface EntraConnectorConfig {
  /** The instance name (what grants name). Default the type. */
  name?: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** `GRAPH_BASE_URL`: an origin, e.g. https://graph.microsoft.com (http allowed for emulators). */
  baseUrl: string;
  /** `GRAPH_TOKEN_URL`: the full token endpoint URL. */
  tokenUrl: string;
  /** Per request (token requests included), headers and body. Default 15 s. */
  timeoutMs?: number;
}

export interface EntraConnectorDeps {
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** Tokens are replaced this long before they expire (halfway through, for tokens living under 10 minutes). */
/** Enough candidates to tell "one user" from "ambiguous". */
const SEARCH_TOP = 5;
const MEMBER_OF_PAGE = 999;
/** Members listed per page (Graph allows up to 999). */
const MEMBER_PAGE = 100;
const USER_FIELDS = ['id', 'displayName', 'mail', 'userPrincipalName'];

/** No answer from Graph: a timeout or a connection failure (classified with the caller's context). */
class GraphTransportError extends Error {
  constructor(
    readonly timedOut: boolean,
    readonly detail: string,
  ) {
    super(timedOut ? 'timeout' : detail);
    this.name = 'GraphTransportError';
  }
}

/** A non-2xx answer from Graph, as the middleware saw it. */
class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly retryAfter: string | undefined,
  ) {
    super(message);
    this.name = 'GraphHttpError';
  }
}

interface GraphUser {
  id?: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  accountEnabled?: boolean | null;
  signInActivity?: { lastSignInDateTime?: string | null; lastNonInteractiveSignInDateTime?: string | null; lastSuccessfulSignInDateTime?: string | null } | null;
}

/** Graph's answer when the tenant has no Entra ID P1/P2 licence for sign-in data. */
const NO_PREMIUM = 'Authentication_RequestFromNonPremiumTenantOrB2CTenant';

interface Page<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

/** What the caller was doing, for messages, and what a 404 means in that call. */
interface CallContext {
  what: string;
  notFound?: (message: string) => string | undefined;
}

// ---- token ----------------------------------------------------------------------------------

/**
 * Client-credentials tokens, fetched from the configured token URL with `fetch` and kept until
 * shortly before they expire. Concurrent callers share one request.
 */
class ClientCredentialsToken extends CachedToken {
  constructor(
    private readonly cfg: EntraConnectorConfig,
    private readonly timeoutMs: number,
    now: () => number,
    private readonly redact: (s: string) => string,
  ) {
    super(now);
  }

  protected async fetchToken(): Promise<{ token: string; lifeMs: number; started: number }> {
    const form = new URLSearchParams({
      client_id: this.cfg.clientId,
      client_secret: this.cfg.clientSecret,
      scope: GRAPH_SCOPE,
      grant_type: 'client_credentials',
    });
    const started = this.now();
    const { res, body } = await postTokenForm(this.cfg.tokenUrl, form, this.timeoutMs, 'Entra', 'entra');
    if (!res.ok) {
      const code = typeof body?.error === 'string' ? body.error : undefined;
      // AADSTS descriptions carry "\r\nTrace ID: …" lines; the first line says what is wrong.
      const desc = typeof body?.error_description === 'string' ? body.error_description.split(/\r?\n/)[0] : '';
      const said = this.redact([res.status, code].filter(Boolean).join(' ') + (desc ? `: ${desc}` : ''));
      if (isRetryableStatus(res.status)) {
        throw new RetryableError(`the Entra token endpoint failed (${said})`, retryAfterMs(res.headers.get('retry-after'), this.now(), res.status), 'entra_token_unavailable');
      }
      throw new PermanentError(`Entra ID refused the client credentials (${said}); check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET`, 'entra_auth');
    }
    const token = typeof body?.access_token === 'string' ? body.access_token : '';
    const expiresIn = Number(body?.expires_in);
    if (!token || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new RetryableError('the Entra token endpoint answered without an access token or expiry', undefined, 'entra_token_unexpected');
    }
    return { token, lifeMs: expiresIn * 1000, started };
  }
}

// ---- middleware -----------------------------------------------------------------------------

/** Throws through GraphRequest.send unchanged (see the header): `customError` carries the cause. */
function passThrough(cause: Error): GraphSdk.GraphClientError {
  const e = new (graphSdk().GraphClientError)(cause.message);
  e.customError = cause;
  return e;
}

function causeOf(err: unknown): unknown {
  return err instanceof graphSdk().GraphClientError && err.customError !== undefined ? err.customError : err;
}

/** Adds the bearer token; after a 401, fetches a new token and sends the request once more. */
class TokenMiddleware implements Middleware {
  private next: Middleware | undefined;

  constructor(private readonly tokens: ClientCredentialsToken) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const next = this.next!;
    const first = await this.token();
    setHeader(context, 'Authorization', `Bearer ${first}`);
    try {
      await next.execute(context);
    } catch (err) {
      const cause = causeOf(err);
      if (!(cause instanceof GraphHttpError) || cause.status !== 401) throw err;
      // The token was revoked or expired early: once, with a fresh one.
      this.tokens.invalidate(first);
      const second = await this.token();
      setHeader(context, 'Authorization', `Bearer ${second}`);
      await next.execute(context);
    }
  }

  private async token(): Promise<string> {
    try {
      return await this.tokens.get();
    } catch (err) {
      throw passThrough(err as Error);
    }
  }
}

/** Per-attempt timeout; non-2xx answers and transport failures become errors with their details. */
class ResponseMiddleware implements Middleware {
  private next: Middleware | undefined;

  constructor(private readonly timeoutMs: number) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    context.options = { ...(context.options ?? {}), signal };
    try {
      await this.next!.execute(context);
    } catch (err) {
      throw passThrough(transportFailure(err));
    }
    const res = context.response;
    if (!res || res.ok) return;
    let text = '';
    try {
      text = await res.text();
    } catch (err) {
      throw passThrough(transportFailure(err));
    }
    const body = parseJson(text) as { error?: { code?: unknown; message?: unknown } } | undefined;
    const code = typeof body?.error?.code === 'string' ? body.error.code : undefined;
    const message = typeof body?.error?.message === 'string' ? body.error.message : text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
    throw passThrough(new GraphHttpError(res.status, code, message, res.headers.get('retry-after') ?? undefined));
  }
}

function setHeader(context: Context, name: string, value: string): void {
  const options = (context.options ??= {});
  const headers = options.headers;
  if (headers instanceof Headers) headers.set(name, value);
  else options.headers = { ...((headers as Record<string, string> | undefined) ?? {}), [name]: value };
}

// ---- connector ------------------------------------------------------------------------------

export class EntraConnector implements IdpConnector, UserDirectory, Memberships, ManagerSource, Health, MemberListing, LoginActivity, AccountStatuses {
  readonly type = 'entra';

  private constructor(
    readonly name: string,
    private readonly client: Client,
    private readonly tokens: ClientCredentialsToken,
    /** Defence in depth: no message leaves this class with the client secret in it. */
    private readonly redact: (text: string) => string,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {}

  static fromConfig(config: EntraConnectorConfig, deps: EntraConnectorDeps = {}): EntraConnector {
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const now = deps.now ?? Date.now;
    const redact = redactor([config.clientSecret]);
    const tokens = new ClientCredentialsToken(config, timeoutMs, now, redact);
    const sdk = graphSdk();
    const client = sdk.Client.initWithMiddleware({
      baseUrl: `${new URL(config.baseUrl).origin}/`,
      defaultVersion: 'v1.0',
      debugLogging: false,
      middleware: [new TokenMiddleware(tokens), new ResponseMiddleware(timeoutMs), new sdk.HTTPMessageHandler()],
    });
    return new EntraConnector(config.name ?? 'entra', client, tokens, redact, timeoutMs, now);
  }

  /**
   * The user whose userPrincipalName is `email` (GET /users/{upn}), else the one whose `mail` is
   * (GET /users?$filter=mail eq '…'); both compare without regard to case. Several users sharing
   * the mail: PermanentError, since granting the wrong account is worse than asking a person.
   * Disabled accounts are returned too (Graph lets them be group members).
   */
  async findUserByEmail(email: string): Promise<IdpUser | undefined> {
    const wanted = email.trim();
    if (!wanted) return undefined;
    // A UPN starting with '$' must be addressed as /users('$…') (user-get doc); the mail filter covers it.
    if (!wanted.startsWith('$')) {
      try {
        const u = await this.send<GraphUser>(() => this.client.api(`/users/${seg(wanted)}`).select(USER_FIELDS).get());
        if (u?.id) return toIdpUser(u);
      } catch (err) {
        // 404: no such UPN; 400: not a valid UPN ("Invalid object identifier"). Either way, try mail.
        if (!(err instanceof GraphHttpError && (err.status === 404 || err.status === 400))) throw this.classify(err, { what: `looking up Entra user ${wanted}` });
      }
    }
    const filter = `mail eq '${wanted.replace(/'/g, "''")}'`;
    const page = await this.call<Page<GraphUser>>({ what: `searching Entra users by mail ${wanted}` }, () =>
      this.client.api('/users').filter(encodeURIComponent(filter)).select(USER_FIELDS).top(SEARCH_TOP).get(),
    );
    const users = (page?.value ?? []).filter((u) => u.id && u.mail?.toLowerCase() === wanted.toLowerCase());
    if (users.length > 1) {
      throw new PermanentError(`${users.length} Entra users have the mail ${wanted}: ${users.map((u) => u.id).join(', ')}`, 'entra_ambiguous_user');
    }
    return users[0] ? toIdpUser(users[0]) : undefined;
  }

  /**
   * Direct membership, from the user's memberOf (not transitive; see the header). A group that
   * does not exist reads as "not a member"; the add that follows names it.
   */
  async isMember(group: string, userId: string): Promise<boolean> {
    const ctx: CallContext = { what: `listing the Entra groups of user ${userId}`, notFound: () => `Entra user ${userId} not found` };
    let path: string | undefined = `/users/${seg(userId)}/memberOf?$select=id&$top=${MEMBER_OF_PAGE}`;
    const wanted = group.toLowerCase();
    while (path) {
      const current: string = path;
      const page: Page<{ id?: string }> = await this.call(ctx, () => this.client.api(current).get());
      if ((page?.value ?? []).some((o) => o.id?.toLowerCase() === wanted)) return true;
      path = nextPath(page?.['@odata.nextLink']);
    }
    return false;
  }

  async addMember(group: string, userId: string): Promise<void> {
    const ctx: CallContext = {
      what: `adding user ${userId} to Entra group ${group}`,
      notFound: (m) => (names(m, group) ? `Entra group ${group} not found` : names(m, userId) ? `Entra user ${userId} not found` : `Entra group ${group} or user ${userId} not found`),
    };
    try {
      await this.send(() =>
        this.client.api(`/groups/${seg(group)}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${encodeURIComponent(userId)}` }),
      );
    } catch (err) {
      // group-post-members: 400 when the object is already a member.
      if (err instanceof GraphHttpError && err.status === 400 && /already exist/i.test(err.message)) return;
      throw this.classify(err, ctx);
    }
  }

  async removeMember(group: string, userId: string): Promise<void> {
    const ctx: CallContext = { what: `removing user ${userId} from Entra group ${group}` };
    try {
      await this.send(() => this.client.api(`/groups/${seg(group)}/members/${seg(userId)}/$ref`).delete());
    } catch (err) {
      if (!(err instanceof GraphHttpError && err.status === 404)) throw this.classify(err, ctx);
      // The 404 does not say whether the group or the membership is missing: ask about the group.
      if (!(await this.groupExists(group, ctx.what))) throw new PermanentError(`Entra group ${group} not found (while ${ctx.what})`, 'entra_not_found');
    }
  }

  /**
   * One page of the group's direct members (GET /groups/{id}/members, `$top` per page, the next
   * page in `@odata.nextLink`; https://learn.microsoft.com/graph/api/group-list-members). Members
   * that are not users (nested groups, devices) have no email. The cursor is the next link's path.
   */
  async listMembers(group: string, page: { cursor?: string; size?: number } = {}): Promise<MemberPage> {
    const base = `/groups/${seg(group)}/members`;
    // A cursor is only ever a path this method returned: anything else could aim the token elsewhere.
    if (page.cursor !== undefined && !page.cursor.startsWith(`${base}?`)) throw new PermanentError(`not a page of Entra group ${group}'s members`, 'entra_bad_cursor');
    const path = page.cursor ?? `${base}?$select=${USER_FIELDS.join(',')}&$top=${page.size ?? MEMBER_PAGE}`;
    const res: Page<GraphUser> = await this.call({ what: `listing the members of Entra group ${group}`, notFound: () => `Entra group ${group} not found` }, () => this.client.api(path).get());
    const members = (res?.value ?? []).filter((m) => m.id).map(toIdpUser);
    const next = nextPath(res?.['@odata.nextLink']);
    return next ? { members, next } : { members };
  }

  /** The manager's `mail` (or a UPN that looks like an address); undefined when none is set. */
  async findManagerEmail(userId: string): Promise<string | undefined> {
    const what = `reading the manager of Entra user ${userId}`;
    let manager: GraphUser;
    try {
      manager = await this.send<GraphUser>(() => this.client.api(`/users/${seg(userId)}/manager`).get());
    } catch (err) {
      if (!(err instanceof GraphHttpError && err.status === 404)) throw this.classify(err, { what });
      if (/'manager'/i.test(err.message)) return undefined;
      // Not the "no manager" answer: make sure the user exists before saying "none".
      await this.call({ what: `reading Entra user ${userId}`, notFound: () => `Entra user ${userId} not found` }, () =>
        this.client.api(`/users/${seg(userId)}`).select(['id']).get(),
      );
      return undefined;
    }
    const mail = nonEmpty(manager?.mail) ?? (manager?.userPrincipalName?.includes('@') ? nonEmpty(manager.userPrincipalName) : undefined);
    return mail;
  }

  /** signInActivity: the last successful sign-in, else the last interactive or non-interactive one (see the header). */
  async lastLoginOf(userId: string): Promise<number | null> {
    const what = `reading the sign-in activity of Entra user ${userId}`;
    let u: GraphUser;
    try {
      u = await this.send<GraphUser>(() => this.client.api(`/users/${seg(userId)}`).select(['id', 'signInActivity']).get());
    } catch (err) {
      if (err instanceof GraphHttpError && err.status === 403) {
        const why = err.code === NO_PREMIUM ? 'the tenant has no Microsoft Entra ID P1 or P2 licence, which sign-in activity needs' : 'the app registration needs the AuditLog.Read.All application permission';
        throw new PermanentError(`Microsoft Graph refused ${what} (${this.redact(`${err.status} ${err.code ?? ''}: ${err.message}`)}): ${why}, so roles on this connector cannot be reclaimed for inactivity`, 'entra_no_sign_in_activity');
      }
      throw this.classify(err, { what, notFound: () => `Entra user ${userId} not found` });
    }
    const a = u.signInActivity ?? {};
    const time = (v: string | null | undefined, field: string) => parseSignInTime(v, `Entra user ${userId}'s ${field}`, 'entra_bad_time');
    const successful = time(a.lastSuccessfulSignInDateTime, 'lastSuccessfulSignInDateTime');
    if (successful !== null) return successful;
    const attempts = [time(a.lastSignInDateTime, 'lastSignInDateTime'), time(a.lastNonInteractiveSignInDateTime, 'lastNonInteractiveSignInDateTime')].filter((t): t is number => t !== null);
    return attempts.length === 0 ? null : Math.max(...attempts);
  }

  /** `accountEnabled: false` is a deactivated account (sign-in blocked); a user Graph does not find was deleted. */
  async accountStatus(userId: string): Promise<AccountStatus> {
    try {
      const u = await this.send<GraphUser>(() => this.client.api(`/users/${seg(userId)}`).select(['id', 'accountEnabled']).get());
      return u.accountEnabled === false ? { state: 'deactivated', detail: 'accountEnabled false' } : { state: 'active' };
    } catch (err) {
      if (err instanceof GraphHttpError && err.status === 404) return { state: 'deleted', detail: 'not found' };
      throw this.classify(err, { what: `reading the status of Entra user ${userId}` });
    }
  }

  checkHealth(groups: string[]): Promise<HealthReport> {
    return runHealthChecks(
      {
        // A token issued proves the client credentials.
        credentials: () => this.tokens.get().then(() => undefined),
        group: async (g) => {
          const found = await this.call<{ displayName?: string }>({ what: `reading Entra group ${g}`, notFound: () => `Entra group ${g} not found` }, () =>
            this.client.api(`/groups/${seg(g)}`).select(['id', 'displayName']).get(),
          );
          return nonEmpty(found?.displayName);
        },
        explain: (err, what) => this.redact(this.classify(err, { what }).message),
        withoutCredentials: 'no access token',
      },
      groups,
    );
  }

  // ---- internals ----------------------------------------------------------------------------

  private async groupExists(group: string, while_: string): Promise<boolean> {
    try {
      await this.send(() => this.client.api(`/groups/${seg(group)}`).select(['id']).get());
      return true;
    } catch (err) {
      if (err instanceof GraphHttpError && err.status === 404) return false;
      throw this.classify(err, { what: `checking that Entra group ${group} exists (while ${while_})` });
    }
  }

  /**
   * Runs one client call and rethrows what the middleware found (GraphHttpError,
   * GraphTransportError, or a token error already classified), for the caller to inspect.
   */
  private async send<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw causeOf(err);
    }
  }

  private async call<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.send(fn);
    } catch (err) {
      throw this.classify(err, ctx);
    }
  }

  private classify(err: unknown, ctx: CallContext): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    if (err instanceof GraphHttpError) {
      const said = this.redact([err.status, err.code].filter(Boolean).join(' ') + (err.message ? `: ${err.message}` : ''));
      const wait = retryAfterMs(err.retryAfter, this.now(), err.status);
      if (err.status === 429) return new RetryableError(`Microsoft Graph throttled ${ctx.what} (${said})`, wait, 'entra_rate_limited');
      if (isRetryableStatus(err.status)) return new RetryableError(`Microsoft Graph failed while ${ctx.what} (${said})`, wait, 'entra_unavailable');
      if (err.status === 401) return new PermanentError(`Microsoft Graph rejected the access token while ${ctx.what} (${said})`, 'entra_auth');
      if (err.status === 403) {
        return new PermanentError(`Microsoft Graph refused ${ctx.what} (${said}); the app needs GroupMember.ReadWrite.All and User.Read.All`, 'entra_forbidden');
      }
      if (err.status === 404) {
        const missing = ctx.notFound?.(err.message);
        return new PermanentError(missing ? `${missing} (while ${ctx.what})` : `Microsoft Graph found nothing while ${ctx.what} (${said})`, 'entra_not_found');
      }
      return new PermanentError(`Microsoft Graph refused ${ctx.what} (${said})`, 'entra_rejected');
    }
    if (err instanceof GraphTransportError) {
      return err.timedOut
        ? new RetryableError(`Microsoft Graph did not answer within ${this.timeoutMs} ms while ${ctx.what}`, undefined, 'entra_timeout')
        : new RetryableError(`could not reach Microsoft Graph while ${ctx.what} (${err.detail})`, undefined, 'entra_unreachable');
    }
    // A GraphError here means the body of a 2xx answer could not be read (timeout mid-body, bad JSON).
    const e = err as { code?: unknown; name?: unknown; message?: unknown };
    if (e?.code === 'TimeoutError' || e?.name === 'TimeoutError' || e?.code === 'AbortError' || e?.name === 'AbortError') {
      return new RetryableError(`Microsoft Graph did not answer within ${this.timeoutMs} ms while ${ctx.what}`, undefined, 'entra_timeout');
    }
    const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
    return new RetryableError(this.redact(`unexpected failure while ${ctx.what}: ${message}`), undefined, 'entra_unexpected');
  }
}

// ---- helpers --------------------------------------------------------------------------------

/** One path segment, encoded (the client does not encode paths). */
function seg(value: string): string {
  return encodeURIComponent(value);
}

/**
 * The path and query of an `@odata.nextLink`, to be sent to the configured base URL: a link is
 * never followed to another host (the token must not leave for it), and the client only parses
 * `https://` links itself.
 */
function nextPath(link: string | undefined): string | undefined {
  if (!link) return undefined;
  const u = new URL(link);
  return u.pathname.replace(/^\/v1\.0(?=\/)/, '') + u.search;
}

/** Whether a Graph "Resource '<id>' does not exist…" message names this id. */
function names(message: string, id: string): boolean {
  return message.toLowerCase().includes(`'${id.toLowerCase()}'`);
}

function toIdpUser(u: GraphUser): IdpUser {
  const user: IdpUser = { id: u.id!, email: nonEmpty(u.mail) ?? nonEmpty(u.userPrincipalName) ?? '' };
  const name = nonEmpty(u.displayName);
  if (name) user.displayName = name;
  return user;
}




/** What fetch threw, as the Graph client's middleware passes it on. */
function transportFailure(err: unknown): GraphTransportError {
  const t = describeTransport(err);
  return new GraphTransportError(t.timedOut, t.detail);
}
