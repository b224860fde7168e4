/**
 * The bot's Slack Web API calls (api.ts), with failures classified for the outbox, as the
 * directory the use cases read (users, user groups) and the messages they send.
 */
import type { KnownBlock } from '@slack/types';
import type { DirectoryUser, SlackDirectory } from '../../app/ports/directory.js';
import { HttpTimeout, sendHttp } from '../http.js';
import { PermanentError, RetryableError } from '../../outbox/errors.js';
import type { SlackApi, SlackResult } from './api.js';

/**
 * The fields of a Slack user object the bot reads (users.info, users.lookupByEmail).
 * https://docs.slack.dev/reference/objects/user-object ; the account fields (is_restricted,
 * is_ultra_restricted, is_stranger, is_email_confirmed, enterprise_user) as Slack sends them:
 * the recorded users.info answer in slackapi/java-slack-sdk (json-logs/samples/api/users.info.json)
 * and @slack/web-api's UsersInfoResponse, which is generated from such answers.
 */
interface SlackUser {
  id?: string;
  team_id?: string;
  name?: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  is_app_user?: boolean;
  /** Multi-channel guest. */
  is_restricted?: boolean;
  /** Single-channel guest. */
  is_ultra_restricted?: boolean;
  /** From an organisation the token's workspace shares no channel with. */
  is_stranger?: boolean;
  is_email_confirmed?: boolean;
  enterprise_user?: { enterprise_id?: string };
  profile?: { email?: string; real_name?: string };
}

/** The bot's own workspace (auth.test): a user whose home is elsewhere is from outside. */
interface Workspace {
  teamId?: string;
  enterpriseId?: string;
}

export interface SlackMessage {
  text: string;
  blocks?: KnownBlock[];
}

/** users.info answers are reused this long: a guest demoted or promoted is seen within a minute. */
export const USER_CACHE_TTL_MS = 60_000;
/**
 * An answer used past this share of its minute is asked again in the background: someone acting
 * every few seconds never waits for users.info, and the answer the rules read is still at most a
 * minute old.
 */
const REFRESH_AHEAD_AFTER = 0.75;
const USER_CACHE_MAX = 10_000;

/**
 * Where users.info answers are kept beyond the process (adapters/sqlite/slackUserCache.ts), so a
 * restart does not empty the cache: read only while an answer is within the same minute.
 */
export interface KeptUsers {
  read(slackId: string): { user: DirectoryUser; at: number } | undefined;
  /** Keeps these answers, in one transaction (or one statement): the gateway gathers a turn's answers. */
  writeAll(answers: readonly KeptAnswer[]): void;
  /**
   * Drops the kept answer. Where several processes share it (Postgres), also tells each of them
   * to drop its in-memory copy (storage.ts `onSlackUserForgotten`, then `SlackGateway.dropCached`).
   */
  forget(slackId: string): void;
}

/** A users.info answer in memory (or the call that will give it), from when it was asked. */
interface CachedUser {
  at: number;
  user: Promise<DirectoryUser | undefined>;
  /** Being asked again in the background (refreshAhead). */
  refreshing?: boolean;
}

/** One users.info answer to keep: whose, what Slack said, and when. */
export interface KeptAnswer {
  slackId: string;
  user: DirectoryUser;
  at: number;
}

export class SlackGateway implements SlackDirectory {
  private readonly users = new Map<string, CachedUser>();
  /**
   * Answers waiting to be kept: written together once the turn of the event loop ends, so a burst
   * of first-time users costs the database one commit, not one each.
   */
  private toKeep = new Map<string, KeptAnswer>();
  private workspaceIds: Promise<Workspace> | undefined;

  constructor(
    readonly api: SlackApi,
    private readonly now: () => number = Date.now,
    private readonly userTtlMs = USER_CACHE_TTL_MS,
    private readonly kept?: KeptUsers,
  ) {}

  /**
   * users.info, cached briefly (every command and click looks its actor up, and `/access` must
   * open its modal within the trigger's 3 seconds). Concurrent lookups of one user share a call;
   * failures and unknown users are not kept. `fresh` asks Slack anyway (and refreshes the cache).
   * An answer used in the last quarter of its minute is asked again in the background, so an
   * active user does not wait for Slack once a minute. The cache outlives a restart through
   * `kept`, for the same minute.
   */
  userInfo(userId: string, opts: { fresh?: boolean } = {}): Promise<DirectoryUser | undefined> {
    const now = this.now();
    const hit = this.users.get(userId);
    if (hit && !opts.fresh && now - hit.at < this.userTtlMs) {
      if (!hit.refreshing && now - hit.at >= this.userTtlMs * REFRESH_AHEAD_AFTER) this.refreshAhead(userId, hit);
      return hit.user;
    }
    const kept = opts.fresh ? undefined : this.readKept(userId);
    if (kept && kept.at <= now && now - kept.at < this.userTtlMs) {
      const entry = { at: kept.at, user: Promise.resolve<DirectoryUser | undefined>(kept.user) };
      this.users.set(userId, entry);
      return entry.user;
    }
    const entry = { at: now, user: this.fetchUser(userId) };
    this.users.set(userId, entry);
    const forget = () => {
      if (this.users.get(userId) === entry) this.users.delete(userId);
    };
    entry.user.then((u) => {
      if (!u) {
        forget();
        this.keep((k) => k.forget(userId));
      } else if (this.users.get(userId) === entry) {
        this.keepLater({ slackId: userId, user: u, at: entry.at });
      }
    }, forget);
    if (this.users.size > USER_CACHE_MAX) {
      for (const [id, e] of this.users) if (now - e.at >= this.userTtlMs || this.users.size > USER_CACHE_MAX) this.users.delete(id);
    }
    return entry.user;
  }

  /** Asks Slack again for a cached answer late in its minute; the answer replaces it unless the user was forgotten or looked up afresh meanwhile. */
  private refreshAhead(userId: string, hit: CachedUser): void {
    hit.refreshing = true;
    const at = this.now();
    this.fetchUser(userId).then(
      (u) => {
        if (this.users.get(userId) !== hit) return;
        if (!u) {
          this.users.delete(userId);
          this.keep((k) => k.forget(userId));
          return;
        }
        this.users.set(userId, { at, user: Promise.resolve(u) });
        this.keepLater({ slackId: userId, user: u, at });
      },
      // Slack failing: the cached answer still expires at the end of its minute; a later lookup tries again.
      () => {
        hit.refreshing = false;
      },
    );
  }

  /**
   * Drops what is cached of this user (Slack said the user changed): the next lookup asks Slack,
   * here and, through `kept`, on every replica sharing it.
   */
  forgetUser(userId: string): void {
    this.dropCached(userId);
    this.keep((k) => k.forget(userId));
  }

  private keepLater(answer: KeptAnswer): void {
    if (!this.kept) return;
    if (this.toKeep.size === 0) setImmediate(this.writeKept);
    this.toKeep.set(answer.slackId, answer);
  }

  /** A field, not a method: handed to setImmediate as it is. */
  private readonly writeKept = (): void => {
    const answers = [...this.toKeep.values()];
    this.toKeep = new Map();
    if (answers.length > 0) this.keep((k) => k.writeAll(answers));
  };

  /** Drops this process's copy only: another replica forgot the user (the kept answer is gone already). */
  dropCached(userId: string): void {
    this.users.delete(userId);
    // An answer not yet written must not outlive the forget.
    this.toKeep.delete(userId);
  }

  private readKept(userId: string): { user: DirectoryUser; at: number } | undefined {
    try {
      return this.kept?.read(userId);
    } catch {
      return undefined;
    }
  }

  /** The kept copy is only a cache: a failure to write it (the database closing at shutdown) loses nothing. */
  private keep(fn: (k: KeptUsers) => void): void {
    if (!this.kept) return;
    try {
      fn(this.kept);
    } catch {
      // Nothing to do: the next lookup asks Slack.
    }
  }

  private async fetchUser(userId: string): Promise<DirectoryUser | undefined> {
    let u: SlackUser | undefined;
    try {
      u = (await this.api.call<SlackResult & { user?: SlackUser }>('users.info', { user: userId })).user;
    } catch (err) {
      const c = this.api.classify(err, 'users.info');
      if (c instanceof PermanentError && c.code === 'user_not_found') return undefined;
      throw c;
    }
    return u ? this.directoryUser(u, userId) : undefined;
  }

  async lookupByEmail(email: string): Promise<DirectoryUser | undefined> {
    let u: SlackUser | undefined;
    try {
      u = (await this.api.call<SlackResult & { user?: SlackUser }>('users.lookupByEmail', { email })).user;
    } catch (err) {
      const c = this.api.classify(err, 'users.lookupByEmail');
      if (c instanceof PermanentError && c.code === 'users_not_found') return undefined;
      throw c;
    }
    if (!u?.id || u.deleted) return undefined;
    return this.directoryUser(u, email);
  }

  /** auth.test, once: the workspace (and Enterprise Grid org) the bot's token belongs to. */
  private workspace(): Promise<Workspace> {
    if (!this.workspaceIds) {
      const ids = this.api
        .callClassified<SlackResult & { team_id?: string; enterprise_id?: string }>('auth.test')
        .then((r) => ({ teamId: r.team_id || undefined, enterpriseId: r.enterprise_id || undefined }));
      this.workspaceIds = ids;
      ids.catch(() => {
        if (this.workspaceIds === ids) this.workspaceIds = undefined;
      });
    }
    return this.workspaceIds;
  }

  private async directoryUser(u: SlackUser, fallbackName: string): Promise<DirectoryUser> {
    const ws = await this.workspace();
    const home = u.team_id;
    // Enterprise Grid: members of other workspaces of the same org carry their own team_id.
    const sameOrg = !home || home === ws.teamId || (ws.enterpriseId !== undefined && (home === ws.enterpriseId || u.enterprise_user?.enterprise_id === ws.enterpriseId));
    return {
      slackId: u.id ?? fallbackName,
      email: u.profile?.email,
      name: u.real_name || u.profile?.real_name || u.name || fallbackName,
      account: {
        deleted: u.deleted === true,
        bot: u.is_bot === true || u.is_app_user === true,
        restricted: u.is_restricted === true,
        ultraRestricted: u.is_ultra_restricted === true,
        external: u.is_stranger === true || !sameOrg,
        // People are identified by email: an answer that does not say it is confirmed proves nothing.
        emailConfirmed: u.is_email_confirmed === true,
      },
    };
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
