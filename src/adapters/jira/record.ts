/**
 * The Jira record over Jira Cloud's REST API v3, called directly over node:http(s) with
 * keep-alive (`sendHttp`, src/adapters/http.ts): creates the request's issue, writes each step as
 * an ADF comment, sets issue properties and applies workflow transitions, each idempotent across
 * retries as `types.ts` requires, and every failure classified as `RetryableError` or
 * `PermanentError` for the outbox. It used to call them through jira.js's `Version3Client`,
 * whose axios stack cost the bot a millisecond or more of CPU per call on a request's path
 * (bench/README.md), for eleven endpoints; the requests are the ones jira.js 5.4 sent.
 *
 * Endpoints (https://developer.atlassian.com/cloud/jira/platform/rest/v3/), basic auth with the
 * account's email and API token (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/):
 * - `POST /rest/api/3/search/jql` (enhanced JQL search, .../api-group-issue-search/)
 * - `POST /rest/api/3/issue`, `GET /rest/api/3/issue/{issueIdOrKey}?fields=…&expand=…&properties=…`,
 *   `POST /rest/api/3/issue/{issueIdOrKey}/transitions`,
 *   `GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes?maxResults=…` (.../api-group-issues/)
 * - `POST` / `GET /rest/api/3/issue/{issueIdOrKey}/comment` (`startAt`, `maxResults`, `orderBy`,
 *   `expand=properties`) (.../api-group-issue-comments/)
 * - `PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}`, any JSON value (.../api-group-issue-properties/)
 * - `GET /rest/api/3/myself` (.../api-group-myself/), `GET /rest/api/3/project/{projectIdOrKey}`
 *   (.../api-group-projects/), `GET /rest/api/3/mypermissions?projectKey=…&permissions=…`
 *   (.../api-group-permissions/)
 *
 * Each request is sent once, with a timeout over the whole exchange: retrying is the outbox's
 * job (ARCHITECTURE.md §1.2). Errors: a non-2xx answer carries `{"errorMessages": […],
 * "errors": {field: message}}` (or, from a proxy, text or HTML); 429s carry `Retry-After` and
 * `X-RateLimit-Reset` (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
 * Error messages name what went wrong (Jira's own `errorMessages` / `errors`), never the API
 * token or the Authorization header.
 *
 * `classify` also reads the errors jira.js throws (an HttpException for an answer, an AxiosError
 * when none came): the Atlassian groups connector (src/adapters/idp/atlassian.ts) still calls
 * Jira through jira.js and judges its failures with this classifier.
 */
import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { headerValue, HttpTimeout, sendHttp } from '../http.js';
import { nonEmpty, parseJson } from '../idp/http.js';
import { PermanentError, RetryableError, isRetryableStatus, parseRetryAfter } from '../../outbox/errors.js';
import { redactor } from '../../redact.js';
import { fitToLimit } from './adf.js';
import type { AdfDoc, CreateIssueInput, JiraRecord } from './types.js';

export interface JiraCloudRecordConfig {
  /** Site origin, e.g. https://example.atlassian.net (or an emulator's URL). */
  host: string;
  email: string;
  apiToken: string;
  /** Per request, headers and body included; a Jira that does not answer in time is a RetryableError. */
  timeoutMs?: number;
}

export interface JiraCloudRecordDeps {
  now?: () => number;
}

/** Label that marks the issue of one request: `access-bot-<requestId>`. */
export const REQUEST_LABEL_PREFIX = 'access-bot-';
/** Comment property carrying `{ effectId }`, so a retried comment is recognised. */
export const COMMENT_PROPERTY = 'access-bot';
/** Issue property set atomically with each transition: `{ name, to }` of the last one applied. */
export const TRANSITION_PROPERTY = 'access-bot-transition';
export const DEFAULT_TIMEOUT_MS = 15_000;
/** What the bot does in the project: search, create, set properties (edit), comment, transition. */
export const REQUIRED_PERMISSIONS = ['BROWSE_PROJECTS', 'CREATE_ISSUES', 'EDIT_ISSUES', 'ADD_COMMENTS', 'TRANSITION_ISSUES'] as const;

const SUMMARY_MAX = 255;
const LABEL_MAX = 255;
const COMMENT_PAGE = 100;
const API = 'rest/api/3';

export function requestLabel(requestId: string): string {
  // Jira refuses labels with whitespace; request ids are ULIDs/UUIDs, anything else is made safe.
  return (REQUEST_LABEL_PREFIX + requestId.replace(/[^A-Za-z0-9_.:-]/g, '-')).slice(0, LABEL_MAX);
}

/** A JQL string literal. */
export function jqlString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Jira refuses summaries with line breaks or over 255 characters. */
function cleanSummary(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= SUMMARY_MAX ? one : `${one.slice(0, SUMMARY_MAX - 1)}…`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** An id Jira sent as a string or a number; undefined when it sent none. */
function nonEmptyId(v: unknown): string | undefined {
  return (typeof v === 'string' && v !== '') || typeof v === 'number' ? String(v) : undefined;
}

/** A path segment (issue key, property key, project key). */
const seg = encodeURIComponent;

/** A query string as jira.js wrote it: values URI-encoded, lists comma-joined with the commas kept. */
function query(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v)).replace(/%2C/gi, ',')}`)
    .join('&');
}

// ----- the parts of Jira's answers this adapter reads ------------------------------------------

interface IssueLike {
  id?: string | number;
  key?: string;
  fields?: { status?: { name?: string } };
  transitions?: { id?: string; name?: string; to?: { name?: string } }[];
  properties?: Record<string, unknown>;
}

interface SearchPage {
  issues?: IssueLike[];
}

interface CommentPage {
  total?: number;
  comments?: { id?: string | number; properties?: { key?: string; value?: unknown }[] }[];
}

/** A non-2xx answer, as Jira gave it: the body parsed as JSON when it is JSON, else its text. */
class JiraHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: IncomingHttpHeaders,
  ) {
    super(`Jira answered ${status}`);
  }
}

export class JiraCloudRecord implements JiraRecord {
  private readonly redact: (text: string) => string;
  private readonly headers: Record<string, string>;

  static fromConfig(cfg: JiraCloudRecordConfig, deps: JiraCloudRecordDeps = {}): JiraCloudRecord {
    const base = new URL(cfg.host.replace(/\/+$/, '') + '/');
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`JIRA_HOST must be an http(s) URL, got ${base.protocol}`);
    const basic = Buffer.from(`${cfg.email}:${cfg.apiToken}`).toString('base64');
    return new JiraCloudRecord(base, basic, [cfg.apiToken, basic], cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS, deps.now ?? Date.now);
  }

  private constructor(
    private readonly base: URL,
    basic: string,
    secrets: string[],
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.redact = redactor(secrets);
    this.headers = { Authorization: `Basic ${basic}`, Accept: 'application/json', 'User-Agent': 'access-bot' };
  }

  // ----- createIssue -------------------------------------------------------------------------

  /**
   * Looks the request's label up before creating, and adopts what it finds.
   *
   * Trade-off: Jira's JQL search is eventually consistent (the enhanced search documents that
   * recent updates may be missing; `reconcileIssues` only helps for ids one already knows). A
   * retry that runs within the indexing lag of a create whose answer was lost could miss the
   * issue and create a second one. The outbox's first retry comes seconds later, which is
   * normally longer than the lag, so the window is small; the lookup costs one cheap search per
   * create, which is why it always runs instead of only after a failed attempt. If duplicates
   * ever appear, the oldest issue is the one adopted (ORDER BY created ASC), so every later
   * effect lands on the same issue.
   */
  async createIssue(input: CreateIssueInput): Promise<{ key: string; id: string }> {
    if (!input.requestId) throw new PermanentError('Jira createIssue: empty requestId', 'jira_bad_input');
    const label = requestLabel(input.requestId);
    const found = await this.findByLabel(input.project, label);
    if (found) return found;
    const what = `create issue (project ${input.project}, type ${input.issueType})`;
    const created = (await this.call(what, () =>
      this.send('POST', `${API}/issue`, {
        fields: {
          project: { key: input.project },
          issuetype: { name: input.issueType },
          summary: cleanSummary(input.summary),
          description: fitToLimit(input.description),
          labels: [label],
        },
      }),
    )) as IssueLike | undefined;
    return issueRef(created, what);
  }

  private async findByLabel(project: string, label: string): Promise<{ key: string; id: string } | undefined> {
    const jql = `project = ${jqlString(project)} AND labels = ${jqlString(label)} ORDER BY created ASC`;
    const res = (await this.call(`look up issue labelled ${label} in project ${project}`, () =>
      this.send('POST', `${API}/search/jql`, { fields: ['summary', 'labels'], jql, maxResults: 5 }),
    )) as SearchPage | undefined;
    const first = res?.issues?.[0];
    if (!first) return undefined;
    if (first.key) return { key: first.key, id: String(first.id) };
    // Enhanced search returns only ids unless fields are asked for; fetch the key if it is missing.
    const what = `read issue ${first.id}`;
    const issue = (await this.call(what, () => this.send('GET', `${API}/issue/${seg(String(first.id))}?${query({ fields: 'summary' })}`))) as IssueLike | undefined;
    return issueRef(issue, what);
  }

  // ----- addComment --------------------------------------------------------------------------

  /**
   * Unless `mayExist` is false, looks through the issue's comments (newest first, every page) for
   * the effect id before posting. The outbox counts an attempt before it starts, so only a first
   * attempt can be sure no earlier one posted (a crash or a lost answer makes the next attempt
   * the second): that saves a read per comment, about a third of the bot's Jira calls.
   */
  async addComment(issueKey: string, body: AdfDoc, effectId: string, opts: { mayExist?: boolean } = {}): Promise<{ id: string; existed?: true }> {
    if (!effectId) throw new PermanentError('Jira addComment: empty effectId', 'jira_bad_input');
    const existing = opts.mayExist === false ? undefined : await this.findComment(issueKey, effectId);
    if (existing) return { id: existing, existed: true };
    const comment = (await this.call(`add comment to ${issueKey}`, () =>
      this.send('POST', `${API}/issue/${seg(issueKey)}/comment`, {
        body: fitToLimit(body),
        properties: [{ key: COMMENT_PROPERTY, value: { effectId } }],
      }),
    )) as { id?: string | number | null } | undefined;
    // Jira answers 201 with the comment, id included. The id is what tells the bot's own comments
    // from others when Jira reports an edit or a deletion (app/jiraChange.ts), so an answer
    // without one is not taken as is: the comment is looked up by its effect id, and if it
    // cannot be found the effect is tried again (the retry looks before it posts).
    const id = nonEmptyId(comment?.id) ?? (await this.findComment(issueKey, effectId));
    if (id === undefined) throw new RetryableError(`Jira answered the comment on ${issueKey} without an id, and no comment carries effect ${effectId}`, undefined, 'jira_bad_answer');
    return { id };
  }

  private async findComment(issueKey: string, effectId: string): Promise<string | undefined> {
    let startAt = 0;
    for (;;) {
      const q = query({ startAt, maxResults: COMMENT_PAGE, orderBy: '-created', expand: 'properties' });
      const page = (await this.call(`read comments of ${issueKey}`, () => this.send('GET', `${API}/issue/${seg(issueKey)}/comment?${q}`))) as CommentPage | undefined;
      const comments = page?.comments ?? [];
      for (const c of comments) {
        const mark = (c.properties ?? []).find((p) => p.key === COMMENT_PROPERTY);
        if (isObject(mark?.value) && mark.value['effectId'] === effectId && c.id) return String(c.id);
      }
      startAt += comments.length;
      if (comments.length === 0 || startAt >= (page?.total ?? 0)) return undefined;
    }
  }

  // ----- setProperty -------------------------------------------------------------------------

  /** Any JSON value: objects, and primitives too (a string goes out as a JSON string). */
  async setProperty(issueKey: string, propertyKey: string, value: unknown): Promise<void> {
    if (propertyKey.length === 0 || propertyKey.length > 255) throw new PermanentError(`Jira setProperty: property key must be 1-255 characters, got ${propertyKey.length}`, 'jira_bad_input');
    if (value === undefined) throw new PermanentError(`Jira setProperty ${propertyKey}: value is undefined`, 'jira_bad_input');
    await this.call(`set property ${propertyKey} on ${issueKey}`, () => this.send('PUT', `${API}/issue/${seg(issueKey)}/properties/${seg(propertyKey)}`, value));
  }

  // ----- transition --------------------------------------------------------------------------

  /**
   * One read (status, available transitions and the last transition this adapter applied), then
   * at most one write. The transition is posted together with the issue property
   * `access-bot-transition` = `{ name, to }` (Jira applies both in the same request), so after a
   * crash a retry can tell "already applied" from "no such transition" even though a transition
   * is only listed from the statuses it leaves. `doneIn`: statuses that already say what the
   * transition would (a person moved the issue there): nothing is applied from those.
   */
  async transition(issueKey: string, transitionName: string, opts: { doneIn?: string[] } = {}): Promise<void> {
    const wanted = transitionName.trim().toLowerCase();
    const issue = await this.readTransitions(issueKey);
    const status = String(issue.fields?.status?.name ?? '');
    if ((opts.doneIn ?? []).some((d) => d.trim().toLowerCase() === status.trim().toLowerCase())) return;
    const available = Array.isArray(issue.transitions) ? issue.transitions : [];
    const t = available.find((x) => (x.name ?? '').toLowerCase() === wanted);
    if (t?.to?.name !== undefined && t.to.name === status) return; // already in its target status
    if (t?.id) return this.apply(issueKey, t, transitionName);
    const props = isObject(issue.properties) ? issue.properties : {};
    const last = props[TRANSITION_PROPERTY];
    if (isObject(last) && String(last['name'] ?? '').toLowerCase() === wanted && last['to'] === status) return; // applied before a crash
    const names = available.map((x) => `"${x.name ?? x.id ?? '?'}"`).join(', ');
    throw new PermanentError(
      `Jira issue ${issueKey} (status "${status}") has no transition named "${transitionName}"; available from this status: ${names || 'none'}`,
      'jira_transition_unknown',
    );
  }

  /**
   * Moves the issue to the status `to` by whichever transition available now leads there: after
   * a refused move in Jira, the issue goes back where it was. `no_transition` when the workflow
   * offers none from the current status.
   */
  async moveToStatus(issueKey: string, to: string): Promise<'moved' | 'already' | 'no_transition'> {
    const issue = await this.readTransitions(issueKey);
    const same = (a: string | undefined) => (a ?? '').trim().toLowerCase() === to.trim().toLowerCase();
    if (same(issue.fields?.status?.name)) return 'already';
    const t = (Array.isArray(issue.transitions) ? issue.transitions : []).find((x) => same(x.to?.name));
    if (!t?.id) return 'no_transition';
    await this.apply(issueKey, t, t.name ?? t.id);
    return 'moved';
  }

  private async readTransitions(issueKey: string): Promise<IssueLike> {
    const q = query({ fields: 'status', expand: 'transitions', properties: TRANSITION_PROPERTY });
    return ((await this.call(`read status and transitions of ${issueKey}`, () => this.send('GET', `${API}/issue/${seg(issueKey)}?${q}`))) ?? {}) as IssueLike;
  }

  private async apply(issueKey: string, t: { id?: string; name?: string; to?: { name?: string } }, name: string): Promise<void> {
    await this.call(`transition ${issueKey} with "${t.name ?? name}"`, () =>
      this.send('POST', `${API}/issue/${seg(issueKey)}/transitions`, {
        properties: [{ key: TRANSITION_PROPERTY, value: { name: t.name ?? name, to: t.to?.name ?? null } }],
        transition: { id: t.id },
      }),
    );
  }

  // ----- checkHealth -------------------------------------------------------------------------

  async checkHealth(project: string, issueType: string, transitionNames: string[]): Promise<{ ok: boolean; checks: { name: string; ok: boolean; detail?: string }[] }> {
    const checks: { name: string; ok: boolean; detail?: string }[] = [];
    const run = async (name: string, fn: () => Promise<string | undefined>): Promise<boolean> => {
      try {
        const detail = await fn();
        checks.push(detail === undefined ? { name, ok: true } : { name, ok: true, detail });
        return true;
      } catch (err) {
        checks.push({ name, ok: false, detail: err instanceof CheckFailed ? err.message : this.classify(err, name).message });
        return false;
      }
    };
    try {
      const authed = await run('jira credentials', async () => {
        const me = ((await this.send('GET', `${API}/myself`)) ?? {}) as { displayName?: string; accountId?: string };
        return `authenticated as ${nonEmpty(me.displayName) ?? me.accountId}`;
      });
      if (!authed) return { ok: false, checks };
      // No project: the credentials only (`access-bot check` before the catalog is valid). Asking
      // anyway would be GET /rest/api/3/project/, which is no lookup of a project.
      if (project === '') return { ok: true, checks };
      const projectOk = await run(`jira project ${project}`, async () => {
        const p = ((await this.send('GET', `${API}/project/${seg(project)}`)) ?? {}) as { name?: string };
        const name = nonEmpty(p.name);
        return name ? `"${name}"` : undefined;
      });
      if (projectOk) {
        await run(`jira issue type ${issueType}`, async () => {
          const page = ((await this.send('GET', `${API}/issue/createmeta/${seg(project)}/issuetypes?${query({ maxResults: 200 })}`)) ?? {}) as {
            issueTypes?: { name?: string; subtask?: boolean }[];
          };
          const types = page.issueTypes ?? [];
          if (!types.some((t) => (t.name ?? '').toLowerCase() === issueType.toLowerCase() && !t.subtask)) {
            throw new CheckFailed(`"${issueType}" cannot be created in ${project}; available: ${types.map((t) => t.name).join(', ') || 'none'}`);
          }
          return undefined;
        });
        await run(`jira permissions in ${project}`, async () => {
          const res = ((await this.send('GET', `${API}/mypermissions?${query({ projectKey: project, permissions: REQUIRED_PERMISSIONS.join(',') })}`)) ?? {}) as { permissions?: unknown };
          const granted = isObject(res.permissions) ? res.permissions : {};
          const missing = REQUIRED_PERMISSIONS.filter((k) => !(isObject(granted[k]) && granted[k]['havePermission'] === true));
          if (missing.length > 0) throw new CheckFailed(`missing: ${missing.join(', ')}`);
          return REQUIRED_PERMISSIONS.join(', ');
        });
      }
      if (transitionNames.length > 0) {
        // Jira lists transitions per issue (from its current status); without an issue they can
        // only be confirmed on first use, where an unknown name fails naming the available ones.
        checks.push({ name: 'jira transitions', ok: true, detail: `${transitionNames.join(', ')}: checked when first applied` });
      }
    } catch (err) {
      checks.push({ name: 'jira', ok: false, detail: this.redact(err instanceof Error ? err.message : String(err)) });
    }
    return { ok: checks.every((c) => c.ok), checks };
  }

  // ----- HTTP and error classification -------------------------------------------------------

  /**
   * One call to the site under this client's credentials, timeout and error classification, for
   * the other Jira adapters (users.ts, issueFeed.ts, fields.ts): `path` is relative to the site
   * (`rest/api/3/user?accountId=…`); resolves with the parsed body, rejects with a
   * RetryableError or PermanentError whose message starts with `Jira <what>`.
   */
  api(method: 'GET' | 'POST' | 'PUT', path: string, what: string, json?: unknown): Promise<unknown> {
    return this.call(what, () => this.send(method, path, json));
  }

  /**
   * One request, sent once; `json` (when given) goes out as the JSON body. A 2xx answer resolves
   * with its body parsed as JSON (undefined when empty, e.g. a 204); any other is thrown as
   * JiraHttpError.
   */
  private async send(method: 'GET' | 'POST' | 'PUT', path: string, json?: unknown): Promise<unknown> {
    const answer = await sendHttp(new URL(path, this.base), {
      method,
      headers: json === undefined ? this.headers : { ...this.headers, 'Content-Type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
      timeoutMs: this.timeoutMs,
    });
    const body = parseJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return body;
    throw new JiraHttpError(answer.status, body === undefined ? answer.text : body, answer.headers);
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, what);
    }
  }

  /** Turns what a call threw (or what jira.js threw, for the Atlassian connector) into the outbox's two kinds, with a safe message. */
  classify(err: unknown, what: string): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    const { status, data, headers, code, message } = inspect(err);
    if (status !== undefined) {
      const detail = describeBody(data);
      if (status === 429 || isRetryableStatus(status)) {
        const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), this.now()) ?? resetDelay(headerValue(headers, 'x-ratelimit-reset'), this.now());
        const reason = headerValue(headers, 'ratelimit-reason');
        const head = status === 429 ? `rate limited (429${reason ? `, ${reason}` : ''})` : `Jira answered ${status}`;
        return new RetryableError(this.redact(`Jira ${what}: ${head}${detail}`), retryAfterMs, status === 429 ? 'jira_rate_limited' : 'jira_unavailable');
      }
      const [text, kind] =
        status === 401
          ? ['credentials rejected (401); check JIRA_EMAIL and JIRA_API_TOKEN', 'jira_unauthorized']
          : status === 403
            ? ['forbidden (403): the account lacks a permission', 'jira_forbidden']
            : status === 404
              ? ['not found (404)', 'jira_not_found']
              : status === 400
                ? ['rejected (400)', 'jira_bad_request']
                : [`answered ${status}`, `jira_http_${status}`];
      return new PermanentError(this.redact(`Jira ${what}: ${text}${detail}`), kind);
    }
    // No answer: a timeout (sendHttp's, or axios's ECONNABORTED), or a connection that failed.
    const timedOut = err instanceof HttpTimeout || code === 'ECONNABORTED' || code === 'ETIMEDOUT';
    const why = timedOut ? `no answer within ${this.timeoutMs} ms` : `connection failed (${code ?? message ?? 'unknown error'})`;
    return new RetryableError(this.redact(`Jira ${what}: ${why}`), undefined, timedOut ? 'jira_timeout' : 'jira_unreachable');
  }
}

class CheckFailed extends Error {}

/**
 * Key and id of the issue in a 2xx answer. One without a key (a proxy's page, say) is retried:
 * a create that did happen is then found by its label.
 */
function issueRef(issue: IssueLike | undefined, what: string): { key: string; id: string } {
  if (!issue?.key) throw new RetryableError(`Jira ${what}: the answer names no issue`, undefined, 'jira_bad_answer');
  return { key: issue.key, id: String(issue.id) };
}

interface Failure {
  /** Set when Jira answered. */
  status?: number;
  data?: unknown;
  headers: IncomingHttpHeaders;
  code?: string;
  message?: string;
}

/**
 * Status, body and headers of a JiraHttpError; otherwise `code` and `message` of a connection
 * failure (Node's own error). jira.js's errors are read too, for the Atlassian connector: an
 * HttpException for an answer (`status`, `response.data`, the AxiosError with the headers as
 * `cause`), an AxiosError as is when no answer came. The AxiosError carries the request config
 * with the Authorization header, so it is read field by field and never stringified.
 */
function inspect(err: unknown): Failure {
  if (err instanceof JiraHttpError) return { status: err.status, data: err.body, headers: err.headers };
  if (!isObject(err)) return { headers: {}, message: String(err) };
  const code = typeof err['code'] === 'string' ? err['code'] : undefined;
  const message = typeof err['message'] === 'string' ? err['message'] : undefined;
  if (err['isAxiosError'] === true) {
    const res = isObject(err['response']) ? err['response'] : undefined;
    if (res && typeof res['status'] === 'number') return { status: res['status'], data: res['data'], headers: headersOf(res['headers']), code };
    return { headers: {}, code, message };
  }
  if (typeof err['status'] === 'number' && isObject(err['response'])) {
    const cause = isObject(err['cause']) ? err['cause'] : undefined;
    const answer = cause && cause['isAxiosError'] === true && isObject(cause['response']) ? cause['response'] : undefined;
    if (answer) return { status: err['status'], data: err['response']['data'], headers: headersOf(answer['headers']), code };
    // jira.js also wraps errors that are not answers (status 500 by default): not from Jira.
    const inner = err['response'];
    return { headers: {}, code: typeof inner['code'] === 'string' ? inner['code'] : undefined, message: typeof inner['message'] === 'string' ? inner['message'] : message };
  }
  return { headers: {}, code, message };
}

/** axios's response headers (an AxiosHeaders, keyed by the lower-case names Node gave). */
function headersOf(h: unknown): IncomingHttpHeaders {
  return isObject(h) ? (h as IncomingHttpHeaders) : {};
}

/** X-RateLimit-Reset is an ISO 8601 time (`yyyy-MM-ddTHH:mmZ`); the wait until then. */
function resetDelay(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** ": " + Jira's errorMessages and field errors, or a short text body; "" when there is nothing. */
function describeBody(data: unknown): string {
  const parts: string[] = [];
  if (isObject(data)) {
    const messages = data['errorMessages'];
    if (Array.isArray(messages)) parts.push(...messages.map(String).filter((m) => m.length > 0));
    const errors = data['errors'];
    if (isObject(errors)) parts.push(...Object.entries(errors).map(([k, v]) => `${k}: ${String(v)}`));
    if (parts.length === 0 && typeof data['message'] === 'string') parts.push(data['message']);
  } else if (typeof data === 'string') {
    const text = data.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    if (text) parts.push(text.length > 200 ? `${text.slice(0, 200)}…` : text);
  }
  const joined = parts.join('; ');
  return joined ? `: ${joined.length > 500 ? `${joined.slice(0, 500)}…` : joined}` : '';
}
