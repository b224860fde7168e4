/**
 * The bot's Slack Web API calls (api.ts), with failures classified for the outbox, as the
 * directory the use cases read (users, user groups) and the messages they send.
 */
import type { KnownBlock } from '@slack/types';
import type { SlackDirectory } from '../../app/context.js';
import { HttpTimeout, sendHttp } from '../http.js';
import { PermanentError, RetryableError } from '../../outbox/errors.js';
import type { SlackApi, SlackResult } from './api.js';

/** The fields of a Slack user object the bot reads. https://docs.slack.dev/reference/objects/user-object */
interface SlackUser {
  id?: string;
  name?: string;
  real_name?: string;
  deleted?: boolean;
  profile?: { email?: string; real_name?: string };
}

export interface SlackMessage {
  text: string;
  blocks?: KnownBlock[];
}

export class SlackGateway implements SlackDirectory {
  constructor(readonly api: SlackApi) {}

  async userInfo(userId: string): Promise<{ email?: string; name: string; deleted: boolean } | undefined> {
    try {
      const u = (await this.api.call<SlackResult & { user?: SlackUser }>('users.info', { user: userId })).user;
      if (!u) return undefined;
      return { email: u.profile?.email, name: u.real_name || u.profile?.real_name || u.name || userId, deleted: Boolean(u.deleted) };
    } catch (err) {
      const c = this.api.classify(err, 'users.info');
      if (c instanceof PermanentError && c.code === 'user_not_found') return undefined;
      throw c;
    }
  }

  async lookupByEmail(email: string): Promise<{ slackId: string; name: string } | undefined> {
    try {
      const u = (await this.api.call<SlackResult & { user?: SlackUser }>('users.lookupByEmail', { email })).user;
      if (!u?.id || u.deleted) return undefined;
      return { slackId: u.id, name: u.real_name || u.profile?.real_name || u.name || email };
    } catch (err) {
      const c = this.api.classify(err, 'users.lookupByEmail');
      if (c instanceof PermanentError && c.code === 'users_not_found') return undefined;
      throw c;
    }
  }

  async usergroupMembers(handleOrId: string): Promise<string[] | undefined> {
    const groups = await this.api.callClassified<SlackResult & { usergroups?: { id?: string; handle?: string }[] }>('usergroups.list', { include_disabled: false });
    const g = groups.usergroups?.find((x) => x.id === handleOrId || x.handle === handleOrId.replace(/^@/, ''));
    if (!g?.id) return undefined;
    const r = await this.api.callClassified<SlackResult & { users?: string[] }>('usergroups.users.list', { usergroup: g.id });
    return r.users ?? [];
  }

  /** DMs a user; Slack opens the conversation when `channel` is a user id. */
  async postDm(userId: string, msg: SlackMessage): Promise<{ channel: string; ts: string }> {
    return this.post(userId, msg);
  }

  async post(channel: string, msg: SlackMessage, threadTs?: string): Promise<{ channel: string; ts: string }> {
    const r = await this.api.callClassified<SlackResult & { channel?: string; ts?: string }>('chat.postMessage', {
      channel,
      text: msg.text,
      blocks: msg.blocks,
      thread_ts: threadTs,
      unfurl_links: false,
      unfurl_media: false,
    });
    if (!r.channel || !r.ts) throw new RetryableError('Slack chat.postMessage: no channel or ts in the answer');
    return { channel: r.channel, ts: r.ts };
  }

  async update(channel: string, ts: string, msg: SlackMessage): Promise<void> {
    await this.api.callClassified('chat.update', { channel, ts, text: msg.text, blocks: msg.blocks ?? [] });
  }

  /**
   * Replies privately: through the interaction's response_url when it is Slack's (see
   * `isSlackResponseUrl`), else with chat.postEphemeral in the channel, else by DM. A redirect
   * from a response_url is never followed. Says how it went, and names the origin of a
   * response_url it refused to contact.
   */
  async ephemeral(target: { user: string; channel?: string; responseUrl?: string }, msg: SlackMessage): Promise<EphemeralOutcome> {
    let refused: string | undefined;
    if (target.responseUrl && !isSlackResponseUrl(target.responseUrl, this.api.base)) {
      refused = URL.canParse(target.responseUrl) ? new URL(target.responseUrl).origin : 'unparseable';
    } else if (target.responseUrl) {
      // response_url needs no token; Slack accepts it for 30 minutes, 5 times.
      const answer = await sendHttp(new URL(target.responseUrl), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'access-bot' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: msg.text, blocks: msg.blocks }),
        timeoutMs: RESPONSE_URL_TIMEOUT_MS,
      }).catch((err: unknown) => {
        throw new RetryableError(`Slack response_url: ${err instanceof HttpTimeout ? `no answer within ${RESPONSE_URL_TIMEOUT_MS} ms` : ((err as { code?: string }).code ?? String(err))}`);
      });
      if (answer.status >= 200 && answer.status < 300) return { via: 'response_url' };
      if (answer.status === 429 || answer.status >= 500) throw new RetryableError(`Slack response_url: HTTP ${answer.status}`);
      // Expired or used up (404), or a redirect (3xx, not followed): fall back below.
    }
    if (target.channel) {
      try {
        await this.api.callClassified('chat.postEphemeral', { channel: target.channel, user: target.user, text: msg.text, blocks: msg.blocks });
        return { via: 'chat.postEphemeral', refusedResponseUrl: refused };
      } catch (err) {
        // Not in that channel (user_not_in_channel, channel_not_found): tell them by DM instead.
        if (!(err instanceof PermanentError)) throw err;
      }
    }
    await this.post(target.user, msg);
    return { via: 'dm', refusedResponseUrl: refused };
  }
}

export interface EphemeralOutcome {
  via: 'response_url' | 'chat.postEphemeral' | 'dm';
  /** The origin of a response_url that was not Slack's, and so was not contacted. */
  refusedResponseUrl?: string;
}

const RESPONSE_URL_TIMEOUT_MS = 10_000;

/** Slack's host for response URLs (`https://hooks.slack.com/actions/…`, `/commands/…`, `/app/…`). */
export const SLACK_HOOKS_HOST = 'hooks.slack.com';

/**
 * Whether the bot may post to this response_url: https to Slack's hooks host, or the origin of
 * the Web API it is configured with (SLACK_API_URL: the emulator in tests and the demo). Any other
 * URL in a payload is never contacted, signed or not: the bot must not be made to POST to a host
 * an attacker or a misconfiguration picks (an internal service, a metadata endpoint).
 */
export function isSlackResponseUrl(url: string, apiBase: URL): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  if (u.username || u.password) return false;
  // `host` leaves the default port out, so https://hooks.slack.com:443 passes and :8443 does not.
  if (u.protocol === 'https:' && u.host === SLACK_HOOKS_HOST) return true;
  return u.origin === apiBase.origin;
}
