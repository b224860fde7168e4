/**
 * The state of the emulated Slack workspace that the method modules (auth.ts, users.ts,
 * usergroups.ts, chat.ts, views.ts) and response URLs (responseUrl.ts) share: the team and the
 * app's identity, the bot token's scopes, users, channels and DMs, user groups, what was posted,
 * views, trigger ids and response URLs, and the workspace's clock.
 */
import { randomBytes } from 'node:crypto';
import { normalizeBlocks } from './blockKit.js';
import type { HookState, ResponseUrlPost } from './responseUrl.js';
import { TRIGGER_TTL_MS } from './views.js';
import type { Obj } from './wire.js';

export interface SlackWorkspaceOptions {
  botToken?: string;
  teamId?: string;
  teamDomain?: string;
  teamName?: string;
  appId?: string;
  /** Used in Slack's "<app> must define `submit` ..." view error. */
  appName?: string;
  botUserId?: string;
  botId?: string;
  /** Scopes granted to the bot token; sent as `x-oauth-scopes` and checked per method. */
  scopes?: string[];
}

export interface EmuUserInput {
  id: string;
  email: string;
  realName: string;
  isBot?: boolean;
  deleted?: boolean;
  /** Slack handle; defaults to the local part of the email. */
  name?: string;
  displayName?: string;
  /** Account kinds (users.info `is_restricted`, `is_ultra_restricted`, `is_app_user`, `is_stranger`). */
  guest?: 'multi-channel' | 'single-channel';
  isAppUser?: boolean;
  stranger?: boolean;
  /** Home team of a Slack Connect user; default the emulated workspace. */
  teamId?: string;
  /** `is_email_confirmed`; default true. */
  emailConfirmed?: boolean;
}

export interface EmuChannelInput {
  id: string;
  name: string;
  /** Who is in the channel (for `chat.postEphemeral`). Unset: everyone. */
  members?: string[];
  /** Whether the bot was invited; when false, posting needs `chat:write.public`. Default true. */
  botIsMember?: boolean;
}

export interface EmuUserGroupInput {
  id: string;
  handle: string;
  users: string[];
  name?: string;
}

export interface MessageVersion {
  channel: string;
  ts: string;
  text: string;
  blocks: Obj[];
  at: number;
  via: 'chat.postMessage' | 'chat.update' | 'response_url' | 'seed';
}

export interface StoredMessage extends MessageVersion {
  /** Author: the bot's user id for messages the bot posted. */
  user: string;
  botId: string | undefined;
  threadTs: string | undefined;
  deleted: boolean;
  /** Earlier versions, oldest first; the message itself is always the latest. */
  history: MessageVersion[];
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  ts: string;
  text: string;
  blocks: Obj[];
  at: number;
  via: 'chat.postEphemeral' | 'response_url';
  /** Lets the driver tell an ephemeral from a channel message when it builds a click. */
  ephemeral: true;
}

export interface StoredView {
  id: string;
  /** The user whose trigger opened the view (or whose Home tab it is). */
  userId: string | undefined;
  /** The view object exactly as Slack returns it (state included). */
  view: Obj;
  /** Earlier versions of the view object, oldest first. */
  history: Obj[];
  /** Closed by a submission answered with no view, `clear`, or by `closeView`. */
  closed: boolean;
  /** The last `response_action: 'errors'` the app answered a submission with. */
  errors: Record<string, string> | undefined;
  via: 'views.open' | 'views.push' | 'views.publish';
  openedAt: number;
  updatedAt: number;
}

export interface StoredUser {
  id: string;
  email: string;
  name: string;
  realName: string;
  displayName: string;
  isBot: boolean;
  deleted: boolean;
  account?: Pick<EmuUserInput, 'guest' | 'isAppUser' | 'stranger' | 'teamId' | 'emailConfirmed'>;
}

export interface StoredChannel {
  id: string;
  name: string;
  isIm: boolean;
  /** For IMs: the other party. */
  imUser?: string;
  members?: Set<string>;
  botIsMember: boolean;
}

export interface Trigger {
  userId: string | undefined;
  issuedAt: number;
  used: boolean;
}

const DEFAULT_SCOPES = [
  'chat:write',
  'chat:write.public',
  'commands',
  'im:write',
  'users:read',
  'users:read.email',
  'usergroups:read',
];

export class SlackWorkspace {
  readonly botToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly teamName: string;
  readonly appId: string;
  readonly appName: string;
  readonly botUserId: string;
  readonly botId: string;
  scopes: string[];
  /** The workspace's clock (ms): trigger expiry, response URL expiry, message timestamps. */
  now: () => number = () => Date.now();
  triggerTtlMs = TRIGGER_TTL_MS;

  readonly users = new Map<string, StoredUser>();
  readonly channels = new Map<string, StoredChannel>();
  readonly imByUser = new Map<string, string>();
  readonly openedIms = new Set<string>();
  readonly groups = new Map<string, EmuUserGroupInput & { name: string }>();
  readonly triggers = new Map<string, Trigger>();
  readonly hooks = new Map<string, HookState>();
  readonly messages: StoredMessage[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  readonly responseUrlPosts: ResponseUrlPost[] = [];
  readonly views = new Map<string, StoredView>();
  private lastTs = { sec: 0, micro: 0 };
  private seq = 0;

  /** `serverUrl`: the emulator's origin once it listens (for response URLs). */
  constructor(options: SlackWorkspaceOptions, private readonly serverUrl: () => string) {
    this.botToken = options.botToken ?? 'xoxb-emulated-bot-token';
    this.teamId = options.teamId ?? 'T0EMULATED';
    this.teamDomain = options.teamDomain ?? 'emulated';
    this.teamName = options.teamName ?? 'Emulated Workspace';
    this.appId = options.appId ?? 'A0EMULATED';
    this.appName = options.appName ?? 'access-bot';
    this.botUserId = options.botUserId ?? 'U0BOT';
    this.botId = options.botId ?? 'B0BOT';
    this.scopes = [...(options.scopes ?? DEFAULT_SCOPES)];
    this.users.set(this.botUserId, {
      id: this.botUserId,
      email: '',
      name: this.appName,
      realName: this.appName,
      displayName: this.appName,
      isBot: true,
      deleted: false,
    });
  }

  get url(): string {
    return this.serverUrl();
  }

  // ----- set-up ------------------------------------------------------------------------------

  addUser(input: EmuUserInput): void {
    this.users.set(input.id, {
      id: input.id,
      email: input.email,
      name: input.name ?? input.email.split('@')[0] ?? input.id,
      realName: input.realName,
      displayName: input.displayName ?? input.realName,
      isBot: input.isBot ?? false,
      deleted: input.deleted ?? false,
      account: { guest: input.guest, isAppUser: input.isAppUser, stranger: input.stranger, teamId: input.teamId, emailConfirmed: input.emailConfirmed },
    });
  }

  addChannel(input: EmuChannelInput): void {
    this.channels.set(input.id, {
      id: input.id,
      name: input.name.replace(/^#/, ''),
      isIm: false,
      members: input.members ? new Set(input.members) : undefined,
      botIsMember: input.botIsMember ?? true,
    });
  }

  addUserGroup(input: EmuUserGroupInput): void {
    this.groups.set(input.id, { ...input, name: input.name ?? input.handle, users: [...input.users] });
  }

  /** Seeds a message (e.g. one written by a person, which the bot may not update). */
  addMessage(input: { channel: string; user: string; text: string; blocks?: Obj[] }): StoredMessage {
    const msg: StoredMessage = {
      channel: input.channel,
      ts: this.nextTs(),
      text: input.text,
      blocks: normalizeBlocks(input.blocks ?? [], () => this.genId()),
      at: this.now(),
      via: 'seed',
      user: input.user,
      botId: undefined,
      threadTs: undefined,
      deleted: false,
      history: [],
    };
    this.messages.push(msg);
    return msg;
  }

  /** The DM channel between the bot and a user, created if needed (as a user opening the app's DM). */
  imChannelFor(userId: string): string {
    let id = this.imByUser.get(userId);
    if (!id) {
      // Stable and readable in failures: U123 -> D123.
      id = `D${userId.replace(/^[UW]/, '')}`;
      this.imByUser.set(userId, id);
      this.channels.set(id, { id, name: 'directmessage', isIm: true, imUser: userId, botIsMember: true });
    }
    return id;
  }

  // ----- reading ------------------------------------------------------------------------------

  /** Messages in the user's DM with the bot, latest version of each, oldest first. */
  dmsTo(userId: string): StoredMessage[] {
    const im = this.imByUser.get(userId);
    if (!im) return [];
    return this.messages.filter((m) => m.channel === im && !m.deleted);
  }

  ephemeralsTo(userId: string): EphemeralMessage[] {
    return this.ephemerals.filter((e) => e.user === userId);
  }

  /** The modal most recently opened or updated for the user (Home tabs excluded). */
  lastViewFor(userId: string): StoredView | undefined {
    let best: StoredView | undefined;
    for (const v of this.views.values()) {
      if (v.userId !== userId || v.via === 'views.publish') continue;
      if (!best || v.updatedAt >= best.updatedAt) best = v;
    }
    return best;
  }

  homeFor(userId: string): StoredView | undefined {
    return [...this.views.values()].find((v) => v.userId === userId && v.via === 'views.publish');
  }

  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  // ----- shared by the methods and response URLs ----------------------------------------------

  revise(msg: StoredMessage, next: { text: string; blocks: Obj[]; via: MessageVersion['via'] }): void {
    msg.history.push({ channel: msg.channel, ts: msg.ts, text: msg.text, blocks: msg.blocks, at: msg.at, via: msg.via });
    msg.text = next.text;
    msg.blocks = next.blocks;
    msg.via = next.via;
    msg.at = this.now();
  }

  /** Unique, increasing, shaped like Slack's `1700000000.000100`. */
  nextTs(): string {
    const sec = Math.max(Math.floor(this.now() / 1000), this.lastTs.sec);
    const micro = sec === this.lastTs.sec ? this.lastTs.micro + 100 : 100;
    // Past a million in one second, spill into the next second so order still holds.
    this.lastTs = micro >= 1_000_000 ? { sec: sec + 1, micro: 100 } : { sec, micro };
    return `${this.lastTs.sec}.${String(this.lastTs.micro).padStart(6, '0')}`;
  }

  genId(): string {
    // Slack generates short random ids for blocks and elements without one.
    return `${randomBytes(3).toString('base64url')}${(++this.seq).toString(36)}`;
  }

  /** The next number of the workspace's one sequence (trigger, response URL, view and generated ids). */
  nextSeq(): number {
    return ++this.seq;
  }
}
