/**
 * Okta connector over `@okta/okta-sdk-nodejs` v8 (Management API v1, SSWS API token).
 *
 * How the SDK is set up, and why (read from the SDK's source, v8.1.0):
 * - `cacheMiddleware: null`: otherwise `Http` installs `defaultCacheMiddleware`, which keeps GET
 *   answers in a memory store, so a membership check could read a stale answer.
 * - A `RequestExecutor` that sends each request once: the default `DefaultRequestExecutor`
 *   sleeps and retries 429s itself (up to 2 times), which hides the 429 from the outbox, the
 *   one place that retries (ARCHITECTURE.md §1.2). It also passes node-fetch's `timeout`, which
 *   covers the wait for headers and for the body.
 * - Errors: `Http.errorFilter` turns every non-2xx answer into `OktaApiError` (JSON body:
 *   `status`, `errorCode`, `errorSummary`) or `HttpError` (other bodies), and both keep the
 *   response's node-fetch `Headers` in `headers`, so `X-Rate-Limit-Reset` is read from the error.
 * - v8 has no https check on `orgUrl`: an `http://` emulator works as it is.
 *
 * Idempotency (ARCHITECTURE.md §1.3): Okta answers 204 to PUT membership when the user is
 * already a member and to DELETE when the user is not one; a 404 means the user or the group
 * does not exist, which is a PermanentError naming it.
 */
import { Client, RequestExecutor } from '@okta/okta-sdk-nodejs';
import { PermanentError, RetryableError, parseRetryAfter, isRetryableStatus } from '../../outbox/errors.js';
import type { HealthReport, IdpConnector, IdpUser } from './types.js';

export interface OktaConnectorConfig {
  /** e.g. https://acme.okta.com (http allowed for emulators). */
  orgUrl: string;
  apiToken: string;
  /** Per request, headers and body included. Default 15 s. */
  timeoutMs?: number;
}

export interface OktaConnectorDeps {
  /** A ready SDK client (tests); configure it as `fromConfig` does. */
  client?: Client;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Enough candidates to tell "one user" from "ambiguous" without paging a whole org. */
const SEARCH_LIMIT = 20;

/** The parts of the SDK's User / UserGetSingleton this connector reads. */
interface OktaUserLike {
  id?: string;
  status?: string;
  profile?: {
    login?: string;
    email?: string;
    firstName?: string | null;
    lastName?: string | null;
    displayName?: string | null;
    managerId?: string | null;
    manager?: string | null;
  };
}

/** The SDK's lazy, Link-header-paged collection, as far as it is used here. */
interface PagedCollection<T> {
  next(): Promise<{ done: boolean; value: T | null }>;
}

/** What the SDK passes to an executor: a RequestContext with node-fetch's options on it. */
type ExecutorRequest = Parameters<RequestExecutor['fetch']>[0];

/** Sends each request exactly once, with a timeout; retrying is the outbox's job. */
class SingleAttemptExecutor extends RequestExecutor {
  constructor(private readonly timeoutMs: number) {
    super();
  }

  override fetch(request: ExecutorRequest): ReturnType<RequestExecutor['fetch']> {
    // A copy: the SDK reuses the request object for the next page of a collection.
    return super.fetch({ ...request, timeout: this.timeoutMs } as ExecutorRequest);
  }
}

/** What the caller was doing, for messages, and what a 404 means in that call. */
interface CallContext {
  what: string;
  /** Describes the missing resource from Okta's errorSummary; undefined when it names neither. */
  notFound?: (summary: string) => string | undefined;
}

export class OktaConnector implements IdpConnector {
  readonly name = 'okta' as const;

  private constructor(
    private readonly client: Client,
    private readonly secret: string,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {}

  static fromConfig(config: OktaConnectorConfig, deps: OktaConnectorDeps = {}): OktaConnector {
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const client =
      deps.client ??
      new Client({
        orgUrl: config.orgUrl.replace(/\/+$/, ''),
        token: config.apiToken,
        // Explicit, so OKTA_CLIENT_* variables or an okta.yaml (the SDK's ConfigLoader reads both) cannot switch it.
        authorizationMode: 'SSWS',
        cacheMiddleware: null,
        requestExecutor: new SingleAttemptExecutor(timeoutMs),
      });
    return new OktaConnector(client, config.apiToken, timeoutMs, deps.now ?? Date.now);
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
      const users = await this.client.userApi.listUsers({ search: `profile.email eq ${lit} or profile.login eq ${lit}`, limit: SEARCH_LIMIT });
      return take(users as PagedCollection<OktaUserLike>, SEARCH_LIMIT);
    });
    const picked = this.pick(candidates, wanted);
    if (picked) return toIdpUser(picked);

    // Logins containing '/' can only be fetched by id (SDK getUser doc).
    if (wanted.includes('/')) return undefined;
    const byLogin = await this.getUserOrUndefined(wanted, `looking up Okta user ${wanted}`);
    return byLogin && byLogin.status !== 'DEPROVISIONED' && matches(byLogin, wanted) ? toIdpUser(byLogin) : undefined;
  }

  async isMember(group: string, userId: string): Promise<boolean> {
    // One call per user (their groups) instead of paging through a large group's members.
    // A group that does not exist reads as "not a member"; the add that follows names it.
    return this.call({ what: `listing the Okta groups of user ${userId}`, notFound: (s) => describeMissing(s, { userId }) }, async () => {
      const groups = (await this.client.userApi.listUserGroups({ userId })) as PagedCollection<{ id?: string }>;
      for (;;) {
        const r = await groups.next();
        if (r.value?.id === group) return true;
        if (r.done) return false;
      }
    });
  }

  async addMember(group: string, userId: string): Promise<void> {
    const ctx: CallContext = {
      what: `adding user ${userId} to Okta group ${group}`,
      notFound: (s) => describeMissing(s, { group, userId }) ?? `Okta group ${group} or user ${userId} not found`,
    };
    await this.call(ctx, () => this.client.groupApi.assignUserToGroup({ groupId: group, userId }));
  }

  async removeMember(group: string, userId: string): Promise<void> {
    const ctx: CallContext = { what: `removing user ${userId} from Okta group ${group}`, notFound: (s) => describeMissing(s, { group, userId }) };
    try {
      await this.call(ctx, () => this.client.groupApi.unassignUserFromGroup({ groupId: group, userId }));
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
   * The manager's email, from `profile.managerId` (an Okta user id or login) or, failing that,
   * `profile.manager` when it holds a login (Okta defines it as a display name, which cannot be
   * resolved safely). A manager reference that points at no user resolves to undefined.
   */
  async findManagerEmail(userId: string): Promise<string | undefined> {
    const user = await this.call({ what: `reading Okta user ${userId}`, notFound: () => `Okta user ${userId} not found` }, () =>
      this.client.userApi.getUser({ userId }),
    );
    const p = (user as OktaUserLike).profile ?? {};
    const ref = nonEmpty(p.managerId) ?? (p.manager && p.manager.includes('@') ? p.manager.trim() : undefined);
    if (!ref || ref.includes('/')) return undefined;
    const manager = await this.getUserOrUndefined(ref, `reading the manager (${ref}) of Okta user ${userId}`);
    return nonEmpty(manager?.profile?.email);
  }

  async checkHealth(groups: string[]): Promise<HealthReport> {
    const check = async (name: string, run: () => Promise<string | undefined>): Promise<HealthReport['checks'][number]> => {
      try {
        const detail = await run();
        return detail === undefined ? { name, ok: true } : { name, ok: true, detail };
      } catch (err) {
        return { name, ok: false, detail: this.redact(err instanceof Error ? err.message : String(err)) };
      }
    };
    const checks = await Promise.all([
      // `me` is the admin the API token belongs to: a cheap call any valid token may make.
      check('credentials valid', async () => {
        await this.call({ what: 'checking the Okta API token' }, () => this.client.userApi.getUser({ userId: 'me' }));
        return undefined;
      }),
      ...groups.map((g) =>
        check(`group ${g} exists`, async () => {
          const ctx: CallContext = { what: `reading Okta group ${g}`, notFound: () => `Okta group ${g} not found` };
          const found = await this.call(ctx, () => this.client.groupApi.getGroup({ groupId: g }));
          return nonEmpty(found.profile?.name);
        }),
      ),
    ]);
    return { ok: checks.every((c) => c.ok), checks };
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
      return await this.call(ctx, () => this.client.userApi.getUser({ userId: idOrLogin }));
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'okta_not_found') return undefined;
      throw err;
    }
  }

  /** Runs one SDK call and turns whatever it throws into RetryableError or PermanentError. */
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
    const e = err as { name?: unknown; type?: unknown; code?: unknown; message?: unknown };
    if (e.type === 'request-timeout' || e.type === 'body-timeout' || e.name === 'AbortError') {
      return new RetryableError(`Okta did not answer within ${this.timeoutMs} ms while ${ctx.what}`, undefined, 'okta_timeout');
    }
    if (e.type === 'system' || (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code))) {
      return new RetryableError(`could not reach Okta while ${ctx.what} (${typeof e.code === 'string' ? e.code : 'connection error'})`, undefined, 'okta_unreachable');
    }
    const message = typeof e.message === 'string' ? e.message : String(err);
    return new RetryableError(this.redact(`unexpected failure while ${ctx.what}: ${message}`), undefined, 'okta_unexpected');
  }

  /** Defence in depth: no message leaves this class with the token in it. */
  private redact(text: string): string {
    return this.secret.length >= 4 ? text.split(this.secret).join('[redacted]') : text;
  }
}

// ---- helpers --------------------------------------------------------------------------------

/** A double-quoted literal for Okta's search expressions. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function take<T>(items: PagedCollection<T>, max: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < max) {
    const r = await items.next();
    if (r.value) out.push(r.value);
    if (r.done) break;
  }
  return out;
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

function nonEmpty(s: string | null | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
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

/** The HTTP status of an SDK error: OktaApiError/HttpError carry `status`, ApiException `code`. */
function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, code } = err as { status?: unknown; code?: unknown };
  let n: number | undefined;
  if (typeof status === 'number') n = status;
  else if (typeof status === 'string' && /^\d{3}$/.test(status)) n = Number(status);
  else if (typeof code === 'number') n = code;
  return n !== undefined && n >= 100 && n < 600 ? n : undefined;
}

function header(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const h = headers as { get?: unknown } & Record<string, unknown>;
  if (typeof h.get === 'function') {
    const v: unknown = (h.get as (n: string) => unknown).call(headers, name);
    return typeof v === 'string' ? v : undefined;
  }
  const v = h[name] ?? h[name.toLowerCase()];
  return typeof v === 'string' ? v : undefined;
}

/**
 * How long Okta asked us to wait: on a 429 until `X-Rate-Limit-Reset` (epoch seconds), measured against
 * the answer's `Date` so clock skew between us and Okta does not matter (the SDK's own executor
 * does the same), else `Retry-After`; at least one second.
 */
function retryAfterMs(headers: unknown, nowMs: number, useReset: boolean): number | undefined {
  const reset = useReset ? header(headers, 'x-rate-limit-reset') : undefined;
  if (reset) {
    // A header sent twice arrives joined by commas (the SDK notes this as OKTA-112507).
    const secs = Math.max(...reset.split(',').map((s) => Number(s.trim())).filter(Number.isFinite));
    if (Number.isFinite(secs)) {
      const date = Date.parse(header(headers, 'date') ?? '');
      return Math.max(1000, secs * 1000 - (Number.isNaN(date) ? nowMs : date));
    }
  }
  const after = parseRetryAfter(header(headers, 'retry-after'), nowMs);
  return after === undefined ? undefined : Math.max(1000, after);
}
