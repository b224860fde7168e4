/**
 * GitHub connector: organization team memberships over the REST API (api.github.com, or GitHub
 * Enterprise Server's `<host>/api/v3`), people found by email through the organization's SAML/SCIM
 * identities (GraphQL) or an operator's `email,login` map file. Direct HTTP through sendHttp: six
 * routes do not justify Octokit, whose plugins also retry and throttle on their own (the outbox is
 * the one place that retries, ARCHITECTURE.md §1.2).
 *
 * A catalog `group` is `<org>/<team-slug>`; a user id is the GitHub login.
 *
 * Credentials, one of:
 * - a GitHub App: a JWT (RS256, `iat` 60 s in the past, `exp` at most 10 minutes on, `iss` the app
 *   id; https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app)
 *   is exchanged at `POST /app/installations/{id}/access_tokens` for an installation token that
 *   lives one hour (`{token, expires_at}`, 201;
 *   https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app).
 *   The token is replaced 5 minutes before `expires_at`, and once after a 401.
 * - a personal access token (classic or fine-grained), sent as `Bearer`.
 *
 * Routes (https://docs.github.com/en/rest/teams/members):
 * - `GET /orgs/{org}/teams/{team_slug}/memberships/{username}`: 200 `{state: active | pending}`,
 *   404 when not a member (or no such team).
 * - `PUT …/memberships/{username}`: adds; someone outside the organization gets an emailed
 *   invitation and a `pending` membership until they accept it. 403 when the team is synchronised
 *   with an IdP group (the API cannot change it), 422 for an organization as member.
 * - `DELETE …/memberships/{username}`: 204; 404 when not a member.
 * - `GET /orgs/{org}/teams/{team_slug}/members`: `per_page` (at most 100), `Link: <…>; rel="next"`.
 * - `GET /orgs/{org}/teams/{team_slug}` (https://docs.github.com/en/rest/teams/teams#get-a-team-by-name):
 *   tells a missing team from a missing membership after a 404, and is the health check.
 * - `GET /users/{username}` (https://docs.github.com/en/rest/users/users#get-a-user): a mapped login exists.
 * - `GET /rate_limit` (https://docs.github.com/en/rest/rate-limit/rate-limit): the credentials
 *   probe; it does not count against the primary limit.
 *
 * Pending memberships: "If the user is unaffiliated with the team's organization, this endpoint
 * will send an invitation to the user via email. This newly-created membership will be in the
 * "pending" state until the user accepts the invitation, at which point the membership will
 * transition to the "active" state" (PUT, https://docs.github.com/en/rest/teams/members#add-or-update-team-membership-for-a-user).
 * `addMember` resolves with a PendingAdd for a `pending` answer (the grant records it once on the
 * Jira issue); `confirmMembership` then reads the membership with GET (never another PUT, which
 * could send the invitation again): `pending` is a RetryableError (`github_pending`) asking to be
 * called back in PENDING_POLL_MS, gone (declined, cancelled, expired) a PermanentError. The bound
 * is the outbox's retry age (DISPATCHER maxRetryAgeMs, 3 days by default, under GitHub's 7-day
 * invitation expiry): after it the grant fails, and the undo removes the pending membership.
 * `isMember` counts a pending membership as present, so that the undo and a revocation remove what
 * the bot added: DELETE removes "both active and pending memberships" (GitHub's note on the
 * deprecated "Remove team member" endpoint, https://docs.github.com/en/rest/teams/members#remove-team-member-legacy).
 * Whether removing the last pending team membership also withdraws the organization invitation
 * GitHub does not say; the team membership, which is what grants access, is gone.
 *
 * Errors are `{"message", "documentation_url"}` (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api).
 * Rate limits (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
 * primary, 403 or 429 with `x-ratelimit-remaining: 0`, wait until `x-ratelimit-reset` (epoch
 * seconds; every answer carries both, so the RateGate holds calls before the 429); secondary, 403
 * or 429 with `retry-after` seconds, or else "wait at least one minute".
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { headerValue, HttpTimeout, sendHttp } from '../../http.js';
import { PermanentError, RetryableError, parseRetryAfter, isRetryableStatus } from '../../../outbox/errors.js';
import { CachedToken, nonEmpty, parseJson } from '../http.js';
import { redactor } from '../../../redact.js';
import { runHealthChecks } from '../health.js';
import { RateGate } from '../../rateGate.js';
import type { HealthReport, IdpUser, MemberPage, IdpConnector, UserDirectory, Memberships, Health, MemberListing, PendingAdd, PendingMemberships } from '../../../app/ports/idp.js';

export interface GitHubConnectorConfig {
  /** The instance name (what grants name). Default the type. */
  name?: string;
  /** The organization whose SAML/SCIM identities map emails to logins. */
  org: string;
  /** e.g. https://api.github.com or https://github.example.com/api/v3 (http allowed for emulators). */
  baseUrl: string;
  /** e.g. https://api.github.com/graphql or https://github.example.com/api/graphql. */
  graphqlUrl: string;
  /** A personal access token; or the three App settings. */
  token?: string;
  appId?: string;
  installationId?: string;
  /** The App's private key (PEM), as read from its file. */
  privateKeyPem?: string;
  /** `email,login` lines, as read from the map file: when given, used instead of SAML identities. */
  emailMap?: string;
  /** Per request, headers and body. Default 15 s. */
  timeoutMs?: number;
}

export interface GitHubConnectorDeps {
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Members listed per page (GitHub's maximum). */
const MEMBER_PAGE = 100;
/** How often a pending membership is checked again. */
export const PENDING_POLL_MS = 10 * 60_000;
/** "Otherwise, wait for at least one minute before retrying" (the rate-limit docs). */
const SECONDARY_DEFAULT_MS = 60_000;
const API_VERSION = '2022-11-28';
/** Identities with one email: more than a handful means the filter did not filter. */
const IDENTITY_PAGE = 10;

const SAML_QUERY = `query($org: String!, $userName: String!, $first: Int!) {
  organization(login: $org) {
    samlIdentityProvider {
      externalIdentities(userName: $userName, first: $first) {
        nodes {
          samlIdentity { nameId emails { value } }
          scimIdentity { username emails { value } }
          user { login }
        }
      }
    }
  }
}`;

/** A non-2xx answer, as GitHub gave it. */
class GitHubHttpError extends Error {
  constructor(
    readonly status: number,
    readonly ghMessage: string,
    readonly headers: IncomingHttpHeaders,
  ) {
    super(`GitHub answered ${status}`);
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface CallContext {
  what: string;
  /** What a 404 means in this call. */
  notFound?: string;
}

type Method = 'GET' | 'PUT' | 'DELETE' | 'POST';
type Auth = { token: string } | { app: InstallationToken; appId: string };

/** A team in the catalog's `<org>/<team-slug>` form. */
export function parseTeam(group: string): { org: string; slug: string } | undefined {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9_.-]+)$/.exec(group.trim());
  return m ? { org: m[1]!, slug: m[2]! } : undefined;
}

/** `email,login` lines (a header line `email,login` and `#` comments allowed): email → logins. */
export function parseEmailMap(text: string): { map: Map<string, string[]> } | { error: string } {
  const map = new Map<string, string[]>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(',').map((s) => s.trim());
    if (i === 0 && parts[0]?.toLowerCase() === 'email') continue;
    if (parts.length !== 2 || !/^[^\s@]+@[^\s@]+$/.test(parts[0]!) || !/^[A-Za-z0-9-]+$/.test(parts[1]!)) {
      return { error: `line ${i + 1} is not "email,login"` };
    }
    const email = parts[0]!.toLowerCase();
    const logins = map.get(email) ?? [];
    if (!logins.some((l) => l.toLowerCase() === parts[1]!.toLowerCase())) logins.push(parts[1]!);
    map.set(email, logins);
  }
  return { map };
}

/** Installation tokens of a GitHub App, from a signed JWT. */
class InstallationToken extends CachedToken {
  constructor(
    private readonly appId: string,
    private readonly installationId: string,
    private readonly key: KeyObject,
    private readonly exchange: (jwt: string) => Promise<Answer>,
    now: () => number,
  ) {
    super(now);
  }

  /** RS256 JWT; `iat` 60 s back against clock drift, `exp` 9 minutes on (GitHub allows 10). */
  jwt(): string {
    const iat = Math.floor(this.now() / 1000) - 60;
    const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iat, exp: iat + 600, iss: this.appId })}`;
    return `${input}.${sign('RSA-SHA256', Buffer.from(input), this.key).toString('base64url')}`;
  }

  protected async fetchToken(): Promise<{ token: string; lifeMs: number; started: number }> {
    const started = this.now();
    const answer = await this.exchange(this.jwt());
    const body = (answer.body ?? {}) as { token?: unknown; expires_at?: unknown };
    const expires = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : Number.NaN;
    if (typeof body.token !== 'string' || !body.token || Number.isNaN(expires)) {
      throw new RetryableError(`GitHub answered the installation token request for installation ${this.installationId} without a token or expiry`, undefined, 'github_token_unexpected');
    }
    // `expires_at` is GitHub's clock: measure the life against the answer's Date, not ours.
    const date = Date.parse(headerValue(answer.headers, 'date') ?? '');
    return { token: body.token, lifeMs: expires - (Number.isNaN(date) ? started : date), started };
  }
}

export class GitHubConnector implements IdpConnector, UserDirectory, Memberships, PendingMemberships, Health, MemberListing {
  readonly type = 'github';

  private readonly gate: RateGate;
  private readonly redact: (text: string) => string;

  private constructor(
    readonly name: string,
    private readonly org: string,
    private readonly base: URL,
    private readonly graphqlUrl: URL,
    private readonly auth: Auth,
    private readonly emailMap: Map<string, string[]> | undefined,
    secrets: string[],
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.gate = new RateGate(now);
    this.redact = redactor(secrets);
  }

  static fromConfig(config: GitHubConnectorConfig, deps: GitHubConnectorDeps = {}): GitHubConnector {
    const base = new URL(config.baseUrl.replace(/\/+$/, '') + '/');
    const graphqlUrl = new URL(config.graphqlUrl);
    for (const u of [base, graphqlUrl]) if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`the GitHub API URL must be http(s), got ${u.protocol}`);
    const now = deps.now ?? Date.now;
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const app = [config.appId, config.installationId, config.privateKeyPem].map((v) => nonEmpty(v));
    const token = nonEmpty(config.token);
    if (token && app.some(Boolean)) throw new Error('give either a GitHub token or the GitHub App settings (app id, installation id, private key file), not both');
    if (!token && !app.every(Boolean)) {
      throw new Error(app.some(Boolean) ? 'a GitHub App needs all three: the app id, the installation id and the private key file' : 'give a GitHub token, or the GitHub App settings (app id, installation id, private key file)');
    }
    let emailMap: Map<string, string[]> | undefined;
    if (nonEmpty(config.emailMap)) {
      const parsed = parseEmailMap(config.emailMap!);
      if ('error' in parsed) throw new Error(`the GitHub email map: ${parsed.error}`);
      emailMap = parsed.map;
    }
    const secrets = token ? [token] : [config.privateKeyPem!, ...config.privateKeyPem!.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))];
    // The token exchange is a call of the connector built below (its rate gate, its errors).
    const self: { connector?: GitHubConnector } = {};
    let auth: Auth;
    if (token) auth = { token };
    else {
      let key: KeyObject;
      try {
        key = createPrivateKey(config.privateKeyPem!);
      } catch {
        throw new Error('the GitHub App private key is not a PEM private key (download it from the App settings → Private keys)');
      }
      const [appId, installationId] = [app[0]!, app[1]!];
      auth = { app: new InstallationToken(appId, installationId, key, (jwt) => self.connector!.exchangeJwt(installationId, jwt), now), appId };
    }
    self.connector = new GitHubConnector(config.name ?? 'github', config.org, base, graphqlUrl, auth, emailMap, secrets, timeoutMs, now);
    return self.connector;
  }

  /**
   * The login for `email`: from the map file when configured (the login must exist), else from
   * the organization's SAML/SCIM identities whose NameID or SCIM userName or emails are the
   * email, ignoring case. Two logins for one email: PermanentError (granting the wrong account is
   * worse than asking a person).
   */
  async findUserByEmail(email: string): Promise<IdpUser | undefined> {
    const wanted = email.trim().toLowerCase();
    if (!wanted) return undefined;
    const logins = this.emailMap ? (this.emailMap.get(wanted) ?? []) : await this.samlLogins(wanted);
    if (logins.length > 1) throw new PermanentError(`${logins.length} GitHub logins are mapped to ${wanted}: ${logins.join(', ')}`, 'github_ambiguous_user');
    const login = logins[0];
    if (!login) return undefined;
    if (!this.emailMap) return { id: login, email: wanted };
    // A login in the map that GitHub does not know is a typo in the map, not a user.
    try {
      const user = await this.call({ what: `reading GitHub user ${login}`, notFound: `GitHub user ${login} not found` }, () => this.send('GET', `users/${enc(login)}`));
      const u = (user.body ?? {}) as { login?: unknown; name?: unknown };
      const found: IdpUser = { id: typeof u.login === 'string' ? u.login : login, email: wanted };
      if (typeof u.name === 'string' && u.name.trim()) found.displayName = u.name.trim();
      return found;
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'github_not_found') return undefined;
      throw err;
    }
  }

  /** Active or pending (see the header): a membership GitHub holds for the user. */
  async isMember(group: string, login: string): Promise<boolean> {
    const { org, slug } = team(group);
    try {
      await this.call({ what: `reading the membership of ${login} in GitHub team ${group}`, notFound: 'not a member' }, () => this.send('GET', membershipPath(org, slug, login)));
      return true;
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'github_not_found') return false;
      throw err;
    }
  }

  /** Active: resolves. Pending (an invitation to the organization): resolves with what was sent. */
  async addMember(group: string, login: string): Promise<void | PendingAdd> {
    const { org, slug } = team(group);
    const what = `adding ${login} to GitHub team ${group}`;
    let answer: Answer;
    try {
      answer = await this.call({ what }, () => this.send('PUT', membershipPath(org, slug, login), JSON.stringify({ role: 'member' })));
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'github_not_found') throw await this.whichIsMissing(org, slug, login, what);
      throw err;
    }
    if (stateOf(answer) !== 'pending') return undefined;
    return { pending: `GitHub invitation sent to ${login} to join organization ${org} (team ${group}); access starts when it is accepted` };
  }

  /** After a pending add: reads the membership (GET, never PUT) until GitHub says `active`. */
  async confirmMembership(group: string, login: string): Promise<void> {
    const { org, slug } = team(group);
    const what = `checking the pending membership of ${login} in GitHub team ${group}`;
    let answer: Answer;
    try {
      answer = await this.call({ what, notFound: 'gone' }, () => this.send('GET', membershipPath(org, slug, login)));
    } catch (err) {
      if (!(err instanceof PermanentError && err.code === 'github_not_found')) throw err;
      await this.readTeam(org, slug, what);
      throw new PermanentError(`${login} did not join GitHub organization ${org}: the invitation was declined, cancelled or has expired, so the membership of team ${group} is gone`, 'github_invitation_gone');
    }
    if (stateOf(answer) === 'pending') {
      throw new RetryableError(
        `${login} is not a member of GitHub organization ${org} yet: the membership of team ${group} is pending until they accept GitHub's emailed invitation (checked again every ${PENDING_POLL_MS / 60_000} minutes)`,
        PENDING_POLL_MS,
        'github_pending',
      );
    }
  }

  async removeMember(group: string, login: string): Promise<void> {
    const { org, slug } = team(group);
    const what = `removing ${login} from GitHub team ${group}`;
    try {
      await this.call({ what }, () => this.send('DELETE', membershipPath(org, slug, login)));
    } catch (err) {
      if (!(err instanceof PermanentError && err.code === 'github_not_found')) throw err;
      // 404: not a member (success), unless the team itself is missing (the catalog may be wrong).
      await this.readTeam(org, slug, what);
    }
  }

  async listMembers(group: string, page: { cursor?: string; size?: number } = {}): Promise<MemberPage> {
    const { org, slug } = team(group);
    const base = `orgs/${enc(org)}/teams/${enc(slug)}/members`;
    // A cursor is only ever a path this method returned: anything else could aim the token elsewhere.
    if (page.cursor !== undefined && !page.cursor.startsWith(`${base}?`)) throw new PermanentError(`not a page of GitHub team ${group}'s members`, 'github_bad_cursor');
    const path = page.cursor ?? `${base}?per_page=${Math.min(MEMBER_PAGE, page.size ?? MEMBER_PAGE)}`;
    const answer = await this.call({ what: `listing the members of GitHub team ${group}`, notFound: `GitHub team ${group} not found` }, () => this.send('GET', path));
    const users = (Array.isArray(answer.body) ? answer.body : []) as { login?: unknown }[];
    const members = users.filter((u): u is { login: string } => typeof u.login === 'string').map((u) => ({ id: u.login }));
    const next = this.nextPage(answer.headers);
    return next ? { members, next } : { members };
  }

  checkHealth(groups: string[]): Promise<HealthReport> {
    return runHealthChecks(
      {
        credentials: async () => {
          await this.call({ what: 'checking the GitHub credentials' }, () => this.send('GET', 'rate_limit'));
          return 'app' in this.auth ? `GitHub App ${this.auth.appId}` : undefined;
        },
        group: async (g) => {
          const parsed = parseTeam(g);
          if (!parsed) throw new PermanentError(`"${g}" is not <org>/<team-slug>`, 'github_bad_group');
          const found = await this.readTeam(parsed.org, parsed.slug, `reading GitHub team ${g}`);
          return nonEmpty((found.body as { name?: string } | undefined)?.name);
        },
        explain: (err) => this.redact(err instanceof Error ? err.message : String(err)),
        withoutCredentials: 'credentials rejected',
      },
      groups,
    );
  }

  // ---- internals ----------------------------------------------------------------------------

  private async samlLogins(email: string): Promise<string[]> {
    const what = `looking up ${email} among the SAML identities of GitHub organization ${this.org}`;
    const answer = await this.call({ what }, () => this.send('POST', this.graphqlUrl.href, JSON.stringify({ query: SAML_QUERY, variables: { org: this.org, userName: email, first: IDENTITY_PAGE } })));
    const body = (answer.body ?? {}) as { data?: { organization?: { samlIdentityProvider?: unknown } | null }; errors?: { type?: unknown; message?: unknown }[] };
    const error = body.errors?.[0];
    if (error) {
      const said = this.redact(`${typeof error.type === 'string' ? error.type : 'error'}: ${typeof error.message === 'string' ? error.message : ''}`);
      if (error.type === 'RATE_LIMITED') throw new RetryableError(`GitHub's GraphQL rate limit was reached while ${what} (${said})`, this.resetWait(answer.headers) ?? SECONDARY_DEFAULT_MS, 'github_rate_limited');
      if (error.type === 'NOT_FOUND') throw new PermanentError(`GitHub organization ${this.org} not found while ${what} (${said})`, 'github_not_found');
      if (error.type === 'FORBIDDEN') throw new PermanentError(`GitHub refused ${what} (${said}); ${SAML_PERMISSION}`, 'github_forbidden');
      throw new PermanentError(`GitHub refused ${what} (${said})`, 'github_rejected');
    }
    const idp = body.data?.organization?.samlIdentityProvider as { externalIdentities?: { nodes?: unknown[] } } | null | undefined;
    if (!idp) {
      // GitHub answers null both without SAML and without the right to see it (github/platform-samples#168).
      throw new PermanentError(
        `GitHub shows no SAML identity provider for organization ${this.org}, so emails cannot be mapped to logins through it: either the organization has no SAML single sign-on (give the connector an email map file) or ${SAML_PERMISSION}`,
        'github_no_saml',
      );
    }
    const logins = new Map<string, string>();
    for (const raw of idp.externalIdentities?.nodes ?? []) {
      const n = raw as { samlIdentity?: { nameId?: unknown; emails?: { value?: unknown }[] } | null; scimIdentity?: { username?: unknown; emails?: { value?: unknown }[] } | null; user?: { login?: unknown } | null };
      const login = n.user?.login;
      // An identity linked to no account yet (SSO done, never signed in) cannot be granted.
      if (typeof login !== 'string') continue;
      const names = [n.samlIdentity?.nameId, n.scimIdentity?.username, ...(n.samlIdentity?.emails ?? []).map((e) => e.value), ...(n.scimIdentity?.emails ?? []).map((e) => e.value)];
      if (names.some((v) => typeof v === 'string' && v.trim().toLowerCase() === email)) logins.set(login.toLowerCase(), login);
    }
    return [...logins.values()];
  }

  /** After a 404 on a membership write: the team, else the user. */
  private async whichIsMissing(org: string, slug: string, login: string, what: string): Promise<PermanentError> {
    await this.readTeam(org, slug, what);
    return new PermanentError(`GitHub user ${login} not found (while ${what})`, 'github_not_found');
  }

  private readTeam(org: string, slug: string, what: string): Promise<Answer> {
    return this.call({ what, notFound: `GitHub team ${org}/${slug} not found` }, () => this.send('GET', `orgs/${enc(org)}/teams/${enc(slug)}`));
  }

  /** The next page's path (relative to the base URL) from `Link`, if it stays under the base URL. */
  private nextPage(headers: IncomingHttpHeaders): string | undefined {
    const link = headerValue(headers, 'link') ?? '';
    for (const part of link.split(',')) {
      const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
      if (!m) continue;
      const next = new URL(m[1]!, this.base);
      return next.origin === this.base.origin && next.pathname.startsWith(this.base.pathname) ? next.pathname.slice(this.base.pathname.length) + next.search : undefined;
    }
    return undefined;
  }

  /** POST /app/installations/{id}/access_tokens with the App's JWT. */
  private async exchangeJwt(installationId: string, jwt: string): Promise<Answer> {
    const what = `getting an installation token for GitHub App installation ${installationId}`;
    return this.call({ what, notFound: `GitHub App installation ${installationId} not found (check the installation id, and that the App is installed on the organization)` }, () =>
      this.request('POST', new URL(`app/installations/${enc(installationId)}/access_tokens`, this.base), `Bearer ${jwt}`, ''),
    );
  }

  /**
   * One API call, sent once (once more with a new installation token after a 401). A call the
   * primary rate limit would refuse is not sent: the RetryableError asks the outbox to come back
   * at the reset (rateGate.ts).
   */
  private async send(method: Method, path: string, body?: string): Promise<Answer> {
    const url = new URL(path, this.base);
    const bucket = url.href === this.graphqlUrl.href ? 'graphql' : 'core';
    const gate = this.gate.reserve(bucket);
    if (!gate.ok) {
      throw new RetryableError(`GitHub's ${bucket} rate limit is used up for ${Math.ceil(gate.waitMs / 1000)} s more; waiting instead of calling`, gate.waitMs, 'github_rate_limited');
    }
    try {
      if ('token' in this.auth) return await this.request(method, url, `Bearer ${this.auth.token}`, body, bucket);
      const first = await this.auth.app.get();
      try {
        return await this.request(method, url, `Bearer ${first}`, body, bucket);
      } catch (err) {
        if (!(err instanceof GitHubHttpError) || err.status !== 401) throw err;
        this.auth.app.invalidate(first);
        return await this.request(method, url, `Bearer ${await this.auth.app.get()}`, body, bucket);
      }
    } finally {
      this.gate.release(bucket, gate.ticket);
    }
  }

  private async request(method: Method, url: URL, authorization: string, body: string | undefined, bucket?: string): Promise<Answer> {
    const answer = await sendHttp(url, {
      method,
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: authorization,
        'X-GitHub-Api-Version': API_VERSION,
        // GitHub refuses requests without a User-Agent.
        'User-Agent': 'access-bot',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body ?? (method === 'GET' ? undefined : ''),
      timeoutMs: this.timeoutMs,
    });
    const resetAt = this.resetAt(answer.headers);
    if (bucket && resetAt !== undefined) {
      const remaining = Number(headerValue(answer.headers, 'x-ratelimit-remaining') ?? Number.NaN);
      if (remaining === 0 && (answer.status === 403 || answer.status === 429)) this.gate.exhausted(bucket, resetAt);
      else this.gate.observe(bucket, remaining, resetAt);
    }
    const parsed = parseJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return { status: answer.status, headers: answer.headers, body: parsed };
    const message = (parsed as { message?: unknown } | undefined)?.message;
    throw new GitHubHttpError(answer.status, typeof message === 'string' ? message : answer.text.replace(/\s+/g, ' ').slice(0, 200), answer.headers);
  }

  /** `x-ratelimit-reset` (epoch seconds) on our clock, read against the answer's `Date`. */
  private resetAt(headers: IncomingHttpHeaders): number | undefined {
    const secs = Number(headerValue(headers, 'x-ratelimit-reset') ?? Number.NaN);
    if (!Number.isFinite(secs)) return undefined;
    const now = this.now();
    const date = Date.parse(headerValue(headers, 'date') ?? '');
    return now + secs * 1000 - (Number.isNaN(date) ? now : date);
  }

  private resetWait(headers: IncomingHttpHeaders): number | undefined {
    const at = this.resetAt(headers);
    return at === undefined ? undefined : Math.max(1000, at - this.now());
  }

  private async call<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, ctx);
    }
  }

  private classify(err: unknown, ctx: CallContext): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    if (!(err instanceof GitHubHttpError)) return this.transportError(err, ctx);
    const { status, headers } = err;
    const said = this.redact(`${status}${err.ghMessage ? `: ${err.ghMessage}` : ''}`);
    if (status === 403 || status === 429) {
      if (headerValue(headers, 'x-ratelimit-remaining') === '0') {
        return new RetryableError(`GitHub's rate limit was reached while ${ctx.what} (${said})`, this.resetWait(headers) ?? SECONDARY_DEFAULT_MS, 'github_rate_limited');
      }
      const after = parseRetryAfter(headerValue(headers, 'retry-after'), this.now());
      if (after !== undefined || status === 429 || /secondary rate limit/i.test(err.ghMessage)) {
        return new RetryableError(`GitHub's secondary rate limit was reached while ${ctx.what} (${said})`, Math.max(1000, after ?? SECONDARY_DEFAULT_MS), 'github_secondary_rate_limited');
      }
      return new PermanentError(`GitHub refused ${ctx.what} (${said}); ${MEMBERS_PERMISSION}`, 'github_forbidden');
    }
    if (isRetryableStatus(status)) {
      const after = parseRetryAfter(headerValue(headers, 'retry-after'), this.now());
      return new RetryableError(`GitHub failed while ${ctx.what} (${said})`, after, 'github_unavailable');
    }
    if (status === 401) return new PermanentError(`GitHub rejected the credentials while ${ctx.what} (${said})`, 'github_auth');
    if (status === 404 && ctx.notFound) return new PermanentError(`${ctx.notFound} (while ${ctx.what})`, 'github_not_found');
    if (status === 404) return new PermanentError(`GitHub found nothing while ${ctx.what} (${said})`, 'github_not_found');
    return new PermanentError(`GitHub refused ${ctx.what} (${said})`, 'github_rejected');
  }

  private transportError(err: unknown, ctx: CallContext): RetryableError {
    if (err instanceof HttpTimeout) return new RetryableError(`GitHub did not answer within ${this.timeoutMs} ms while ${ctx.what}`, undefined, 'github_timeout');
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return new RetryableError(`could not reach GitHub while ${ctx.what} (${e.code})`, undefined, 'github_unreachable');
    const message = typeof e.message === 'string' ? e.message : String(err);
    return new RetryableError(this.redact(`unexpected failure while ${ctx.what}: ${message}`), undefined, 'github_unexpected');
  }
}

const MEMBERS_PERMISSION =
  'the GitHub App needs the organization permission Members (read and write), a classic token admin:org, a fine-grained token the organization permission Members (read and write); a team synchronised with an IdP group cannot be changed through the API';
/** github/docs#19652: Apps read SAML/SCIM identities with Members write (a known GitHub bug: read is not enough). */
const SAML_PERMISSION = 'reading SAML identities needs a classic token of an organization owner with admin:org, or a GitHub App with the organization permission Members (read and write)';

function team(group: string): { org: string; slug: string } {
  const t = parseTeam(group);
  if (!t) throw new PermanentError(`"${group}" is not a GitHub team: write <org>/<team-slug>`, 'github_bad_group');
  return t;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** A membership answer's `state`: `active` or `pending`. */
function stateOf(answer: Answer): unknown {
  return (answer.body as { state?: unknown } | undefined)?.state;
}

function membershipPath(org: string, slug: string, login: string): string {
  return `orgs/${enc(org)}/teams/${enc(slug)}/memberships/${enc(login)}`;
}

/** For the descriptor: reads the private key file (PEM) and the map file at start-up. */
export function readFileText(path: string): string {
  return fs.readFileSync(path, 'utf8');
}
