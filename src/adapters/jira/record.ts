/**
 * The Jira record over jira.js 5.4 (`Version3Client`, REST API v3): creates the request's issue,
 * writes each step as an ADF comment, sets issue properties and applies workflow transitions,
 * each idempotent across retries as `types.ts` requires, and every failure classified as
 * `RetryableError` or `PermanentError` for the outbox.
 *
 * Error messages name what went wrong (Jira's own `errorMessages` / `errors`), never the API
 * token or the Authorization header: the axios error jira.js wraps carries the request config
 * with that header, so it is read for status and headers only and never stringified.
 */
import { Buffer } from 'node:buffer';
import { Version3Client } from 'jira.js';
import { PermanentError, RetryableError, isRetryableStatus, parseRetryAfter } from '../../outbox/errors.js';
import { fitToLimit } from './adf.js';
import type { AdfDoc, CreateIssueInput, JiraRecord } from './types.js';

export interface JiraCloudRecordConfig {
  /** Site origin, e.g. https://example.atlassian.net (or an emulator's URL). */
  host: string;
  email: string;
  apiToken: string;
  /** Per-request timeout; a Jira that does not answer in time is a RetryableError. */
  timeoutMs?: number;
}

export interface JiraCloudRecordDeps {
  client?: Version3Client;
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

export function requestLabel(requestId: string): string {
  // Jira refuses labels with whitespace; request ids are ULIDs/UUIDs, anything else is made safe.
  return (REQUEST_LABEL_PREFIX + requestId.replace(/[^A-Za-z0-9_.:-]/g, '-')).slice(0, LABEL_MAX);
}

/** A JQL string literal. */
function jqlString(s: string): string {
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

export class JiraCloudRecord implements JiraRecord {
  private readonly now: () => number;
  private readonly secrets: string[];
  private readonly timeoutMs: number;

  static fromConfig(cfg: JiraCloudRecordConfig, deps: JiraCloudRecordDeps = {}): JiraCloudRecord {
    const timeoutMs = cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const client =
      deps.client ??
      new Version3Client({
        host: cfg.host,
        authentication: { basic: { email: cfg.email, apiToken: cfg.apiToken } },
        // axios timeout: a hanging Jira becomes ECONNABORTED, classified as retryable below.
        baseRequestConfig: { timeout: timeoutMs },
      });
    return new JiraCloudRecord(client, { secrets: [cfg.apiToken, Buffer.from(`${cfg.email}:${cfg.apiToken}`).toString('base64')], timeoutMs, now: deps.now });
  }

  constructor(
    private readonly client: Version3Client,
    opts: { secrets?: string[]; timeoutMs?: number; now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.secrets = (opts.secrets ?? []).filter((s) => s.length >= 4);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
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
    const created = await this.call(`create issue (project ${input.project}, type ${input.issueType})`, () =>
      this.client.issues.createIssue({
        fields: {
          project: { key: input.project },
          issuetype: { name: input.issueType },
          summary: cleanSummary(input.summary),
          description: fitToLimit(input.description),
          labels: [label],
        },
      }),
    );
    return { key: created.key, id: String(created.id) };
  }

  private async findByLabel(project: string, label: string): Promise<{ key: string; id: string } | undefined> {
    const jql = `project = ${jqlString(project)} AND labels = ${jqlString(label)} ORDER BY created ASC`;
    const res = await this.call(`look up issue labelled ${label} in project ${project}`, () =>
      this.client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql, fields: ['summary', 'labels'], maxResults: 5 }),
    );
    const first = res.issues?.[0];
    if (!first) return undefined;
    if (first.key) return { key: first.key, id: String(first.id) };
    // Enhanced search returns only ids unless fields are asked for; fetch the key if it is missing.
    const issue = await this.call(`read issue ${first.id}`, () => this.client.issues.getIssue({ issueIdOrKey: String(first.id), fields: ['summary'] }));
    return { key: issue.key, id: String(issue.id) };
  }

  // ----- addComment --------------------------------------------------------------------------

  /**
   * Unless `mayExist` is false, looks through the issue's comments (newest first, every page) for
   * the effect id before posting. The outbox counts an attempt before it starts, so only a first
   * attempt can be sure no earlier one posted (a crash or a lost answer makes the next attempt
   * the second): that saves a read per comment, about a third of the bot's Jira calls.
   */
  async addComment(issueKey: string, body: AdfDoc, effectId: string, opts: { mayExist?: boolean } = {}): Promise<{ id: string }> {
    if (!effectId) throw new PermanentError('Jira addComment: empty effectId', 'jira_bad_input');
    const existing = opts.mayExist === false ? undefined : await this.findComment(issueKey, effectId);
    if (existing) return { id: existing };
    const comment = await this.call(`add comment to ${issueKey}`, () =>
      this.client.issueComments.addComment({
        issueIdOrKey: issueKey,
        comment: fitToLimit(body),
        properties: [{ key: COMMENT_PROPERTY, value: { effectId } }],
      }),
    );
    return { id: String(comment.id) };
  }

  private async findComment(issueKey: string, effectId: string): Promise<string | undefined> {
    let startAt = 0;
    for (;;) {
      const page = await this.call(`read comments of ${issueKey}`, () =>
        this.client.issueComments.getComments({ issueIdOrKey: issueKey, startAt, maxResults: COMMENT_PAGE, orderBy: '-created', expand: 'properties' }),
      );
      const comments = page.comments ?? [];
      for (const c of comments) {
        const mark = (c.properties ?? []).find((p) => p.key === COMMENT_PROPERTY);
        if (isObject(mark?.value) && mark.value['effectId'] === effectId && c.id) return String(c.id);
      }
      startAt += comments.length;
      if (comments.length === 0 || startAt >= (page.total ?? 0)) return undefined;
    }
  }

  // ----- setProperty -------------------------------------------------------------------------

  async setProperty(issueKey: string, propertyKey: string, value: unknown): Promise<void> {
    if (propertyKey.length === 0 || propertyKey.length > 255) throw new PermanentError(`Jira setProperty: property key must be 1-255 characters, got ${propertyKey.length}`, 'jira_bad_input');
    if (value === undefined) throw new PermanentError(`Jira setProperty ${propertyKey}: value is undefined`, 'jira_bad_input');
    await this.call(`set property ${propertyKey} on ${issueKey}`, () =>
      isObject(value)
        ? this.client.issueProperties.setIssueProperty({ issueIdOrKey: issueKey, propertyKey, propertyValue: value })
        : // jira.js hands a primitive to axios as the raw body (a string would go out form-encoded,
          // not as JSON), so primitives are serialized here and sent as application/json.
          this.client.sendRequest<void>(
            {
              url: `/rest/api/3/issue/${encodeURIComponent(issueKey)}/properties/${encodeURIComponent(propertyKey)}`,
              method: 'PUT',
              data: JSON.stringify(value),
              headers: { 'Content-Type': 'application/json' },
            },
            undefined as never, // the overload without a callback resolves with the body
          ),
    );
  }

  // ----- transition --------------------------------------------------------------------------

  /**
   * One read (status, available transitions and the last transition this adapter applied), then
   * at most one write. The transition is posted together with the issue property
   * `access-bot-transition` = `{ name, to }` (Jira applies both in the same request), so after a
   * crash a retry can tell "already applied" from "no such transition" even though a transition
   * is only listed from the statuses it leaves.
   */
  async transition(issueKey: string, transitionName: string): Promise<void> {
    const wanted = transitionName.trim().toLowerCase();
    const issue = await this.call(`read status and transitions of ${issueKey}`, () =>
      this.client.issues.getIssue({ issueIdOrKey: issueKey, fields: ['status'], expand: 'transitions', properties: [TRANSITION_PROPERTY] }),
    );
    const status = String((issue.fields as { status?: { name?: string } } | undefined)?.status?.name ?? '');
    const available = issue.transitions ?? [];
    const t = available.find((x) => (x.name ?? '').toLowerCase() === wanted);
    if (t?.to?.name !== undefined && t.to.name === status) return; // already in its target status
    if (t?.id) {
      const id = t.id;
      await this.call(`transition ${issueKey} with "${t.name ?? transitionName}"`, () =>
        this.client.issues.doTransition({
          issueIdOrKey: issueKey,
          transition: { id },
          properties: [{ key: TRANSITION_PROPERTY, value: { name: t.name ?? transitionName, to: t.to?.name ?? null } }],
        }),
      );
      return;
    }
    const props = isObject(issue.properties) ? issue.properties : {};
    const last = props[TRANSITION_PROPERTY];
    if (isObject(last) && String(last['name'] ?? '').toLowerCase() === wanted && last['to'] === status) return; // applied before a crash
    const names = available.map((x) => `"${x.name ?? x.id ?? '?'}"`).join(', ');
    throw new PermanentError(
      `Jira issue ${issueKey} (status "${status}") has no transition named "${transitionName}"; available from this status: ${names || 'none'}`,
      'jira_transition_unknown',
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
        const me = await this.client.myself.getCurrentUser();
        return `authenticated as ${me.displayName ?? me.accountId}`;
      });
      if (!authed) return { ok: false, checks };
      const projectOk = await run(`jira project ${project}`, async () => {
        const p = await this.client.projects.getProject({ projectIdOrKey: project });
        return p.name ? `"${p.name}"` : undefined;
      });
      if (projectOk) {
        await run(`jira issue type ${issueType}`, async () => {
          const page = await this.client.issues.getCreateIssueMetaIssueTypes({ projectIdOrKey: project, maxResults: 200 });
          const types = page.issueTypes ?? [];
          if (!types.some((t) => (t.name ?? '').toLowerCase() === issueType.toLowerCase() && !t.subtask)) {
            throw new CheckFailed(`"${issueType}" cannot be created in ${project}; available: ${types.map((t) => t.name).join(', ') || 'none'}`);
          }
          return undefined;
        });
        await run(`jira permissions in ${project}`, async () => {
          const res = await this.client.permissions.getMyPermissions({ projectKey: project, permissions: REQUIRED_PERMISSIONS.join(',') });
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

  // ----- error classification ----------------------------------------------------------------

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, what);
    }
  }

  /** Turns whatever jira.js/axios threw into the outbox's two kinds, with a safe message. */
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
    const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
    const why = timedOut ? `no answer within ${this.timeoutMs} ms` : `connection failed (${code ?? message ?? 'unknown error'})`;
    return new RetryableError(this.redact(`Jira ${what}: ${why}`), undefined, timedOut ? 'jira_timeout' : 'jira_unreachable');
  }

  private redact(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join('[redacted]');
    return out.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._-]{8,}/g, '$1 [redacted]');
  }
}

class CheckFailed extends Error {}

/** Status, body, headers and code of a jira.js HttpException, an AxiosError, or anything else. */
function inspect(err: unknown): { status?: number; data?: unknown; headers?: unknown; code?: string; message?: string } {
  if (!isObject(err)) return { message: String(err) };
  const code = typeof err['code'] === 'string' ? err['code'] : undefined;
  const message = typeof err['message'] === 'string' ? err['message'] : undefined;
  // AxiosError: jira.js rethrows it as is when no answer came (refused, reset, timeout).
  if (err['isAxiosError'] === true) {
    const res = isObject(err['response']) ? err['response'] : undefined;
    if (res && typeof res['status'] === 'number') return { status: res['status'], data: res['data'], headers: res['headers'], code };
    return { code, message };
  }
  // jira.js HttpException for an answer: `status`, `response.data`, the AxiosError as `cause`.
  if (typeof err['status'] === 'number' && isObject(err['response'])) {
    const cause = isObject(err['cause']) ? err['cause'] : undefined;
    const answer = cause && cause['isAxiosError'] === true && isObject(cause['response']) ? cause['response'] : undefined;
    if (answer) return { status: err['status'], data: err['response']['data'], headers: answer['headers'], code };
    // jira.js also wraps errors that are not answers (status 500 by default): not from Jira.
    const inner = err['response'];
    return { code: typeof inner['code'] === 'string' ? inner['code'] : undefined, message: typeof inner['message'] === 'string' ? inner['message'] : message };
  }
  return { code, message };
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!isObject(headers)) return undefined;
  const get = headers['get'];
  if (typeof get === 'function') {
    const v: unknown = get.call(headers, name);
    if (v !== undefined && v !== null && v !== false) return String(v);
  }
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : headers[key];
  return v === undefined || v === null ? undefined : String(v);
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
