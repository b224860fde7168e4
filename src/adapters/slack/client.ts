/**
 * The bot's Slack Web API calls (api.ts), with failures classified for the outbox, as the
 * directory the use cases read (users, user groups) and the messages they send.
 */
import type { KnownBlock } from '@slack/types';
import type { SlackDirectory } from '../../app/context.js';
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

  async ephemeral(target: { user: string; channel?: string; responseUrl?: string }, msg: SlackMessage): Promise<void> {
    if (target.responseUrl && URL.canParse(target.responseUrl)) {
      // response_url needs no token; Slack accepts it for 30 minutes, 5 times.
      const res = await fetch(target.responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: msg.text, blocks: msg.blocks }),
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
        await this.api.callClassified('chat.postEphemeral', { channel: target.channel, user: target.user, text: msg.text, blocks: msg.blocks });
        return;
      } catch (err) {
        // Not in that channel (user_not_in_channel, channel_not_found): tell them by DM instead.
        if (!(err instanceof PermanentError)) throw err;
      }
    }
    await this.post(target.user, msg);
  }
}
