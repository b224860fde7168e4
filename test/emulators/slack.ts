/**
 * A Slack emulator: the Web API under `/api/<method>` (what @slack/web-api and Bolt call when
 * `slackApiUrl` is `${url}/api/`), response URLs under `/actions/<id>`, and the state a test
 * sets up and reads (users, channels, user groups, posted messages, ephemerals, views).
 *
 * It answers like Slack: HTTP 200 with `{ ok: true, ... }` or `{ ok: false, error }`, 429 with
 * `Retry-After` for rate limits, and Block Kit validation errors shaped like Slack's
 * (`invalid_blocks` for messages, `invalid_arguments` for views, with `[ERROR] ... [json-pointer:...]`
 * strings in `response_metadata.messages`). Where a detail could not be checked against Slack's
 * docs or a recorded answer, the comment says so.
 */
import { randomBytes } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse } from './base.js';

/** A JSON object as it travels on the wire. Block Kit is open-ended, so it stays loosely typed. */
export type Obj = Record<string, unknown>;

export interface SlackEmulatorOptions {
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

export interface ResponseUrlContext {
  channel: string;
  user: string;
  /** The message whose button was clicked; unset for slash commands. */
  messageTs?: string;
}

export interface ResponseUrlPost {
  id: string;
  url: string;
  body: Obj;
  at: number;
  status: number;
  context: ResponseUrlContext;
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

interface StoredUser {
  id: string;
  email: string;
  name: string;
  realName: string;
  displayName: string;
  isBot: boolean;
  deleted: boolean;
  account?: Pick<EmuUserInput, 'guest' | 'isAppUser' | 'stranger' | 'teamId' | 'emailConfirmed'>;
}

interface StoredChannel {
  id: string;
  name: string;
  isIm: boolean;
  /** For IMs: the other party. */
  imUser?: string;
  members?: Set<string>;
  botIsMember: boolean;
}

interface Trigger {
  userId: string | undefined;
  issuedAt: number;
  used: boolean;
}

interface HookState {
  context: ResponseUrlContext;
  issuedAt: number;
  uses: number;
}

interface Problem {
  message: string;
  pointer: string;
}

type Args = Record<string, unknown>;
type MethodResult = EmuResponse;
type MethodHandler = (args: Args) => MethodResult;

const DEFAULT_SCOPES = [
  'chat:write',
  'chat:write.public',
  'commands',
  'im:write',
  'users:read',
  'users:read.email',
  'usergroups:read',
];

// Scope each served method needs with a bot token (the methods' reference pages,
// https://docs.slack.dev/reference/methods/<method>). views.* and auth.test need none.
const NEEDED_SCOPE: Record<string, string> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'users.info': 'users:read',
  'users.lookupByEmail': 'users:read.email',
  'conversations.open': 'im:write',
  'usergroups.list': 'usergroups:read',
  'usergroups.users.list': 'usergroups:read',
};

// Trigger ids live 3 seconds and are exchanged once: expired_trigger_id, exchanged_trigger_id.
// https://docs.slack.dev/reference/methods/views.open , https://docs.slack.dev/reference/methods/views.push
const TRIGGER_TTL_MS = 3000;

// response_url: up to five uses within 30 minutes.
// https://docs.slack.dev/interactivity/handling-user-interaction
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;

// Message text over 40,000 characters is truncated (not refused) with a `message_truncated` warning.
// https://api.slack.com/changelog/2018-04-truncating-really-long-messages
const MESSAGE_TEXT_MAX = 40000;
const TRUNCATED_NOTE = '[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters.';

// Web API rate limits: per method per workspace per app, in tiers of calls a minute (Tier 1: 1+,
// 2: 20+, 3: 50+, 4: 100+; chat.postMessage is "special": about one a second per channel under a
// workspace-wide limit). Over the limit Slack answers HTTP 429 with `Retry-After` (seconds) and
// `{ok:false, error:'ratelimited'}`. https://docs.slack.dev/apis/web-api/rate-limits
// Slack does not publish its window; `limitRate` uses a fixed one (the limit per `windowMs`).
export const SLACK_TIERS = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

interface RateWindow {
  limit: number;
  windowMs: number;
  start: number;
  count: number;
}

export class SlackEmulator extends EmulatorServer {
  readonly botToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly teamName: string;
  readonly appId: string;
  readonly appName: string;
  readonly botUserId: string;
  readonly botId: string;
  scopes: string[];
  /** The emulator's clock (ms): trigger expiry, response URL expiry, message timestamps. */
  now: () => number = () => Date.now();
  triggerTtlMs = TRIGGER_TTL_MS;

  private readonly users = new Map<string, StoredUser>();
  private readonly channels = new Map<string, StoredChannel>();
  private readonly imByUser = new Map<string, string>();
  private readonly openedIms = new Set<string>();
  private readonly groups = new Map<string, EmuUserGroupInput & { name: string }>();
  private readonly triggers = new Map<string, Trigger>();
  private readonly hooks = new Map<string, HookState>();
  private readonly storedMessages: StoredMessage[] = [];
  private readonly storedEphemerals: EphemeralMessage[] = [];
  private readonly storedResponseUrlPosts: ResponseUrlPost[] = [];
  private readonly storedViews = new Map<string, StoredView>();
  private lastTs = { sec: 0, micro: 0 };
  private seq = 0;
  private readonly methods: Record<string, MethodHandler>;
  private readonly rateWindows = new Map<string, RateWindow>();

  constructor(options: SlackEmulatorOptions = {}) {
    super('slack');
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

    this.methods = {
      'api.test': (a) => ok({ args: a }),
      'auth.test': () => this.authTest(),
      'users.info': (a) => this.usersInfo(a),
      'users.lookupByEmail': (a) => this.usersLookupByEmail(a),
      'conversations.open': (a) => this.conversationsOpen(a),
      'chat.postMessage': (a) => this.chatPostMessage(a),
      'chat.update': (a) => this.chatUpdate(a),
      'chat.delete': (a) => this.chatDelete(a),
      'chat.postEphemeral': (a) => this.chatPostEphemeral(a),
      'views.open': (a) => this.viewsOpen(a, 'views.open'),
      'views.push': (a) => this.viewsOpen(a, 'views.push'),
      'views.update': (a) => this.viewsUpdate(a),
      'views.publish': (a) => this.viewsPublish(a),
      'usergroups.list': (a) => this.usergroupsList(a),
      'usergroups.users.list': (a) => this.usergroupsUsersList(a),
    };

    this.route('POST', '/api/:method', (req) => this.api(req));
    this.route('GET', '/api/:method', (req) => this.api(req));
    this.route('POST', '/actions/:id', (req) => this.responseUrl(req));
  }

  // ---------------------------------------------------------------------------------------------
  // Test set-up

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
    this.storedMessages.push(msg);
    return msg;
  }

  /** A trigger id as Slack puts in a command or interaction payload: valid 3 s, once. */
  issueTriggerId(userId?: string): string {
    const id = `${Math.floor(this.now() / 1000)}${String(++this.seq).padStart(3, '0')}.${this.teamId.replace(/\D/g, '') || '0'}${this.seq}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { userId, issuedAt: this.now(), used: false });
    return id;
  }

  /** Ages a trigger past its lifetime, for tests of `expired_trigger_id`. */
  expireTriggerId(triggerId: string): void {
    const t = this.triggers.get(triggerId);
    if (t) t.issuedAt = this.now() - this.triggerTtlMs - 1;
  }

  /** A response URL for an interaction: `${url}/actions/<id>`. */
  issueResponseUrl(context: ResponseUrlContext): string {
    const id = `${this.teamId}/${++this.seq}/${randomBytes(12).toString('hex')}`.replace(/\//g, '-');
    this.hooks.set(id, { context: { ...context }, issuedAt: this.now(), uses: 0 });
    return `${this.url}/actions/${id}`;
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

  /** Rate-limits a Web API method: HTTP 429, `Retry-After`, `{ok:false,error:'ratelimited'}`. */
  rateLimit(method: string, times = 1, retryAfterSec = 1): () => void {
    // https://docs.slack.dev/apis/web-api/rate-limits : 429 Too Many Requests with Retry-After (seconds).
    return this.inject({
      path: `/api/${method}`,
      times,
      status: 429,
      headers: { 'Retry-After': String(retryAfterSec) },
      body: { ok: false, error: 'ratelimited' },
    });
  }

  /**
   * Enforces a rate limit on a Web API method the way Slack does: `limit` calls (or the tier's
   * calls a minute) per window, then HTTP 429 with `Retry-After` (whole seconds to the window's
   * end) to every call until the window ends. Returns a function that lifts the limit.
   */
  limitRate(method: string, limit: number | { tier: keyof typeof SLACK_TIERS }, windowMs = 60_000): () => void {
    const perWindow = typeof limit === 'number' ? limit : SLACK_TIERS[limit.tier];
    this.rateWindows.set(method, { limit: perWindow, windowMs, start: Number.NEGATIVE_INFINITY, count: 0 });
    return () => void this.rateWindows.delete(method);
  }

  /** Makes a Web API method answer `{ok:false, error}` (HTTP `status`, default 200). */
  failMethod(method: string, error: string, opts: { times?: number; status?: number } = {}): () => void {
    return this.inject({ path: `/api/${method}`, times: opts.times, status: opts.status ?? 200, body: { ok: false, error } });
  }

  /** Closes a modal as the user pressing Close would. */
  closeView(viewId: string): void {
    const v = this.storedViews.get(viewId);
    if (v) v.closed = true;
  }

  // ---------------------------------------------------------------------------------------------
  // State a test reads

  get messages(): readonly StoredMessage[] {
    return this.storedMessages;
  }

  get ephemerals(): readonly EphemeralMessage[] {
    return this.storedEphemerals;
  }

  get responseUrlPosts(): readonly ResponseUrlPost[] {
    return this.storedResponseUrlPosts;
  }

  get views(): ReadonlyMap<string, StoredView> {
    return this.storedViews;
  }

  /** Messages in the user's DM with the bot, latest version of each, oldest first. */
  dmsTo(userId: string): StoredMessage[] {
    const im = this.imByUser.get(userId);
    if (!im) return [];
    return this.storedMessages.filter((m) => m.channel === im && !m.deleted);
  }

  ephemeralsTo(userId: string): EphemeralMessage[] {
    return this.storedEphemerals.filter((e) => e.user === userId);
  }

  /** The modal most recently opened or updated for the user (Home tabs excluded). */
  lastViewFor(userId: string): StoredView | undefined {
    let best: StoredView | undefined;
    for (const v of this.storedViews.values()) {
      if (v.userId !== userId || v.via === 'views.publish') continue;
      if (!best || v.updatedAt >= best.updatedAt) best = v;
    }
    return best;
  }

  homeFor(userId: string): StoredView | undefined {
    return [...this.storedViews.values()].find((v) => v.userId === userId && v.via === 'views.publish');
  }

  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.storedMessages.find((m) => m.channel === channel && m.ts === ts);
  }

  /** Name as Slack shows it in payloads: `directmessage` for DMs. */
  channelName(channelId: string): string {
    return this.channels.get(channelId)?.name ?? channelId;
  }

  userName(userId: string): string {
    return this.users.get(userId)?.name ?? userId;
  }

  waitForMessage(pred: (m: StoredMessage) => boolean, timeoutMs = 5000): Promise<StoredMessage> {
    return this.waitForState(() => this.storedMessages.find((m) => !m.deleted && pred(m)), timeoutMs, 'message');
  }

  waitForDm(userId: string, pred: (m: StoredMessage) => boolean = () => true, timeoutMs = 5000): Promise<StoredMessage> {
    return this.waitForState(() => this.dmsTo(userId).find(pred), timeoutMs, `DM to ${userId}`);
  }

  waitForEphemeral(pred: (e: EphemeralMessage) => boolean, timeoutMs = 5000): Promise<EphemeralMessage> {
    return this.waitForState(() => this.storedEphemerals.find(pred), timeoutMs, 'ephemeral');
  }

  waitForResponseUrlPost(pred: (p: ResponseUrlPost) => boolean = () => true, timeoutMs = 5000): Promise<ResponseUrlPost> {
    return this.waitForState(() => this.storedResponseUrlPosts.find(pred), timeoutMs, 'response_url post');
  }

  waitForView(pred: (v: StoredView) => boolean, timeoutMs = 5000): Promise<StoredView> {
    return this.waitForState(() => [...this.storedViews.values()].find(pred), timeoutMs, 'view');
  }

  /** Applies what an app answered to a view_submission, as Slack's client would. */
  applyViewSubmissionResponse(viewId: string, answer: unknown): void {
    const stored = this.storedViews.get(viewId);
    if (!stored) return;
    // https://docs.slack.dev/surfaces/modals : response_action update | push | errors | clear; no body closes.
    const action = isObj(answer) ? answer.response_action : undefined;
    if (action === 'errors' && isObj(answer) && isObj(answer.errors)) {
      stored.errors = Object.fromEntries(Object.entries(answer.errors).map(([k, v]) => [k, String(v)]));
      return;
    }
    if (action === 'update' && isObj(answer) && isObj(answer.view)) {
      this.replaceView(stored, answer.view);
      return;
    }
    if (action === 'push' && isObj(answer) && isObj(answer.view)) {
      this.createView(answer.view, stored.userId, 'views.push', stored.id);
      return;
    }
    stored.errors = undefined;
    if (action === 'clear') {
      // `clear` closes the whole stack; no answer closes the submitted view.
      const root = str(stored.view.root_view_id) || stored.id;
      for (const v of this.storedViews.values()) if ((str(v.view.root_view_id) || v.id) === root) v.closed = true;
    }
    stored.closed = true;
  }

  /** Records a selection in a view's state, as the Slack client does when a user picks an option. */
  setViewState(viewId: string, blockId: string, actionId: string, value: Obj): void {
    const stored = this.storedViews.get(viewId);
    if (!stored) throw new Error(`slack emulator: no view ${viewId}`);
    const state = viewState(stored.view);
    state[blockId] = { ...(isObj(state[blockId]) ? state[blockId] : {}), [actionId]: value };
  }

  // ---------------------------------------------------------------------------------------------
  // Web API plumbing

  private api(req: EmuRequest): EmuResponse {
    const method = req.params.method ?? '';
    const handler = this.methods[method];
    // Observed answer for a method Slack does not have: HTTP 200 and this body, before any auth
    // check (probe of https://slack.com/api/not.a.real.method without a token; two independent records).
    if (!handler) return { status: 200, body: { ok: false, error: 'unknown_method', req_method: method } };

    const args: Args = Object.fromEntries(req.query);
    if (isObj(req.body)) Object.assign(args, req.body);

    // https://docs.slack.dev/authentication/tokens : bearer header, or `token` as a POST parameter.
    const auth = req.headers.authorization;
    const bearer = typeof auth === 'string' && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    // Slack reports granted scopes on every answer, and the scope the method accepts when it has one.
    const scopeHeaders: Record<string, string> = { 'x-oauth-scopes': this.scopes.join(',') };
    if (NEEDED_SCOPE[method]) scopeHeaders['x-accepted-oauth-scopes'] = NEEDED_SCOPE[method];
    if (!token) return { status: 200, body: { ok: false, error: 'not_authed' } };
    if (token !== this.botToken) return { status: 200, body: { ok: false, error: 'invalid_auth' } };

    const needed = NEEDED_SCOPE[method];
    if (needed && !this.scopes.includes(needed)) {
      return { status: 200, headers: scopeHeaders, body: { ok: false, error: 'missing_scope', needed, provided: this.scopes.join(',') } };
    }
    const limited = this.overRateLimit(method);
    if (limited !== undefined) return { status: 429, headers: { ...scopeHeaders, 'Retry-After': String(limited) }, body: { ok: false, error: 'ratelimited' } };
    const out = handler(args);
    return { ...out, status: out.status ?? 200, headers: { ...scopeHeaders, ...(out.headers ?? {}) } };
  }

  /** Seconds to wait when `method` is over its limit (`limitRate`), else undefined (and the call counts). */
  private overRateLimit(method: string): number | undefined {
    const w = this.rateWindows.get(method);
    if (!w) return undefined;
    const now = this.now();
    if (now >= w.start + w.windowMs) {
      w.start = now;
      w.count = 0;
    }
    if (w.count < w.limit) {
      w.count += 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((w.start + w.windowMs - now) / 1000));
  }

  private authTest(): MethodResult {
    return ok({
      url: `https://${this.teamDomain}.slack.com/`,
      team: this.teamName,
      user: this.appName,
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    });
  }

  private usersInfo(a: Args): MethodResult {
    const user = this.users.get(str(a.user));
    if (!user) return fail('user_not_found');
    return ok({ user: this.userObject(user) });
  }

  private usersLookupByEmail(a: Args): MethodResult {
    const email = str(a.email).toLowerCase();
    // Deactivated accounts are not found by email (unverified against Slack; documented error is users_not_found).
    const user = [...this.users.values()].find((u) => u.email.toLowerCase() === email && email !== '' && !u.deleted);
    if (!user) return fail('users_not_found');
    return ok({ user: this.userObject(user) });
  }

  private userObject(u: StoredUser): Obj {
    // Email is only in the profile with users:read.email. https://docs.slack.dev/reference/methods/users.info
    const profile: Obj = {
      real_name: u.realName,
      real_name_normalized: u.realName,
      display_name: u.displayName,
      display_name_normalized: u.displayName,
      team: this.teamId,
    };
    if (this.scopes.includes('users:read.email') && u.email) profile.email = u.email;
    if (u.isBot) profile.bot_id = u.id === this.botUserId ? this.botId : undefined;
    const a = u.account ?? {};
    // Account fields as a recorded users.info answer carries them (is_restricted, is_ultra_restricted,
    // is_email_confirmed, is_stranger): slackapi/java-slack-sdk json-logs/samples/api/users.info.json.
    // A single-channel guest is restricted too. Bots carry no is_email_confirmed.
    return {
      id: u.id,
      team_id: a.teamId ?? this.teamId,
      name: u.name,
      deleted: u.deleted,
      real_name: u.realName,
      tz: 'Etc/UTC',
      tz_offset: 0,
      is_admin: false,
      is_owner: false,
      is_restricted: a.guest !== undefined,
      is_ultra_restricted: a.guest === 'single-channel',
      is_bot: u.isBot,
      is_app_user: a.isAppUser ?? false,
      updated: Math.floor(this.now() / 1000),
      ...(u.isBot ? {} : { is_email_confirmed: a.emailConfirmed ?? true }),
      is_stranger: a.stranger ?? false,
      profile,
    };
  }

  private conversationsOpen(a: Args): MethodResult {
    if (a.channel !== undefined) {
      const ch = this.channels.get(str(a.channel));
      return ch ? ok({ channel: { id: ch.id } }) : fail('channel_not_found');
    }
    const ids = str(a.users).split(',').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) return fail('users_list_not_supplied');
    // Group DMs are outside what access-bot uses; answered as not implemented on purpose.
    if (ids.length > 1) return fail('not_implemented');
    const user = this.users.get(ids[0] ?? '');
    if (!user) return fail('user_not_found');
    if (user.deleted) return fail('user_disabled');
    const id = this.imChannelFor(user.id);
    const already = this.openedIms.has(id);
    this.openedIms.add(id);
    const channel: Obj = { id };
    if (bool(a.return_im)) Object.assign(channel, { is_im: true, user: user.id, created: Math.floor(this.now() / 1000) });
    return ok(already ? { no_op: true, already_open: true, channel } : { channel });
  }

  /** Resolves `channel` as chat.postMessage does: C/G/D id, user id (opens the DM), `#name` or name. */
  private resolveChannel(raw: string, allowUserId: boolean): StoredChannel | undefined {
    if (!raw) return undefined;
    if (/^[UW][A-Z0-9_]+$/i.test(raw) && this.users.has(raw) && allowUserId) {
      const u = this.users.get(raw);
      if (!u || u.deleted) return undefined;
      return this.channels.get(this.imChannelFor(raw));
    }
    const byId = this.channels.get(raw);
    if (byId) return byId;
    const name = raw.replace(/^#/, '');
    return [...this.channels.values()].find((c) => !c.isIm && c.name === name);
  }

  private messageContent(a: Args): { text: string; blocks: Obj[] | undefined; truncated: boolean } | MethodResult {
    const blocksArg = a.blocks;
    let blocks: Obj[] | undefined;
    if (blocksArg !== undefined && blocksArg !== '') {
      const parsed = parseJsonArg(blocksArg);
      if (parsed === INVALID_JSON) return fail('invalid_blocks_format');
      const problems: Problem[] = [];
      checkBlocks(parsed, '/blocks', 'message', problems);
      if (problems.length) return blockError('invalid_blocks', problems);
      blocks = parsed as Obj[];
    }
    const rawText = a.text === undefined ? '' : str(a.text);
    const chars = [...rawText];
    const truncated = chars.length > MESSAGE_TEXT_MAX;
    return { text: truncated ? chars.slice(0, MESSAGE_TEXT_MAX).join('') : rawText, blocks, truncated };
  }

  private chatPostMessage(a: Args): MethodResult {
    const channel = this.resolveChannel(str(a.channel), true);
    if (!channel) return fail('channel_not_found');
    if (!channel.isIm && !channel.botIsMember && !this.scopes.includes('chat:write.public')) return fail('not_in_channel');
    const content = this.messageContent(a);
    if (!isContent(content)) return content;
    if (!content.text && (!content.blocks || content.blocks.length === 0) && a.attachments === undefined) return fail('no_text');
    const msg: StoredMessage = {
      channel: channel.id,
      ts: this.nextTs(),
      text: content.text,
      blocks: normalizeBlocks(content.blocks ?? [], () => this.genId()),
      at: this.now(),
      via: 'chat.postMessage',
      user: this.botUserId,
      botId: this.botId,
      threadTs: a.thread_ts === undefined ? undefined : str(a.thread_ts),
      deleted: false,
      history: [],
    };
    this.storedMessages.push(msg);
    return ok({ channel: channel.id, ts: msg.ts, message: this.messageObject(msg), ...truncationWarning(content.truncated) });
  }

  private chatUpdate(a: Args): MethodResult {
    // chat.update takes the channel id the message is in; a user id does not name it.
    const channel = this.channels.get(str(a.channel)) ?? this.resolveChannel(str(a.channel), false);
    if (!channel) return fail('channel_not_found');
    const msg = this.storedMessages.find((m) => m.channel === channel.id && m.ts === str(a.ts) && !m.deleted);
    if (!msg) return fail('message_not_found');
    if (msg.user !== this.botUserId) return fail('cant_update_message');
    const content = this.messageContent(a);
    if (!isContent(content)) return content;
    // Omitted blocks are kept; an empty array removes them.
    // https://docs.slack.dev/reference/methods/chat.update (blocks argument)
    const blocks = content.blocks === undefined ? msg.blocks : normalizeBlocks(content.blocks, () => this.genId());
    const text = a.text === undefined ? msg.text : content.text;
    if (!text && blocks.length === 0) return fail('no_text');
    this.revise(msg, { text, blocks, via: 'chat.update' });
    return ok({ channel: channel.id, ts: msg.ts, text: msg.text, message: this.messageObject(msg), ...truncationWarning(content.truncated) });
  }

  private chatDelete(a: Args): MethodResult {
    const channel = this.channels.get(str(a.channel));
    if (!channel) return fail('channel_not_found');
    const msg = this.storedMessages.find((m) => m.channel === channel.id && m.ts === str(a.ts) && !m.deleted);
    if (!msg) return fail('message_not_found');
    if (msg.user !== this.botUserId) return fail('cant_delete_message');
    msg.deleted = true;
    return ok({ channel: channel.id, ts: msg.ts });
  }

  private chatPostEphemeral(a: Args): MethodResult {
    const channel = this.resolveChannel(str(a.channel), false);
    if (!channel) return fail('channel_not_found');
    const userId = str(a.user);
    const user = this.users.get(userId);
    const inChannel = channel.isIm ? channel.imUser === userId : !channel.members || channel.members.has(userId);
    if (!user || user.deleted || !inChannel) return fail('user_not_in_channel');
    const content = this.messageContent(a);
    if (!isContent(content)) return content;
    if (!content.text && (!content.blocks || content.blocks.length === 0) && a.attachments === undefined) return fail('no_text');
    const ts = this.nextTs();
    this.storedEphemerals.push({
      channel: channel.id,
      user: userId,
      ts,
      text: content.text,
      blocks: normalizeBlocks(content.blocks ?? [], () => this.genId()),
      at: this.now(),
      via: 'chat.postEphemeral',
      ephemeral: true,
    });
    return ok({ message_ts: ts, ...truncationWarning(content.truncated) });
  }

  private viewsOpen(a: Args, via: 'views.open' | 'views.push'): MethodResult {
    const triggerId = str(a.trigger_id ?? a.interactivity_pointer);
    if (!triggerId) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
    const trigger = this.triggers.get(triggerId);
    if (!trigger) return fail('invalid_trigger_id');
    if (trigger.used) return fail('exchanged_trigger_id');
    if (this.now() - trigger.issuedAt > this.triggerTtlMs) return fail('expired_trigger_id');
    const parsed = parseJsonArg(a.view);
    const checked = this.checkViewArg(parsed, 'modal');
    if (checked) return checked;
    const view = parsed as Obj;
    if (typeof view.external_id === 'string' && view.external_id && this.viewByExternalId(view.external_id)) return fail('duplicate_external_id');
    let previous: string | undefined;
    if (via === 'views.push') {
      // Pushing needs a modal open for the user (error code unverified; not_found is this emulator's).
      const open = this.lastViewFor(trigger.userId ?? '');
      if (!open || open.closed) return fail('not_found');
      previous = open.id;
    }
    // The trigger is spent only by a successful exchange, so an app may fix its view and retry.
    trigger.used = true;
    const stored = this.createView(view, trigger.userId, via, previous);
    return ok({ view: stored.view });
  }

  private viewsUpdate(a: Args): MethodResult {
    const viewId = a.view_id === undefined ? '' : str(a.view_id);
    const externalId = a.external_id === undefined ? '' : str(a.external_id);
    if (!viewId && !externalId) {
      return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view_id or external_id is required'] } });
    }
    const stored = viewId ? this.storedViews.get(viewId) : this.viewByExternalId(externalId);
    if (!stored || stored.closed) return fail('not_found');
    const hash = a.hash === undefined ? '' : str(a.hash);
    if (hash && hash !== stored.view.hash) return fail('hash_conflict');
    const parsed = parseJsonArg(a.view);
    const checked = this.checkViewArg(parsed, stored.via === 'views.publish' ? 'home' : 'modal');
    if (checked) return checked;
    this.replaceView(stored, parsed as Obj);
    return ok({ view: stored.view });
  }

  private viewsPublish(a: Args): MethodResult {
    const userId = str(a.user_id);
    // Error code for an unknown user_id is not documented; user_not_found is this emulator's choice.
    if (!this.users.has(userId)) return fail('user_not_found');
    const parsed = parseJsonArg(a.view);
    const checked = this.checkViewArg(parsed, 'home');
    if (checked) return checked;
    const existing = this.homeFor(userId);
    const hash = a.hash === undefined ? '' : str(a.hash);
    if (existing && hash && hash !== existing.view.hash) return fail('hash_conflict');
    if (existing) {
      this.replaceView(existing, parsed as Obj);
      return ok({ view: existing.view });
    }
    const stored = this.createView(parsed as Obj, userId, 'views.publish', undefined);
    return ok({ view: stored.view });
  }

  private checkViewArg(parsed: unknown, kind: 'modal' | 'home'): MethodResult | undefined {
    if (parsed === INVALID_JSON || parsed === undefined) {
      return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] must provide an object [json-pointer:/view]'] } });
    }
    const problems: Problem[] = [];
    checkView(parsed, kind, this.appName, problems);
    if (problems.length === 0) return undefined;
    // Views answer invalid_arguments, led by the schema-union note Slack prints for /view.
    return blockError('invalid_arguments', [{ message: 'failed to match all allowed schemas', pointer: '/view' }, ...problems]);
  }

  private usergroupsList(a: Args): MethodResult {
    const includeUsers = bool(a.include_users);
    return ok({
      usergroups: [...this.groups.values()].map((g) => {
        const out: Obj = {
          id: g.id,
          team_id: this.teamId,
          is_usergroup: true,
          name: g.name,
          handle: g.handle,
          description: '',
          date_delete: 0,
          user_count: g.users.length,
        };
        if (includeUsers) out.users = [...g.users];
        return out;
      }),
    });
  }

  private usergroupsUsersList(a: Args): MethodResult {
    const g = this.groups.get(str(a.usergroup));
    if (!g) return fail('no_such_subteam');
    return ok({ users: [...g.users] });
  }

  // ---------------------------------------------------------------------------------------------
  // response_url

  private responseUrl(req: EmuRequest): EmuResponse {
    const id = req.params.id ?? '';
    const hook = this.hooks.get(id);
    let body: Obj = {};
    if (isObj(req.body)) {
      // Also accept `payload=<json>` form posts, as incoming webhooks do.
      const payload = req.body.payload;
      body = typeof payload === 'string' ? (safeJson(payload) as Obj | undefined) ?? {} : req.body;
    }
    const record = (status: number): ResponseUrlPost => {
      const post: ResponseUrlPost = {
        id,
        url: `${this.url}/actions/${id}`,
        body,
        at: this.now(),
        status,
        context: hook?.context ?? { channel: '', user: '' },
      };
      this.storedResponseUrlPosts.push(post);
      return post;
    };
    // Use limits are documented; the refusal's exact body is not (unverified).
    if (!hook || hook.uses >= RESPONSE_URL_USES || this.now() - hook.issuedAt > RESPONSE_URL_TTL_MS) {
      record(404);
      return { status: 404, body: { ok: false, error: 'expired_url' } };
    }
    let blocks: Obj[] | undefined;
    if (body.blocks !== undefined) {
      const problems: Problem[] = [];
      const parsed = parseJsonArg(body.blocks);
      checkBlocks(parsed, '/blocks', 'message', problems);
      if (problems.length) {
        record(400);
        return { status: 400, body: blockErrorBody('invalid_blocks', problems) };
      }
      blocks = parsed as Obj[];
    }
    hook.uses += 1;
    record(200);
    const text = typeof body.text === 'string' ? [...body.text].slice(0, MESSAGE_TEXT_MAX).join('') : '';
    const ctx = hook.context;
    const original = ctx.messageTs ? this.findMessage(ctx.channel, ctx.messageTs) : undefined;
    // https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
    if (bool(body.delete_original)) {
      if (original) original.deleted = true;
    } else if (bool(body.replace_original) && original) {
      this.revise(original, { text: body.text === undefined ? original.text : text, blocks: blocks === undefined ? original.blocks : normalizeBlocks(blocks, () => this.genId()), via: 'response_url' });
    } else if (body.response_type === 'in_channel') {
      this.storedMessages.push({
        channel: ctx.channel,
        ts: this.nextTs(),
        text,
        blocks: normalizeBlocks(blocks ?? [], () => this.genId()),
        at: this.now(),
        via: 'response_url',
        user: this.botUserId,
        botId: this.botId,
        threadTs: undefined,
        deleted: false,
        history: [],
      });
    } else {
      this.storedEphemerals.push({
        channel: ctx.channel,
        user: ctx.user,
        ts: this.nextTs(),
        text,
        blocks: normalizeBlocks(blocks ?? [], () => this.genId()),
        at: this.now(),
        via: 'response_url',
        ephemeral: true,
      });
    }
    return { status: 200, body: { ok: true } };
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private revise(msg: StoredMessage, next: { text: string; blocks: Obj[]; via: MessageVersion['via'] }): void {
    msg.history.push({ channel: msg.channel, ts: msg.ts, text: msg.text, blocks: msg.blocks, at: msg.at, via: msg.via });
    msg.text = next.text;
    msg.blocks = next.blocks;
    msg.via = next.via;
    msg.at = this.now();
  }

  private messageObject(m: StoredMessage): Obj {
    return {
      type: 'message',
      subtype: m.botId ? 'bot_message' : undefined,
      text: m.text,
      user: m.user,
      bot_id: m.botId,
      app_id: m.botId ? this.appId : undefined,
      ts: m.ts,
      team: this.teamId,
      blocks: m.blocks,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    };
  }

  private createView(input: Obj, userId: string | undefined, via: StoredView['via'], previousViewId: string | undefined): StoredView {
    const id = `V0${String(++this.seq).padStart(9, '0')}`;
    const stored: StoredView = {
      id,
      userId,
      view: {},
      history: [],
      closed: false,
      errors: undefined,
      via,
      openedAt: this.now(),
      updatedAt: this.now(),
    };
    const root = previousViewId ? (this.storedViews.get(previousViewId)?.view.root_view_id as string | undefined) ?? previousViewId : id;
    stored.view = this.viewObject(id, input, { values: {} }, previousViewId ?? null, root);
    this.storedViews.set(id, stored);
    return stored;
  }

  private replaceView(stored: StoredView, input: Obj): void {
    stored.history.push(stored.view);
    const blocks = normalizeBlocks(asArray(input.blocks), () => this.genId());
    // Input kept across updates when block_id and action_id stay the same.
    // https://docs.slack.dev/reference/views/modal-views ("Preserving input entry")
    const kept: Obj = {};
    const old = viewState(stored.view);
    for (const { blockId, element } of interactiveElements(blocks)) {
      const actionId = str(element.action_id);
      const prev = old[blockId];
      if (isObj(prev) && prev[actionId] !== undefined) kept[blockId] = { ...(isObj(kept[blockId]) ? kept[blockId] : {}), [actionId]: prev[actionId] };
    }
    stored.view = this.viewObject(stored.id, { ...input, blocks }, { values: kept }, (stored.view.previous_view_id as string | null) ?? null, str(stored.view.root_view_id) || stored.id);
    stored.updatedAt = this.now();
    stored.errors = undefined;
  }

  private viewObject(id: string, input: Obj, state: Obj, previousViewId: string | null, rootViewId: string): Obj {
    const type = str(input.type);
    const out: Obj = {
      id,
      team_id: this.teamId,
      type,
      blocks: normalizeBlocks(asArray(input.blocks), () => this.genId()),
      private_metadata: typeof input.private_metadata === 'string' ? input.private_metadata : '',
      callback_id: typeof input.callback_id === 'string' ? input.callback_id : '',
      state,
      hash: `${Math.floor(this.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      clear_on_close: bool(input.clear_on_close),
      notify_on_close: bool(input.notify_on_close),
      close: input.close ?? null,
      submit: input.submit ?? null,
      previous_view_id: previousViewId,
      root_view_id: rootViewId,
      app_id: this.appId,
      external_id: typeof input.external_id === 'string' ? input.external_id : '',
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
    if (type === 'modal') out.title = input.title;
    return out;
  }

  private viewByExternalId(externalId: string): StoredView | undefined {
    return [...this.storedViews.values()].find((v) => v.view.external_id === externalId && !v.closed);
  }

  /** Unique, increasing, shaped like Slack's `1700000000.000100`. */
  private nextTs(): string {
    const sec = Math.max(Math.floor(this.now() / 1000), this.lastTs.sec);
    const micro = sec === this.lastTs.sec ? this.lastTs.micro + 100 : 100;
    // Past a million in one second, spill into the next second so order still holds.
    this.lastTs = micro >= 1_000_000 ? { sec: sec + 1, micro: 100 } : { sec, micro };
    return `${this.lastTs.sec}.${String(this.lastTs.micro).padStart(6, '0')}`;
  }

  private genId(): string {
    // Slack generates short random ids for blocks and elements without one.
    return `${randomBytes(3).toString('base64url')}${(++this.seq).toString(36)}`;
  }

  private async waitForState<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = probe();
    if (now !== undefined) return now;
    try {
      await this.waitFor(() => probe() !== undefined, timeoutMs);
    } catch {
      throw new Error(`slack emulator: no ${what} matched within ${timeoutMs} ms. Messages so far: ${this.describe()}`);
    }
    const found = probe();
    if (found === undefined) throw new Error(`slack emulator: ${what} matched and then changed`);
    return found;
  }

  private describe(): string {
    const lines = this.storedMessages.slice(-10).map((m) => `${m.channel}@${m.ts}${m.deleted ? ' (deleted)' : ''}: ${m.text.slice(0, 80)}`);
    const eph = this.storedEphemerals.slice(-5).map((e) => `ephemeral ${e.user}@${e.channel}: ${e.text.slice(0, 80)}`);
    return [...lines, ...eph].join(' | ') || '(none)';
  }
}

// -----------------------------------------------------------------------------------------------
// Block Kit validation

type Surface = 'message' | 'modal' | 'home';

// Blocks: up to 50 in a message, 100 in a modal or Home tab.
// https://docs.slack.dev/reference/block-kit/blocks
const MAX_BLOCKS: Record<Surface, number> = { message: 50, modal: 100, home: 100 };

const KNOWN_BLOCKS = new Set([
  'actions', 'context', 'context_actions', 'divider', 'file', 'header', 'image', 'input', 'markdown',
  'rich_text', 'section', 'video', 'table', 'card', 'carousel', 'alert', 'container',
]);

// Error strings follow Slack's recorded answers, e.g.
//   invalid_blocks + "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
//   invalid_blocks + "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
//   invalid_arguments + "[ERROR] failed to match all allowed schemas [json-pointer:/view]",
//                       "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
// Wording for duplicates and required fields is this emulator's (not verified).
function tooLong(max: number): string {
  return `must be less than ${max + 1} characters`;
}

function tooMany(max: number): string {
  return `no more than ${max} items allowed`;
}

function length(s: string): number {
  return [...s].length;
}

function checkString(v: unknown, ptr: string, max: number, out: Problem[], required = false): void {
  if (v === undefined || v === null) {
    if (required) out.push({ message: 'missing required field', pointer: ptr });
    return;
  }
  if (typeof v !== 'string') out.push({ message: 'must provide a string', pointer: ptr });
  else if (length(v) > max) out.push({ message: tooLong(max), pointer: ptr });
}

/** A text object: `{ type: plain_text | mrkdwn, text }`. */
function checkText(v: unknown, ptr: string, max: number, out: Problem[], opts: { plainOnly?: boolean; required?: boolean } = {}): void {
  if (v === undefined || v === null) {
    if (opts.required ?? true) out.push({ message: 'missing required field', pointer: ptr });
    return;
  }
  if (!isObj(v)) {
    out.push({ message: 'must provide an object', pointer: ptr });
    return;
  }
  if (v.type !== 'plain_text' && (opts.plainOnly || v.type !== 'mrkdwn')) {
    out.push({ message: `must be one of the following: ${opts.plainOnly ? 'plain_text' : 'plain_text, mrkdwn'}`, pointer: `${ptr}/type` });
  }
  if (typeof v.text !== 'string') out.push({ message: 'must provide a string', pointer: `${ptr}/text` });
  else if (length(v.text) === 0) out.push({ message: 'must be more than 0 characters', pointer: `${ptr}/text` });
  else if (length(v.text) > max) out.push({ message: tooLong(max), pointer: `${ptr}/text` });
}

// Option object: text 75, value 150, description 75.
// https://docs.slack.dev/reference/block-kit/composition-objects/option-object
function checkOption(v: unknown, ptr: string, out: Problem[]): void {
  if (!isObj(v)) {
    out.push({ message: 'must provide an object', pointer: ptr });
    return;
  }
  checkText(v.text, `${ptr}/text`, 75, out);
  checkString(v.value, `${ptr}/value`, 150, out, true);
  if (v.description !== undefined) checkText(v.description, `${ptr}/description`, 75, out);
}

function checkOptions(v: unknown, ptr: string, max: number, out: Problem[]): void {
  if (!Array.isArray(v)) {
    out.push({ message: 'must provide an array', pointer: ptr });
    return;
  }
  if (v.length > max) out.push({ message: tooMany(max), pointer: ptr });
  v.forEach((o, i) => checkOption(o, `${ptr}/${i}`, out));
}

function checkElement(el: unknown, ptr: string, out: Problem[], actionIds: Set<string>): void {
  if (!isObj(el)) {
    out.push({ message: 'must provide an object', pointer: ptr });
    return;
  }
  // action_id: 255 max; unique within its block (Slack refuses duplicates in one actions block).
  // https://docs.slack.dev/reference/block-kit/block-elements/button-element
  if (el.action_id !== undefined) {
    checkString(el.action_id, `${ptr}/action_id`, 255, out);
    if (typeof el.action_id === 'string') {
      if (actionIds.has(el.action_id)) out.push({ message: `duplicate action_id: ${el.action_id}`, pointer: `${ptr}/action_id` });
      actionIds.add(el.action_id);
    }
  }
  if (el.placeholder !== undefined) checkText(el.placeholder, `${ptr}/placeholder`, 150, out, { plainOnly: true });
  switch (el.type) {
    case 'button':
      // Button: text 75 (plain_text), value 2000, url 3000, accessibility_label 75.
      // https://docs.slack.dev/reference/block-kit/block-elements/button-element
      checkText(el.text, `${ptr}/text`, 75, out, { plainOnly: true });
      checkString(el.value, `${ptr}/value`, 2000, out);
      checkString(el.url, `${ptr}/url`, 3000, out);
      checkString(el.accessibility_label, `${ptr}/accessibility_label`, 75, out);
      if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
        out.push({ message: 'must be one of the following: primary, danger', pointer: `${ptr}/style` });
      }
      break;
    case 'static_select':
    case 'multi_static_select':
      // Static select: up to 100 options or option groups.
      // https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#static_select
      if (el.options !== undefined) checkOptions(el.options, `${ptr}/options`, 100, out);
      else if (Array.isArray(el.option_groups)) {
        if (el.option_groups.length > 100) out.push({ message: tooMany(100), pointer: `${ptr}/option_groups` });
        el.option_groups.forEach((g, i) => {
          const gp = `${ptr}/option_groups/${i}`;
          if (!isObj(g)) return out.push({ message: 'must provide an object', pointer: gp });
          checkText(g.label, `${gp}/label`, 75, out, { plainOnly: true });
          checkOptions(g.options, `${gp}/options`, 100, out);
        });
      } else out.push({ message: 'must provide either options or option_groups', pointer: ptr });
      if (el.initial_option !== undefined) checkOption(el.initial_option, `${ptr}/initial_option`, out);
      break;
    case 'external_select':
    case 'multi_external_select':
      if (el.initial_option !== undefined) checkOption(el.initial_option, `${ptr}/initial_option`, out);
      break;
    case 'overflow':
      // Overflow menu: 2 to 5 options. https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element
      checkOptions(el.options, `${ptr}/options`, 5, out);
      break;
    case 'checkboxes':
    case 'radio_buttons':
      // https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element (10 options)
      checkOptions(el.options, `${ptr}/options`, 10, out);
      break;
    case 'plain_text_input':
      // min_length 0..3000, max_length 1..3000.
      // https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element
      if (el.max_length !== undefined && !(Number.isInteger(el.max_length) && (el.max_length as number) >= 1 && (el.max_length as number) <= 3000)) {
        out.push({ message: 'must be between 1 and 3000', pointer: `${ptr}/max_length` });
      }
      if (el.min_length !== undefined && !(Number.isInteger(el.min_length) && (el.min_length as number) >= 0 && (el.min_length as number) <= 3000)) {
        out.push({ message: 'must be between 0 and 3000', pointer: `${ptr}/min_length` });
      }
      break;
    default:
      if (typeof el.type !== 'string') out.push({ message: 'missing required field: type', pointer: ptr });
  }
}

function checkBlocks(blocks: unknown, ptr: string, surface: Surface, out: Problem[]): void {
  if (!Array.isArray(blocks)) {
    out.push({ message: 'must provide an array', pointer: ptr });
    return;
  }
  const max = MAX_BLOCKS[surface];
  if (blocks.length > max) out.push({ message: tooMany(max), pointer: ptr });
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const bp = `${ptr}/${i}`;
    if (!isObj(b)) return out.push({ message: 'must provide an object', pointer: bp });
    if (typeof b.type !== 'string' || !KNOWN_BLOCKS.has(b.type)) {
      return out.push({ message: `unsupported type: ${String(b.type)}`, pointer: `${bp}/type` });
    }
    // block_id: 255 max, unique per message or view. https://docs.slack.dev/reference/block-kit/blocks
    if (b.block_id !== undefined) {
      checkString(b.block_id, `${bp}/block_id`, 255, out);
      if (typeof b.block_id === 'string') {
        if (blockIds.has(b.block_id)) out.push({ message: `duplicate block_id: ${b.block_id}`, pointer: `${bp}/block_id` });
        blockIds.add(b.block_id);
      }
    }
    const actionIds = new Set<string>();
    switch (b.type) {
      case 'section':
        // Section: text 3000; up to 10 fields of 2000 each; text or fields required.
        // https://docs.slack.dev/reference/block-kit/blocks/section-block
        if (b.text === undefined && b.fields === undefined) out.push({ message: 'must provide either text or fields', pointer: bp });
        if (b.text !== undefined) checkText(b.text, `${bp}/text`, 3000, out);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields)) out.push({ message: 'must provide an array', pointer: `${bp}/fields` });
          else {
            if (b.fields.length > 10) out.push({ message: tooMany(10), pointer: `${bp}/fields` });
            b.fields.forEach((f, j) => checkText(f, `${bp}/fields/${j}`, 2000, out));
          }
        }
        if (b.accessory !== undefined) checkElement(b.accessory, `${bp}/accessory`, out, actionIds);
        break;
      case 'header':
        // Header: plain_text, 150. https://docs.slack.dev/reference/block-kit/blocks/header-block
        checkText(b.text, `${bp}/text`, 150, out, { plainOnly: true });
        break;
      case 'actions':
        // Actions: up to 25 elements. https://docs.slack.dev/reference/block-kit/blocks/actions-block
        if (!Array.isArray(b.elements)) out.push({ message: 'must provide an array', pointer: `${bp}/elements` });
        else {
          if (b.elements.length > 25) out.push({ message: tooMany(25), pointer: `${bp}/elements` });
          b.elements.forEach((e, j) => checkElement(e, `${bp}/elements/${j}`, out, actionIds));
        }
        break;
      case 'context':
        // Context: up to 10 elements. https://docs.slack.dev/reference/block-kit/blocks/context-block
        if (!Array.isArray(b.elements)) out.push({ message: 'must provide an array', pointer: `${bp}/elements` });
        else if (b.elements.length > 10) out.push({ message: tooMany(10), pointer: `${bp}/elements` });
        break;
      case 'input':
        // Input: label 2000 (plain_text), hint 2000, one element.
        // https://docs.slack.dev/reference/block-kit/blocks/input-block
        checkText(b.label, `${bp}/label`, 2000, out, { plainOnly: true });
        if (b.hint !== undefined) checkText(b.hint, `${bp}/hint`, 2000, out, { plainOnly: true });
        if (b.element === undefined) out.push({ message: 'missing required field: element', pointer: bp });
        else checkElement(b.element, `${bp}/element`, out, actionIds);
        break;
      case 'markdown':
        // Markdown block: 12,000 characters cumulative. https://docs.slack.dev/reference/block-kit/blocks/markdown-block
        checkString(b.text, `${bp}/text`, 12000, out, true);
        break;
      case 'image':
        // https://docs.slack.dev/reference/block-kit/blocks/image-block : alt_text 2000, image_url 3000.
        checkString(b.alt_text, `${bp}/alt_text`, 2000, out, true);
        checkString(b.image_url, `${bp}/image_url`, 3000, out);
        break;
      default:
        break;
    }
  });
}

// View object: modal title/submit/close 24; blocks 100; private_metadata 3000; callback_id 255;
// external_id 255; `submit` required with an input block.
// https://docs.slack.dev/reference/views/modal-views , https://docs.slack.dev/reference/views/home-tab-views
function checkView(view: unknown, kind: 'modal' | 'home', appName: string, out: Problem[]): void {
  if (!isObj(view)) {
    out.push({ message: 'must provide an object', pointer: '/view' });
    return;
  }
  if (view.type !== kind) out.push({ message: `must be one of the following: ${kind}`, pointer: '/view/type' });
  if (kind === 'modal') {
    checkText(view.title, '/view/title', 24, out, { plainOnly: true });
    if (view.submit !== undefined) checkText(view.submit, '/view/submit', 24, out, { plainOnly: true });
    if (view.close !== undefined) checkText(view.close, '/view/close', 24, out, { plainOnly: true });
  }
  checkBlocks(view.blocks, '/view/blocks', kind, out);
  checkString(view.private_metadata, '/view/private_metadata', 3000, out);
  checkString(view.callback_id, '/view/callback_id', 255, out);
  checkString(view.external_id, '/view/external_id', 255, out);
  if (kind === 'modal' && view.submit === undefined && Array.isArray(view.blocks)) {
    const i = view.blocks.findIndex((b) => isObj(b) && b.type === 'input');
    // Recorded wording: "<app> must define `submit` to use an `input` block in modals [json-pointer:/view/blocks/2/input]".
    if (i >= 0) out.push({ message: `${appName} must define \`submit\` to use an \`input\` block in modals`, pointer: `/view/blocks/${i}/input` });
  }
}

function blockErrorBody(error: string, problems: Problem[]): Obj {
  const raw = problems.map((p) => `${p.message} [json-pointer:${p.pointer}]`);
  // invalid_blocks answers carry `errors` too; views carry only response_metadata.
  return {
    ok: false,
    error,
    ...(error === 'invalid_blocks' ? { errors: raw } : {}),
    response_metadata: { messages: raw.map((r) => `[ERROR] ${r}`) },
  };
}

function blockError(error: string, problems: Problem[]): MethodResult {
  return { status: 200, body: blockErrorBody(error, problems) };
}

// -----------------------------------------------------------------------------------------------
// Block helpers the driver uses too

export interface InteractiveElement {
  blockId: string;
  blockType: string;
  element: Obj;
}

/** Every element with an action_id, in order: actions elements, section accessories, input elements. */
export function interactiveElements(blocks: unknown): InteractiveElement[] {
  const out: InteractiveElement[] = [];
  for (const b of asArray(blocks)) {
    if (!isObj(b)) continue;
    const blockId = str(b.block_id);
    const blockType = str(b.type);
    const candidates = b.type === 'actions' ? asArray(b.elements) : b.type === 'section' ? [b.accessory] : b.type === 'input' ? [b.element] : [];
    for (const el of candidates) if (isObj(el)) out.push({ blockId, blockType, element: el });
  }
  return out;
}

/** Gives blocks and elements the ids Slack would generate when the app left them out. */
function normalizeBlocks(blocks: unknown, gen: () => string): Obj[] {
  const copy = JSON.parse(JSON.stringify(asArray(blocks))) as unknown[];
  const result: Obj[] = [];
  for (const b of copy) {
    if (!isObj(b)) continue;
    if (typeof b.block_id !== 'string' || b.block_id === '') b.block_id = gen();
    for (const { element } of interactiveElements([b])) {
      if (typeof element.action_id !== 'string' || element.action_id === '') element.action_id = gen();
    }
    result.push(b);
  }
  return result;
}

/** The view's `state.values`, created if missing. */
function viewState(view: Obj): Obj {
  if (!isObj(view.state)) view.state = { values: {} };
  const state = view.state as Obj;
  if (!isObj(state.values)) state.values = {};
  return state.values as Obj;
}

// -----------------------------------------------------------------------------------------------
// Small helpers

const INVALID_JSON = Symbol('invalid json');

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** Form values arrive as strings ("true", "1"); JSON bodies as booleans. */
function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** Nested values come JSON-encoded in form bodies and as-is in JSON bodies. */
function parseJsonArg(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

function ok(body: Obj): MethodResult {
  return { status: 200, body: { ok: true, ...body } };
}

function fail(error: string, extra: Obj = {}): MethodResult {
  return { status: 200, body: { ok: false, error, ...extra } };
}

function truncationWarning(truncated: boolean): Obj {
  return truncated ? { warning: 'message_truncated', response_metadata: { warnings: ['message_truncated'], messages: [TRUNCATED_NOTE] } } : {};
}

function isContent(v: { text: string; blocks: Obj[] | undefined; truncated: boolean } | MethodResult): v is { text: string; blocks: Obj[] | undefined; truncated: boolean } {
  return 'truncated' in v;
}
