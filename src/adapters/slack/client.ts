/**
 * The bot's Slack Web API calls, with failures classified for the outbox. The WebClient is told
 * not to retry (`retries: 0`, `rejectRateLimitedCalls`): by default it retries for about 30
 * minutes, which would hold an outbox lease and hide 429s from our backoff.
 */
import { ErrorCode, WebClient, type WebAPICallError } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import type { Logger } from '@slack/bolt';
import type { SlackDirectory } from '../../app/context.js';
import { PermanentError, RetryableError } from '../../outbox/errors.js';

/** Slack error codes that a later retry may get past. https://api.slack.com/web#errors */
const RETRYABLE_CODES = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

export function classifySlackError(err: unknown, method: string): Error {
  const e = err as Partial<WebAPICallError> & Error;
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return new RetryableError(`Slack ${method}: rate limited`, ((e as { retryAfter?: number }).retryAfter ?? 1) * 1000, 'ratelimited');
    case ErrorCode.RequestError:
      return new RetryableError(`Slack ${method}: request failed (${e.message})`);
    case ErrorCode.HTTPError: {
      const status = (e as { statusCode?: number }).statusCode ?? 0;
      return status === 429 || status >= 500 ? new RetryableError(`Slack ${method}: HTTP ${status}`) : new PermanentError(`Slack ${method}: HTTP ${status}`);
    }
    case ErrorCode.PlatformError: {
      const code = (e as { data?: { error?: string } }).data?.error ?? 'unknown_error';
      return RETRYABLE_CODES.has(code) ? new RetryableError(`Slack ${method}: ${code}`, undefined, code) : new PermanentError(`Slack ${method}: ${code}`, code);
    }
    default:
      return new RetryableError(`Slack ${method}: ${e.message ?? String(err)}`);
  }
}

export interface SlackMessage {
  text: string;
  blocks?: KnownBlock[];
}

export function createWebClient(token: string, apiUrl: string, opts: { timeoutMs?: number; logger?: Logger } = {}): WebClient {
  return new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: opts.timeoutMs ?? 10_000, logger: opts.logger });
}

export class SlackGateway implements SlackDirectory {
  constructor(readonly client: WebClient) {}

  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifySlackError(err, method);
    }
  }

  async userInfo(userId: string): Promise<{ email?: string; name: string; deleted: boolean } | undefined> {
    try {
      const r = await this.client.users.info({ user: userId });
      const u = r.user;
      if (!u) return undefined;
      return { email: u.profile?.email, name: u.real_name || u.profile?.real_name || u.name || userId, deleted: Boolean(u.deleted) };
    } catch (err) {
      const c = classifySlackError(err, 'users.info');
      if (c instanceof PermanentError && c.code === 'user_not_found') return undefined;
      throw c;
    }
  }

  async lookupByEmail(email: string): Promise<{ slackId: string; name: string } | undefined> {
    try {
      const r = await this.client.users.lookupByEmail({ email });
      if (!r.user?.id || r.user.deleted) return undefined;
      return { slackId: r.user.id, name: r.user.real_name || r.user.profile?.real_name || r.user.name || email };
    } catch (err) {
      const c = classifySlackError(err, 'users.lookupByEmail');
      if (c instanceof PermanentError && c.code === 'users_not_found') return undefined;
      throw c;
    }
  }

  async usergroupMembers(handleOrId: string): Promise<string[] | undefined> {
    const groups = await this.call('usergroups.list', () => this.client.usergroups.list({ include_disabled: false }));
    const g = groups.usergroups?.find((x) => x.id === handleOrId || x.handle === handleOrId.replace(/^@/, ''));
    if (!g?.id) return undefined;
    const id = g.id;
    const r = await this.call('usergroups.users.list', () => this.client.usergroups.users.list({ usergroup: id }));
    return r.users ?? [];
  }

  /** DMs a user; Slack opens the conversation when `channel` is a user id. */
  async postDm(userId: string, msg: SlackMessage): Promise<{ channel: string; ts: string }> {
    return this.post(userId, msg);
  }

  async post(channel: string, msg: SlackMessage, threadTs?: string): Promise<{ channel: string; ts: string }> {
    const r = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks, thread_ts: threadTs, unfurl_links: false, unfurl_media: false }),
    );
    if (!r.channel || !r.ts) throw new RetryableError('Slack chat.postMessage: no channel or ts in the answer');
    return { channel: r.channel, ts: r.ts };
  }

  async update(channel: string, ts: string, msg: SlackMessage): Promise<void> {
    await this.call('chat.update', () => this.client.chat.update({ channel, ts, text: msg.text, blocks: msg.blocks ?? [] }));
  }

  async ephemeral(target: { user: string; channel?: string; responseUrl?: string }, text: string): Promise<void> {
    if (target.responseUrl && URL.canParse(target.responseUrl)) {
      // response_url needs no token; Slack accepts it for 30 minutes, 5 times.
      const res = await fetch(target.responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(10_000),
      }).catch((err: Error) => {
        throw new RetryableError(`Slack response_url: ${err.message}`);
      });
      if (res.ok) return;
      if (res.status === 429 || res.status >= 500) throw new RetryableError(`Slack response_url: HTTP ${res.status}`);
      // An expired response_url: fall back to a posted ephemeral or a DM below.
    }
    if (target.channel) {
      try {
        await this.call('chat.postEphemeral', () => this.client.chat.postEphemeral({ channel: target.channel!, user: target.user, text }));
        return;
      } catch (err) {
        // Not in that channel (user_not_in_channel, channel_not_found): tell them by DM instead.
        if (!(err instanceof PermanentError)) throw err;
      }
    }
    await this.post(target.user, { text });
  }
}
