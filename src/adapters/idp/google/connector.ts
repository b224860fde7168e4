/**
 * Google Workspace connector over `@googleapis/admin` 32.1.0 (Admin SDK Directory API v1),
 * acting as a Workspace admin through a service account with domain-wide delegation.
 *
 * The token, and why it is not google-auth-library's `JWT`: the installed `JWT` (google-auth-
 * library 10.5.0) hands the exchange to gtoken 8.0.0, which hard-codes both the assertion's
 * `aud` and the URL it posts to as https://oauth2.googleapis.com/token (`GOOGLE_TOKEN_URL`
 * constant in gtoken/build/cjs/src/index.cjs) and asks gaxios to retry that POST. The token
 * endpoint must be configurable (`GOOGLE_TOKEN_URL`), so the assertion is signed here with
 * node:crypto as Google's server-to-server guide describes
 * (https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests):
 * header `{"alg":"RS256","typ":"JWT"}`, claims `iss` (client_email), `sub` (the admin to act
 * as), `scope` (space-separated), `aud` (the token URL), `iat`, `exp` (at most one hour later),
 * exchanged by POST form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…`
 * for `{access_token, expires_in, token_type}`. Errors are `{error, error_description}`, e.g.
 * 400 invalid_grant "Invalid JWT Signature." or 401 unauthorized_client "Client is unauthorized
 * to retrieve access tokens using this method, or client not authorized for any of the scopes
 * requested." (delegation missing); both are permanent here.
 *
 * How the Directory client is set up:
 * - `admin({ version: 'directory_v1', rootUrl })`: googleapis-common rebases every method URL
 *   onto `rootUrl` (apirequest.js: `new URL(path, rootUrl)`), so an http emulator origin works.
 * - `retry: false`: googleapis-common turns `retry` on by default, and gaxios then retries
 *   GET/PUT/DELETE/HEAD/OPTIONS on 408, 429 and 5xx (three times, with backoff) — which would hide
 *   429s from the outbox, the one place that retries (ARCHITECTURE.md §1.2). POST is never
 *   retried by gaxios by default. With `retry: false` and no `retryConfig`, gaxios'
 *   `getRetryConfig` says "no retry" for every method.
 * - `timeout` (gaxios: `AbortSignal.timeout`) and `fetchImplementation: fetch` (native fetch, so
 *   a timeout is a `TimeoutError` and a refused connection a `TypeError` with `cause.code`).
 * - No auth client: the access token goes in each call's `Authorization` header. OAuth2Client was
 *   not used because it retries a request itself after a 401 or 403 when it can refresh, and 403
 *   is also Google's rate-limit status.
 *
 * Wire behaviour relied on (https://developers.google.com/admin-sdk/directory/reference/rest/v1):
 * - users.get: `userKey` is the primary email, an alias or the id; the answer's `primaryEmail` is
 *   the user id this connector uses; `relations` `[{type: "manager", value: <email>}]`;
 *   `lastLoginTime` (date-time; "1970-01-01T00:00:00.000Z" for a user who never signed in),
 *   `suspended` and `archived` (booleans) for inactivity reclaim and offboarding (the User
 *   resource, .../rest/v1/users#User); an unknown user is 404 "Resource Not Found: userKey".
 * - members.list (paged), get / insert / delete. members.get is the direct membership (hasMember also answers
 *   for nested membership, which would make the bot think a user who only inherits the group
 *   already had the membership it adds and removes; ARCHITECTURE.md §1.5).
 *   insert of an existing member: 409 "Member already exists." reason `duplicate`
 *   (lithnet/googleapps-managementagent#9, DeviaVir/terraform-provider-gsuite#38); insert into a
 *   missing group: 404 "Resource Not Found: groupKey"; delete of a non-member: 404 "Resource Not
 *   Found: memberKey" (googleapis/google-api-nodejs-client#166). A 404 whose message names
 *   neither key is settled by reading the group.
 * - Errors `{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}`;
 *   403 with reason `userRateLimitExceeded`, `rateLimitExceeded` or `quotaExceeded`, and 429,
 *   are rate limits to retry with backoff (https://developers.google.com/admin-sdk/directory/v1/limits);
 *   any other 403 is permanent (no delegation for a scope, not an admin, …).
 *
 * Scopes (ARCHITECTURE.md §4): admin.directory.group.member, admin.directory.user.readonly and
 * admin.directory.group.readonly (groups.get, for the health check and to tell a missing group
 * from a missing membership).
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type * as GoogleAdmin from '@googleapis/admin';
import type { admin_directory_v1 } from '@googleapis/admin';
import { lazyModule } from '../../lazyModule.js';
import { PermanentError, RetryableError, isRetryableStatus } from '../../../outbox/errors.js';
import { runHealthChecks } from '../health.js';
import { CachedToken, nonEmpty, parseSignInTime, postTokenForm, retryAfterMs, transportFailure } from '../http.js';
import type { AccountStatuses, LoginActivity, HealthReport, IdpUser, IdpMember, MemberPage, IdpConnector, UserDirectory, Memberships, ManagerSource, Health, MemberListing } from '../../../app/ports/idp.js';
import type { AccountStatus } from '../../../domain/offboarding.js';

/** @googleapis/admin with google-auth-library and gaxios: loaded when the first Google connector is built (lazyModule.ts). */
const googleAdmin = lazyModule<typeof GoogleAdmin>('@googleapis/admin');

export const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/admin.directory.group.member',
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
] as const;

export interface GoogleConnectorConfig {
  /** The instance name (what grants name). Default the type. */
  name?: string;
  /** `GOOGLE_SA_KEY_FILE`: the service account's JSON key (client_email, private_key). */
  saKeyFile: string;
  /** `GOOGLE_ADMIN_SUBJECT`: the Workspace admin the service account acts as. */
  adminSubject: string;
  /** `GOOGLE_ROOT_URL`: an origin ending in `/`, e.g. https://admin.googleapis.com/ */
  rootUrl: string;
  /** `GOOGLE_TOKEN_URL`: e.g. https://oauth2.googleapis.com/token */
  tokenUrl: string;
  /** Per request (token requests included), headers and body. Default 15 s. */
  timeoutMs?: number;
}

export interface GoogleConnectorDeps {
  now?: () => number;
  readFile?: (path: string) => string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const ASSERTION_LIFETIME_S = 3600;
/** Members listed per page (the Directory API's most). */
const MEMBER_PAGE = 200;
const RATE_LIMIT_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'quotaExceeded']);

interface ServiceAccount {
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId?: string;
}

/** What the caller was doing, for messages, and what a 404 means in that call. */
interface CallContext {
  what: string;
  notFound?: (message: string) => string | undefined;
}

/** An answer from the Directory API that was not 2xx. */
interface ApiAnswer {
  status: number;
  message: string;
  reasons: string[];
  retryAfter: string | undefined;
}

// ---- token ----------------------------------------------------------------------------------

class ServiceAccountToken extends CachedToken {
  constructor(
    private readonly sa: ServiceAccount,
    private readonly subject: string,
    private readonly tokenUrl: string,
    private readonly timeoutMs: number,
    now: () => number,
  ) {
    super(now);
  }

  /** The signed JWT assertion (RS256). */
  assertion(): string {
    const iat = Math.floor(this.now() / 1000);
    const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
    if (this.sa.privateKeyId) header.kid = this.sa.privateKeyId;
    const claims = { iss: this.sa.clientEmail, sub: this.subject, scope: GOOGLE_SCOPES.join(' '), aud: this.tokenUrl, iat, exp: iat + ASSERTION_LIFETIME_S };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('RSA-SHA256', Buffer.from(input), this.sa.privateKey).toString('base64url');
    return `${input}.${signature}`;
  }

  protected async fetchToken(): Promise<{ token: string; lifeMs: number; started: number }> {
    const started = this.now();
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: this.assertion() });
    const { res, body } = await postTokenForm(this.tokenUrl, form, this.timeoutMs, 'Google', 'google');
    if (!res.ok) {
      const said = [res.status, typeof body?.error === 'string' ? body.error : undefined].filter(Boolean).join(' ') + (typeof body?.error_description === 'string' ? `: ${body.error_description}` : '');
      if (isRetryableStatus(res.status)) {
        throw new RetryableError(`the Google token endpoint failed (${said})`, retryAfterMs(res.headers.get('retry-after'), this.now(), res.status), 'google_token_unavailable');
      }
      throw new PermanentError(
        `Google refused the service account's token request for ${this.subject} (${said}); check GOOGLE_SA_KEY_FILE, GOOGLE_ADMIN_SUBJECT and the domain-wide delegation of the scopes ${GOOGLE_SCOPES.join(', ')}`,
        'google_auth',
      );
    }
    const token = typeof body?.access_token === 'string' ? body.access_token : '';
    const expiresIn = Number(body?.expires_in);
    if (!token || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new RetryableError('the Google token endpoint answered without an access token or expiry', undefined, 'google_token_unexpected');
    }
    return { token, lifeMs: expiresIn * 1000, started };
  }
}

// ---- connector ------------------------------------------------------------------------------

export class GoogleConnector implements IdpConnector, UserDirectory, Memberships, ManagerSource, Health, MemberListing, LoginActivity, AccountStatuses {
  readonly type = 'google';

  private constructor(
    readonly name: string,
    private readonly dir: admin_directory_v1.Admin,
    private readonly tokens: ServiceAccountToken,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {}

  /** Reads the key file now: an unreadable or malformed key fails at start-up, naming the file, not its content. */
  static fromConfig(config: GoogleConnectorConfig, deps: GoogleConnectorDeps = {}): GoogleConnector {
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const now = deps.now ?? Date.now;
    const sa = readServiceAccount(config.saKeyFile, deps.readFile ?? ((p) => fs.readFileSync(p, 'utf8')));
    const tokens = new ServiceAccountToken(sa, config.adminSubject, config.tokenUrl, timeoutMs, now);
    const dir = googleAdmin().admin({
      version: 'directory_v1',
      rootUrl: config.rootUrl.endsWith('/') ? config.rootUrl : `${config.rootUrl}/`,
      retry: false,
      timeout: timeoutMs,
      fetchImplementation: fetch,
    });
    return new GoogleConnector(config.name ?? 'google', dir, tokens, timeoutMs, now);
  }

  /**
   * users.get with the email as userKey (a primary email or an alias); the user's id here is
   * their primary email. Suspended users are returned too (they can be group members).
   */
  async findUserByEmail(email: string): Promise<IdpUser | undefined> {
    const wanted = email.trim();
    if (!wanted) return undefined;
    try {
      const res = await this.send((h) => this.dir.users.get({ userKey: wanted, fields: 'id,primaryEmail,name' }, h));
      const u = res.data;
      if (!u.primaryEmail) return undefined;
      const user: IdpUser = { id: u.primaryEmail, email: u.primaryEmail };
      const name = nonEmpty(u.name?.fullName) ?? nonEmpty([u.name?.givenName, u.name?.familyName].filter(Boolean).join(' '));
      if (name) user.displayName = name;
      return user;
    } catch (err) {
      if (isAnswer(err) && err.status === 404) return undefined;
      throw this.classify(err, { what: `looking up Google user ${wanted}` });
    }
  }

  /** Direct membership (members.get). A missing group is a PermanentError naming it. */
  async isMember(group: string, userId: string): Promise<boolean> {
    const what = `reading the membership of ${userId} in Google group ${group}`;
    try {
      await this.send((h) => this.dir.members.get({ groupKey: group, memberKey: userId, fields: 'id,email,role,status' }, h));
      return true;
    } catch (err) {
      if (!(isAnswer(err) && err.status === 404)) throw this.classify(err, { what });
      if (/groupKey/.test(err.message) || (!/memberKey/.test(err.message) && !(await this.groupExists(group, what)))) {
        throw new PermanentError(`Google group ${group} not found (while ${what})`, 'google_not_found');
      }
      return false;
    }
  }

  async addMember(group: string, userId: string): Promise<void> {
    const what = `adding ${userId} to Google group ${group}`;
    try {
      await this.send((h) => this.dir.members.insert({ groupKey: group, requestBody: { email: userId, role: 'MEMBER' } }, h));
    } catch (err) {
      if (isAnswer(err) && err.status === 409 && (err.reasons.includes('duplicate') || /already exists/i.test(err.message))) return;
      throw this.classify(err, {
        what,
        notFound: (m) => (/groupKey/.test(m) ? `Google group ${group} not found` : /memberKey/.test(m) ? `Google user ${userId} not found` : `Google group ${group} or user ${userId} not found`),
      });
    }
  }

  async removeMember(group: string, userId: string): Promise<void> {
    const what = `removing ${userId} from Google group ${group}`;
    try {
      await this.send((h) => this.dir.members.delete({ groupKey: group, memberKey: userId }, h));
    } catch (err) {
      if (!(isAnswer(err) && err.status === 404)) throw this.classify(err, { what });
      // Not a member (or no such user): the membership is gone. A missing group is not success.
      if (/groupKey/.test(err.message) || (!/memberKey/.test(err.message) && !(await this.groupExists(group, what)))) {
        throw new PermanentError(`Google group ${group} not found (while ${what})`, 'google_not_found');
      }
    }
  }

  /**
   * One page of the group's direct members (members.list: `maxResults` up to 200, `pageToken`,
   * `nextPageToken`). Each member's id is its email, as for users here.
   */
  async listMembers(group: string, page: { cursor?: string; size?: number } = {}): Promise<MemberPage> {
    const params: admin_directory_v1.Params$Resource$Members$List = { groupKey: group, maxResults: page.size ?? MEMBER_PAGE };
    if (page.cursor !== undefined) params.pageToken = page.cursor;
    const res = await this.call({ what: `listing the members of Google group ${group}`, notFound: () => `Google group ${group} not found` }, (h) => this.dir.members.list(params, h));
    const members: IdpMember[] = [];
    for (const m of res.data.members ?? []) if (m.email) members.push({ id: m.email, email: m.email });
    const next = nonEmpty(res.data.nextPageToken);
    return next ? { members, next } : { members };
  }

  /** The `value` of the user's first `relations` entry of type `manager`, when it is an email. */
  async findManagerEmail(userId: string): Promise<string | undefined> {
    const res = await this.call({ what: `reading Google user ${userId}`, notFound: () => `Google user ${userId} not found` }, (h) =>
      this.dir.users.get({ userKey: userId, fields: 'primaryEmail,relations' }, h),
    );
    const relations: unknown = res.data.relations;
    if (!Array.isArray(relations)) return undefined;
    for (const r of relations as { type?: unknown; value?: unknown }[]) {
      if (r?.type === 'manager' && typeof r.value === 'string' && r.value.includes('@')) return r.value.trim();
    }
    return undefined;
  }

  /** users.get's `lastLoginTime`: null for the epoch Google sends when the user never signed in. */
  async lastLoginOf(userId: string): Promise<number | null> {
    const res = await this.call({ what: `reading the last sign-in of Google user ${userId}`, notFound: () => `Google user ${userId} not found` }, (h) =>
      this.dir.users.get({ userKey: userId, fields: 'primaryEmail,lastLoginTime' }, h),
    );
    return parseSignInTime(res.data.lastLoginTime, `Google user ${userId}'s lastLoginTime`, 'google_bad_time');
  }

  /** users.get's `suspended` (with `suspensionReason`) and `archived`; a user Google does not find is deleted. */
  async accountStatus(userId: string): Promise<AccountStatus> {
    try {
      const res = await this.send((h) => this.dir.users.get({ userKey: userId, fields: 'primaryEmail,suspended,suspensionReason,archived' }, h));
      const u = res.data;
      if (u.suspended) return { state: 'suspended', detail: nonEmpty(u.suspensionReason) ?? 'suspended' };
      if (u.archived) return { state: 'deactivated', detail: 'archived' };
      return { state: 'active' };
    } catch (err) {
      if (isAnswer(err) && err.status === 404 && !/groupKey|memberKey/.test(err.message)) return { state: 'deleted', detail: 'not found' };
      throw this.classify(err, { what: `reading the status of Google user ${userId}` });
    }
  }

  checkHealth(groups: string[]): Promise<HealthReport> {
    return runHealthChecks(
      {
        // A token issued proves the key and the domain-wide delegation of the scopes.
        credentials: () => this.tokens.get().then(() => undefined),
        group: async (g) => {
          const res = await this.call({ what: `reading Google group ${g}`, notFound: () => `Google group ${g} not found` }, (h) =>
            this.dir.groups.get({ groupKey: g, fields: 'id,email,name' }, h),
          );
          return nonEmpty(res.data.name) ?? nonEmpty(res.data.email);
        },
        explain: (err, what) => this.classify(err, { what }).message,
        withoutCredentials: 'no access token',
      },
      groups,
    );
  }

  // ---- internals ----------------------------------------------------------------------------

  private async groupExists(group: string, while_: string): Promise<boolean> {
    try {
      await this.send((h) => this.dir.groups.get({ groupKey: group, fields: 'id' }, h));
      return true;
    } catch (err) {
      if (isAnswer(err) && err.status === 404) return false;
      throw this.classify(err, { what: `checking that Google group ${group} exists (while ${while_})` });
    }
  }

  /**
   * Runs one Directory call with the access token; after a 401, once more with a new token.
   * Throws an ApiAnswer for non-2xx answers, a classified error otherwise.
   */
  private async send<T>(fn: (options: { headers: Record<string, string> }) => Promise<T>): Promise<T> {
    const first = await this.tokens.get();
    try {
      return await fn({ headers: { Authorization: `Bearer ${first}` } });
    } catch (err) {
      const answer = answerOf(err);
      if (answer?.status !== 401) throw answer ?? err;
      this.tokens.invalidate(first);
      const second = await this.tokens.get();
      try {
        return await fn({ headers: { Authorization: `Bearer ${second}` } });
      } catch (again) {
        throw answerOf(again) ?? again;
      }
    }
  }

  private async call<T>(ctx: CallContext, fn: (options: { headers: Record<string, string> }) => Promise<T>): Promise<T> {
    try {
      return await this.send(fn);
    } catch (err) {
      throw this.classify(err, ctx);
    }
  }

  private classify(err: unknown, ctx: CallContext): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    if (isAnswer(err)) {
      const said = `${err.status}${err.reasons.length ? ` ${err.reasons.join(', ')}` : ''}${err.message ? `: ${err.message}` : ''}`;
      const wait = retryAfterMs(err.retryAfter, this.now(), err.status);
      if (err.status === 429 || (err.status === 403 && err.reasons.some((r) => RATE_LIMIT_REASONS.has(r)))) {
        return new RetryableError(`Google rate limit reached while ${ctx.what} (${said})`, wait, 'google_rate_limited');
      }
      if (isRetryableStatus(err.status)) return new RetryableError(`Google failed while ${ctx.what} (${said})`, wait, 'google_unavailable');
      if (err.status === 401) return new PermanentError(`Google rejected the access token while ${ctx.what} (${said})`, 'google_auth');
      if (err.status === 403) {
        return new PermanentError(
          `Google refused ${ctx.what} (${said}); GOOGLE_ADMIN_SUBJECT may lack the admin privilege, or the user or group is outside the Workspace account`,
          'google_forbidden',
        );
      }
      if (err.status === 404) {
        const missing = ctx.notFound?.(err.message);
        return new PermanentError(missing ? `${missing} (while ${ctx.what})` : `Google found nothing while ${ctx.what} (${said})`, 'google_not_found');
      }
      return new PermanentError(`Google refused ${ctx.what} (${said})`, 'google_rejected');
    }
    const t = transportFailure(err);
    return t.timedOut
      ? new RetryableError(`Google did not answer within ${this.timeoutMs} ms while ${ctx.what}`, undefined, 'google_timeout')
      : new RetryableError(`could not reach Google while ${ctx.what} (${t.detail})`, undefined, 'google_unreachable');
  }
}

// ---- helpers --------------------------------------------------------------------------------

const ANSWER = Symbol('google-answer');

function isAnswer(v: unknown): v is ApiAnswer {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[ANSWER] === true;
}

/** The HTTP answer inside a GaxiosError, or undefined when there was none (timeout, refused). */
function answerOf(err: unknown): ApiAnswer | undefined {
  if (isAnswer(err)) return err;
  const res = (err as { response?: { status?: unknown; data?: unknown; headers?: unknown } } | null)?.response;
  if (!res || typeof res.status !== 'number') return undefined;
  const data = res.data as { error?: { message?: unknown; errors?: unknown } | string; error_description?: unknown } | string | undefined;
  let message = '';
  const reasons: string[] = [];
  if (typeof data === 'object' && data !== null && typeof data.error === 'object' && data.error !== null) {
    if (typeof data.error.message === 'string') message = data.error.message;
    if (Array.isArray(data.error.errors)) {
      for (const e of data.error.errors as { reason?: unknown }[]) if (typeof e?.reason === 'string') reasons.push(e.reason);
    }
  } else if (typeof data === 'string') {
    message = data.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  }
  return { [ANSWER]: true, status: res.status, message, reasons, retryAfter: header(res.headers, 'retry-after') } as ApiAnswer;
}

function header(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const h = headers as { get?: unknown } & Record<string, unknown>;
  if (typeof h.get === 'function') {
    const v: unknown = (h.get as (n: string) => unknown).call(headers, name);
    return typeof v === 'string' ? v : undefined;
  }
  const v = h[name];
  return typeof v === 'string' ? v : undefined;
}


function readServiceAccount(path: string, readFile: (path: string) => string): ServiceAccount {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFile(path)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new Error(`GOOGLE_SA_KEY_FILE: cannot read a service account key from "${path}" (${typeof code === 'string' ? code : 'not JSON'})`);
  }
  const clientEmail = json.client_email;
  const privateKey = json.private_key;
  if (typeof clientEmail !== 'string' || !clientEmail || typeof privateKey !== 'string' || !privateKey) {
    throw new Error(`GOOGLE_SA_KEY_FILE: "${path}" has no client_email or private_key (expected a service account JSON key)`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    throw new Error(`GOOGLE_SA_KEY_FILE: the private_key in "${path}" is not a PEM private key`);
  }
  const sa: ServiceAccount = { clientEmail, privateKey: key };
  if (typeof json.private_key_id === 'string' && json.private_key_id) sa.privateKeyId = json.private_key_id;
  return sa;
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}



