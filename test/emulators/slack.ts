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
 *
 * This module is the server: its routes, the token and scope check, faults, and the test helpers.
 * What it serves lives next to it: slack/auth.ts (tokens, scopes, auth.test), slack/users.ts,
 * slack/usergroups.ts, slack/chat.ts (conversations.open and chat.*), slack/views.ts (views.* and
 * trigger ids), slack/responseUrl.ts, slack/blockKit.ts (the Block Kit validator),
 * slack/rateLimits.ts (per-method tiers), slack/events.ts (the Events API: envelopes, signatures,
 * delivering `user_change` when a user is deactivated), over the workspace state in slack/workspace.ts.
 */
import { EmulatorServer, type EmuRequest, type EmuResponse } from './base.js';
import { authMethods, authorize } from './slack/auth.js';
import { chatMethods } from './slack/chat.js';
import { rateLimitFault, ratelimited, RateLimits, type SLACK_TIERS } from './slack/rateLimits.js';
import { answerResponseUrl, issueResponseUrl, type ResponseUrlContext, type ResponseUrlPost } from './slack/responseUrl.js';
import { usergroupsMethods } from './slack/usergroups.js';
import { deliverEvent, type EventDelivery, type EventSubscription } from './slack/events.js';
import { userObject, usersMethods } from './slack/users.js';
import { applyViewSubmissionResponse, expireTriggerId, issueTriggerId, setViewState, viewsMethods } from './slack/views.js';
import { isObj, type Args, type Obj, type SlackMethods } from './slack/wire.js';
import {
  SlackWorkspace,
  type EmuChannelInput,
  type EmuUserGroupInput,
  type EmuUserInput,
  type EphemeralMessage,
  type SlackWorkspaceOptions,
  type StoredMessage,
  type StoredView,
} from './slack/workspace.js';

export { interactiveElements, type InteractiveElement } from './slack/blockKit.js';
export { SLACK_TIERS } from './slack/rateLimits.js';
export type { ResponseUrlContext, ResponseUrlPost } from './slack/responseUrl.js';
export { isObj, type Obj } from './slack/wire.js';
export type { EmuChannelInput, EmuUserGroupInput, EmuUserInput, EphemeralMessage, MessageVersion, StoredMessage, StoredView } from './slack/workspace.js';

export type SlackEmulatorOptions = SlackWorkspaceOptions;

export class SlackEmulator extends EmulatorServer {
  private readonly ws: SlackWorkspace;
  private readonly methods: SlackMethods;
  private readonly rates = new RateLimits();
  private subscription: EventSubscription | undefined;
  /** Events delivered to the subscribed app, oldest first, with its answers. */
  readonly eventDeliveries: EventDelivery[] = [];

  constructor(options: SlackEmulatorOptions = {}) {
    super('slack');
    this.ws = new SlackWorkspace(options, () => this.url);
    this.methods = { ...authMethods(this.ws), ...usersMethods(this.ws), ...chatMethods(this.ws), ...viewsMethods(this.ws), ...usergroupsMethods(this.ws) };

    this.route('POST', '/api/:method', (req) => this.api(req));
    this.route('GET', '/api/:method', (req) => this.api(req));
    this.route('POST', '/actions/:id', (req) => answerResponseUrl(this.ws, req));
  }

  // ---------------------------------------------------------------------------------------------
  // The workspace's identity, the bot token's scopes and the clock

  get botToken(): string {
    return this.ws.botToken;
  }

  get teamId(): string {
    return this.ws.teamId;
  }

  get teamDomain(): string {
    return this.ws.teamDomain;
  }

  get teamName(): string {
    return this.ws.teamName;
  }

  get appId(): string {
    return this.ws.appId;
  }

  get appName(): string {
    return this.ws.appName;
  }

  get botUserId(): string {
    return this.ws.botUserId;
  }

  get botId(): string {
    return this.ws.botId;
  }

  get scopes(): string[] {
    return this.ws.scopes;
  }

  set scopes(scopes: string[]) {
    this.ws.scopes = scopes;
  }

  /** The emulator's clock (ms): trigger expiry, response URL expiry, message timestamps. */
  get now(): () => number {
    return this.ws.now;
  }

  set now(clock: () => number) {
    this.ws.now = clock;
  }

  get triggerTtlMs(): number {
    return this.ws.triggerTtlMs;
  }

  set triggerTtlMs(ms: number) {
    this.ws.triggerTtlMs = ms;
  }

  // ---------------------------------------------------------------------------------------------
  // Test set-up

  addUser(input: EmuUserInput): void {
    this.ws.addUser(input);
  }

  addChannel(input: EmuChannelInput): void {
    this.ws.addChannel(input);
  }

  addUserGroup(input: EmuUserGroupInput): void {
    this.ws.addUserGroup(input);
  }

  /**
   * The app's Events API subscription (the manifest's `event_subscriptions`): where workspace
   * events go, signed with its signing secret. Only `bot_events` listed are delivered.
   */
  subscribeEvents(sub: EventSubscription): void {
    this.subscription = sub;
  }

  /**
   * A workspace admin deactivates the user: users.info says `deleted: true`, users.lookupByEmail
   * no longer finds them, and an app subscribed to `user_change` (with `users:read`) gets the event
   * with the user object. Resolves once the app answered (undefined when nothing was delivered).
   */
  async deactivateUser(userId: string): Promise<EventDelivery | undefined> {
    const u = this.ws.users.get(userId);
    if (!u) throw new Error(`slack emulator: no user ${userId}`);
    u.deleted = true;
    return this.userChanged(userId);
  }

  /**
   * A workspace admin changes a user (a member made a guest, an email changed): the user is
   * replaced by `input` and an app subscribed to `user_change` gets the event, as Slack sends it
   * for any change to a member's data. Resolves once the app answered.
   */
  async changeUser(input: EmuUserInput): Promise<EventDelivery | undefined> {
    if (!this.ws.users.has(input.id)) throw new Error(`slack emulator: no user ${input.id}`);
    this.ws.addUser(input);
    return this.userChanged(input.id);
  }

  private async userChanged(userId: string): Promise<EventDelivery | undefined> {
    const u = this.ws.users.get(userId)!;
    const sub = this.subscription;
    if (!sub || !sub.botEvents.includes('user_change') || !this.ws.scopes.includes('users:read')) return undefined;
    const at = Date.now();
    const delivery = await deliverEvent(sub, { teamId: this.teamId, appId: this.appId, botUserId: this.botUserId, verificationToken: 'emulated-verification-token' }, { type: 'user_change', user: userObject(this.ws, u), cache_ts: Math.floor(at / 1000) }, at);
    this.eventDeliveries.push(delivery);
    return delivery;
  }

  /** Seeds a message (e.g. one written by a person, which the bot may not update). */
  addMessage(input: { channel: string; user: string; text: string; blocks?: Obj[] }): StoredMessage {
    return this.ws.addMessage(input);
  }

  /** A trigger id as Slack puts in a command or interaction payload: valid 3 s, once. */
  issueTriggerId(userId?: string): string {
    return issueTriggerId(this.ws, userId);
  }

  /** Ages a trigger past its lifetime, for tests of `expired_trigger_id`. */
  expireTriggerId(triggerId: string): void {
    expireTriggerId(this.ws, triggerId);
  }

  /** A response URL for an interaction: `${url}/actions/<id>`. */
  issueResponseUrl(context: ResponseUrlContext): string {
    return issueResponseUrl(this.ws, context);
  }

  /** The DM channel between the bot and a user, created if needed (as a user opening the app's DM). */
  imChannelFor(userId: string): string {
    return this.ws.imChannelFor(userId);
  }

  /** Rate-limits a Web API method: HTTP 429, `Retry-After`, `{ok:false,error:'ratelimited'}`. */
  rateLimit(method: string, times = 1, retryAfterSec = 1): () => void {
    return this.inject(rateLimitFault(method, times, retryAfterSec));
  }

  /**
   * Enforces a rate limit on a Web API method the way Slack does: `limit` calls (or the tier's
   * calls a minute) per window, then HTTP 429 with `Retry-After` (whole seconds to the window's
   * end) to every call until the window ends. Returns a function that lifts the limit.
   */
  limitRate(method: string, limit: number | { tier: keyof typeof SLACK_TIERS }, windowMs = 60_000): () => void {
    return this.rates.limit(method, limit, windowMs);
  }

  /** Makes a Web API method answer `{ok:false, error}` (HTTP `status`, default 200). */
  failMethod(method: string, error: string, opts: { times?: number; status?: number } = {}): () => void {
    return this.inject({ path: `/api/${method}`, times: opts.times, status: opts.status ?? 200, body: { ok: false, error } });
  }

  /** Closes a modal as the user pressing Close would. */
  closeView(viewId: string): void {
    const v = this.ws.views.get(viewId);
    if (v) v.closed = true;
  }

  // ---------------------------------------------------------------------------------------------
  // State a test reads

  get messages(): readonly StoredMessage[] {
    return this.ws.messages;
  }

  get ephemerals(): readonly EphemeralMessage[] {
    return this.ws.ephemerals;
  }

  get responseUrlPosts(): readonly ResponseUrlPost[] {
    return this.ws.responseUrlPosts;
  }

  get views(): ReadonlyMap<string, StoredView> {
    return this.ws.views;
  }

  /** Messages in the user's DM with the bot, latest version of each, oldest first. */
  dmsTo(userId: string): StoredMessage[] {
    return this.ws.dmsTo(userId);
  }

  ephemeralsTo(userId: string): EphemeralMessage[] {
    return this.ws.ephemeralsTo(userId);
  }

  /** The modal most recently opened or updated for the user (Home tabs excluded). */
  lastViewFor(userId: string): StoredView | undefined {
    return this.ws.lastViewFor(userId);
  }

  homeFor(userId: string): StoredView | undefined {
    return this.ws.homeFor(userId);
  }

  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.ws.findMessage(channel, ts);
  }

  /** Name as Slack shows it in payloads: `directmessage` for DMs. */
  channelName(channelId: string): string {
    return this.ws.channels.get(channelId)?.name ?? channelId;
  }

  userName(userId: string): string {
    return this.ws.users.get(userId)?.name ?? userId;
  }

  waitForMessage(pred: (m: StoredMessage) => boolean, timeoutMs = 5000): Promise<StoredMessage> {
    return this.waitForState(() => this.ws.messages.find((m) => !m.deleted && pred(m)), timeoutMs, 'message');
  }

  waitForDm(userId: string, pred: (m: StoredMessage) => boolean = () => true, timeoutMs = 5000): Promise<StoredMessage> {
    return this.waitForState(() => this.dmsTo(userId).find(pred), timeoutMs, `DM to ${userId}`);
  }

  waitForEphemeral(pred: (e: EphemeralMessage) => boolean, timeoutMs = 5000): Promise<EphemeralMessage> {
    return this.waitForState(() => this.ws.ephemerals.find(pred), timeoutMs, 'ephemeral');
  }

  waitForResponseUrlPost(pred: (p: ResponseUrlPost) => boolean = () => true, timeoutMs = 5000): Promise<ResponseUrlPost> {
    return this.waitForState(() => this.ws.responseUrlPosts.find(pred), timeoutMs, 'response_url post');
  }

  waitForView(pred: (v: StoredView) => boolean, timeoutMs = 5000): Promise<StoredView> {
    return this.waitForState(() => [...this.ws.views.values()].find(pred), timeoutMs, 'view');
  }

  /** Applies what an app answered to a view_submission, as Slack's client would. */
  applyViewSubmissionResponse(viewId: string, answer: unknown): void {
    applyViewSubmissionResponse(this.ws, viewId, answer);
  }

  /** Records a selection in a view's state, as the Slack client does when a user picks an option. */
  setViewState(viewId: string, blockId: string, actionId: string, value: Obj): void {
    setViewState(this.ws, viewId, blockId, actionId, value);
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

    const { refusal, headers } = authorize(this.ws, method, req, args);
    if (refusal) return refusal;
    const limited = this.rates.over(method, this.ws.now());
    if (limited !== undefined) return ratelimited(limited, headers);
    const out = handler(args);
    return { ...out, status: out.status ?? 200, headers: { ...headers, ...(out.headers ?? {}) } };
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
    const lines = this.ws.messages.slice(-10).map((m) => `${m.channel}@${m.ts}${m.deleted ? ' (deleted)' : ''}: ${m.text.slice(0, 80)}`);
    const eph = this.ws.ephemerals.slice(-5).map((e) => `ephemeral ${e.user}@${e.channel}: ${e.text.slice(0, 80)}`);
    return [...lines, ...eph].join(' | ') || '(none)';
  }
}
