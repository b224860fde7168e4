/**
 * Slack's Web API, called directly over node:http(s) with keep-alive (src/adapters/http.ts).
 * The bot calls eight methods (users.info, users.lookupByEmail, usergroups.list,
 * usergroups.users.list, chat.postMessage, chat.update, chat.postEphemeral, views.open); under
 * @slack/web-api's WebClient each call went through axios and its config merging, ~0.5 ms of
 * CPU, the largest share of the bot's work per slash command (bench/README.md).
 *
 * Wire format, as Slack documents it (https://docs.slack.dev/apis/web-api/) and as the
 * WebClient sends it: `POST <api>/<method>`, the token as `Authorization: Bearer`, the arguments
 * form-encoded (every method accepts that; some read methods accept no JSON body), objects and
 * arrays (blocks, view) as JSON strings, null and undefined left out.
 *
 * Answers:
 * - HTTP 200 with `ok: true`: the result;
 * - HTTP 200 with `ok: false` and `error`: a platform error (`invalid_auth`, `user_not_found`…);
 * - HTTP 429 with `Retry-After` (seconds): rate limited
 *   (https://docs.slack.dev/apis/web-api/rate-limits);
 * - any other status: an HTTP error.
 *
 * Each call is sent once, with no retry (the WebClient's default retries for about 30 minutes,
 * which would hold an outbox lease and hide 429s): retrying is the outbox's job.
 *
 * Slack's limits are per method per workspace (same page). After a 429 on a method, every call
 * of that method is held until its `Retry-After` has passed (rateGate.ts): a held call is not
 * sent and rejects with a RetryableError naming the end of the hold, so a burst of DMs meets
 * one 429 (or the few already in flight with it), not one each.
 */
import { HttpTimeout, headerValue, sendHttp } from '../http.js';
import { parseJson } from '../idp/http.js';
import { RateGate } from '../rateGate.js';
import { PermanentError, RetryableError, isRetryableStatus, parseRetryAfter } from '../../outbox/errors.js';

/** Slack error codes that a later retry may get past. https://docs.slack.dev/apis/web-api/#errors */
const RETRYABLE_CODES = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

export const DEFAULT_SLACK_TIMEOUT_MS = 10_000;

/** What Slack answered, when it was not `ok`: a platform error, an HTTP status, or a 429. */
export class SlackApiError extends Error {
  constructor(
    readonly method: string,
    readonly kind: 'platform' | 'http' | 'ratelimited',
    /** The platform error code (`user_not_found`), for kind 'platform'. */
    readonly code: string | undefined,
    readonly status: number,
    /** From `Retry-After`, for kind 'ratelimited'. */
    readonly retryAfterMs?: number,
  ) {
    super(kind === 'platform' ? `Slack ${method}: ${code}` : kind === 'ratelimited' ? `Slack ${method}: rate limited` : `Slack ${method}: HTTP ${status}`);
    this.name = 'SlackApiError';
  }
}

export type SlackArgs = Record<string, string | number | boolean | object | null | undefined>;

/** The part of every Web API answer the bot reads; each method adds its own fields. */
export interface SlackResult {
  ok: boolean;
  error?: string;
  [field: string]: unknown;
}

export interface CallOptions {
  /**
   * How long the call may wait for its method's rate-limit hold to end before it is sent.
   * Default 0: the outbox comes back at the end of the hold instead. A call Slack waits on
   * (views.open, whose trigger id lives 3 s) gets a little; past that it fails fast.
   */
  maxWaitMs?: number;
}

export class SlackApi {
  /** The Web API base (`https://slack.com/api/`). */
  readonly base: URL;
  private readonly gate: RateGate;

  constructor(
    private readonly token: string,
    apiUrl: string,
    private readonly timeoutMs = DEFAULT_SLACK_TIMEOUT_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.base = new URL(apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
    this.gate = new RateGate(now);
  }

  /**
   * Calls `method` and resolves with Slack's answer when it is `ok`. Rejects with SlackApiError
   * for any other answer, with HttpTimeout after the timeout, with Node's error when Slack
   * cannot be reached, or with RetryableError (code `slack_rate_limited`, unsent) while the
   * method is held after a 429 longer than `opts.maxWaitMs`. `callClassified` turns those into
   * the outbox's two kinds.
   */
  async call<T extends SlackResult = SlackResult>(method: string, args: SlackArgs = {}, opts: CallOptions = {}): Promise<T> {
    const ticket = await this.admit(method, opts.maxWaitMs ?? 0);
    let answer;
    try {
      answer = await sendHttp(new URL(method, this.base), {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${this.token}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
          'User-Agent': 'access-bot',
        },
        body: formBody(args),
        timeoutMs: this.timeoutMs,
      });
    } finally {
      this.gate.release(method, ticket);
    }
    if (answer.status === 429) {
      const after = Math.max(1000, parseRetryAfter(headerValue(answer.headers, 'retry-after'), this.now()) ?? 1000);
      this.gate.exhausted(method, this.now() + after);
      throw new SlackApiError(method, 'ratelimited', undefined, 429, after);
    }
    if (answer.status !== 200) throw new SlackApiError(method, 'http', undefined, answer.status);
    const body = parseJson(answer.text) as SlackResult | undefined;
    if (typeof body !== 'object' || body === null || typeof body.ok !== 'boolean') throw new SlackApiError(method, 'platform', 'invalid_response', 200);
    if (!body.ok) throw new SlackApiError(method, 'platform', typeof body.error === 'string' && body.error ? body.error : 'unknown_error', 200);
    return body as T;
  }

  /** `call`, with every failure turned into RetryableError or PermanentError for the outbox. */
  async callClassified<T extends SlackResult = SlackResult>(method: string, args: SlackArgs = {}, opts: CallOptions = {}): Promise<T> {
    try {
      return await this.call<T>(method, args, opts);
    } catch (err) {
      throw this.classify(err, method);
    }
  }

  /** Waits out the method's hold if it ends within `maxWaitMs`, and gives the call's ticket; otherwise rejects at once, unsent. */
  private async admit(method: string, maxWaitMs: number): Promise<number> {
    let budget = maxWaitMs;
    for (;;) {
      const held = this.gate.reserve(method);
      if (held.ok) return held.ticket;
      if (held.waitMs > budget) {
        throw new RetryableError(
          `Slack ${method}: rate limited (an earlier call got a 429) for ${Math.ceil(held.waitMs / 1000)} s more; not sent`,
          held.waitMs,
          'slack_rate_limited',
        );
      }
      budget -= held.waitMs;
      await new Promise((resolve) => setTimeout(resolve, held.waitMs));
    }
  }

  classify(err: unknown, method: string): RetryableError | PermanentError {
    return classifySlackError(err, method, this.timeoutMs);
  }
}

/** Form-encodes the arguments the way Slack documents (and the WebClient sends) them. */
export function formBody(args: SlackArgs): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    form.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return form.toString();
}

/** A failed call, as the outbox sees it: worth retrying later, or not until a person acts. */
export function classifySlackError(err: unknown, method: string, timeoutMs = DEFAULT_SLACK_TIMEOUT_MS): RetryableError | PermanentError {
  if (err instanceof RetryableError || err instanceof PermanentError) return err;
  if (err instanceof SlackApiError) {
    switch (err.kind) {
      case 'ratelimited':
        return new RetryableError(err.message, err.retryAfterMs, 'ratelimited');
      case 'http':
        return isRetryableStatus(err.status) ? new RetryableError(err.message) : new PermanentError(err.message);
      case 'platform': {
        const code = err.code ?? 'unknown_error';
        return RETRYABLE_CODES.has(code) ? new RetryableError(err.message, undefined, code) : new PermanentError(err.message, code);
      }
    }
  }
  if (err instanceof HttpTimeout) return new RetryableError(`Slack ${method}: no answer within ${timeoutMs} ms`, undefined, 'slack_timeout');
  const e = err as { code?: unknown; message?: unknown } | null;
  const detail = typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message : String(err);
  return new RetryableError(`Slack ${method}: request failed (${detail})`, undefined, 'slack_unreachable');
}
