/**
 * Plays Slack's side of the bot's `POST /slack/events`: slash commands, button clicks, selections
 * and submissions in modals, options requests and Events API callbacks, each signed with the
 * signing secret the way Slack signs them. Trigger ids and response URLs come from the emulator,
 * so what the bot does with them (views.open, respond) lands in the emulator's state.
 *
 * Shapes follow Slack's references:
 * - signing: https://docs.slack.dev/authentication/verifying-requests-from-slack
 * - slash commands: https://docs.slack.dev/interactivity/implementing-slash-commands
 * - block_actions: https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
 * - view_submission: https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
 * - block_suggestion: https://docs.slack.dev/reference/interaction-payloads/block_suggestion-payload
 * - events: https://docs.slack.dev/apis/events-api
 */
import {
  interactiveElements,
  isObj,
  type EphemeralMessage,
  type MessageVersion,
  type Obj,
  type SlackEmulator,
  type StoredView,
} from '../emulators/slack.js';
import { eventEnvelope, eventTs, signSlackRequest } from '../emulators/slack/events.js';

export interface SlackDriverOptions {
  /** The bot's origin (`http://127.0.0.1:3000`) or its full events URL. */
  botUrl: string;
  signingSecret: string;
  emulator: SlackEmulator;
  /** Defaults to the emulator's team. */
  teamId?: string;
  /** The deprecated verification token Slack still puts in payloads. */
  verificationToken?: string;
}

export interface DriverResponse {
  status: number;
  /** Parsed JSON, or the text ('' for an empty ack). */
  body: unknown;
  headers: Record<string, string>;
}

export interface CommandResult extends DriverResponse {
  triggerId: string;
  responseUrl: string;
}

export interface ClickResult extends DriverResponse {
  triggerId: string;
  responseUrl: string;
}

export interface SelectResult extends DriverResponse {
  /** False when Slack would send nothing (a select in an input block without `dispatch_action`). */
  sent: boolean;
}

/** A value for one element in `submitView`: a string (value, or an option's value), a list, or null. */
export type SubmitValue = string | string[] | { text?: string; value: string } | null;

/** What the Slack client itself refuses before anything is sent (a required field left empty...). */
export class SlackClientRefusal extends Error {
  constructor(readonly reason: string) {
    super(`Slack's client would not submit: ${reason}`);
    this.name = 'SlackClientRefusal';
  }
}

type Clickable = MessageVersion | EphemeralMessage;

export class SlackDriver {
  readonly eventsUrl: string;
  readonly teamId: string;
  private readonly signingSecret: string;
  private readonly emu: SlackEmulator;
  private readonly verificationToken: string;

  constructor(opts: SlackDriverOptions) {
    const base = opts.botUrl.replace(/\/+$/, '');
    this.eventsUrl = base.endsWith('/slack/events') ? base : `${base}/slack/events`;
    this.signingSecret = opts.signingSecret;
    this.emu = opts.emulator;
    this.teamId = opts.teamId ?? opts.emulator.teamId;
    this.verificationToken = opts.verificationToken ?? 'emulated-verification-token';
  }

  /**
   * Slack's signature headers for a body: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`,
   * timestamp in seconds. https://docs.slack.dev/authentication/verifying-requests-from-slack
   */
  sign(body: string, timestamp: number = Math.floor(Date.now() / 1000)): Record<string, string> {
    return signSlackRequest(this.signingSecret, body, timestamp);
  }

  /** Posts exactly this body and these headers (nothing signed): for hostile tests. */
  async raw(body: string, headers: Record<string, string> = {}): Promise<DriverResponse> {
    const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
    return this.post(body, hasType ? headers : { 'Content-Type': 'application/x-www-form-urlencoded', ...headers });
  }

  /** Slash command, as a form post. https://docs.slack.dev/interactivity/implementing-slash-commands */
  async command(userId: string, command = '/access', text = '', opts: { channelId?: string; channelName?: string } = {}): Promise<CommandResult> {
    // Typed in the app's DM unless told otherwise; Slack names DMs "directmessage".
    const channelId = opts.channelId ?? this.emu.imChannelFor(userId);
    const channelName = opts.channelName ?? this.emu.channelName(channelId);
    const triggerId = this.emu.issueTriggerId(userId);
    const responseUrl = this.emu.issueResponseUrl({ channel: channelId, user: userId });
    const form = new URLSearchParams({
      token: this.verificationToken,
      team_id: this.teamId,
      team_domain: this.emu.teamDomain,
      channel_id: channelId,
      channel_name: channelName,
      user_id: userId,
      user_name: this.emu.userName(userId),
      command,
      text,
      api_app_id: this.emu.appId,
      is_enterprise_install: 'false',
      response_url: responseUrl,
      trigger_id: triggerId,
    });
    const res = await this.signed(form.toString(), 'application/x-www-form-urlencoded');
    return { ...res, triggerId, responseUrl };
  }

  /**
   * A click on a button in a message (or an ephemeral), found by action_id in the version passed:
   * pass an old version from `message.history` to click what a user still had on screen.
   */
  async clickButton(userId: string, message: Clickable, actionId: string, opts: { blockId?: string; /** The payload's user name, when a test needs it to differ from the directory's. */ userName?: string } = {}): Promise<ClickResult> {
    const found = interactiveElements(message.blocks).filter(
      (e) => e.element.type === 'button' && e.element.action_id === actionId && (!opts.blockId || e.blockId === opts.blockId),
    );
    if (found.length === 0) {
      const buttons = interactiveElements(message.blocks)
        .filter((e) => e.element.type === 'button')
        .map((e) => `${String(e.element.action_id)} (${buttonText(e.element)})`);
      throw new Error(`no button with action_id ${actionId} in message ${message.ts}; buttons: ${buttons.join(', ') || 'none'}`);
    }
    if (found.length > 1) throw new Error(`${found.length} buttons with action_id ${actionId}; pass opts.blockId`);
    const { blockId, element } = found[0]!;
    const isEphemeral = 'ephemeral' in message;
    const triggerId = this.emu.issueTriggerId(userId);
    const responseUrl = this.emu.issueResponseUrl({ channel: message.channel, user: userId, messageTs: isEphemeral ? undefined : message.ts });
    const action: Obj = {
      action_id: actionId,
      block_id: blockId,
      text: element.text,
      value: element.value,
      type: 'button',
      action_ts: actionTs(),
    };
    if (element.style !== undefined) action.style = element.style;
    const user = this.userRef(userId);
    if (opts.userName !== undefined) Object.assign(user, { username: opts.userName, name: opts.userName });
    const payload: Obj = {
      type: 'block_actions',
      user,
      api_app_id: this.emu.appId,
      token: this.verificationToken,
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: isEphemeral },
      trigger_id: triggerId,
      team: this.teamRef(),
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: message.channel, name: this.emu.channelName(message.channel) },
      // Ephemeral messages are not sent back in the payload.
      ...(isEphemeral ? {} : { message: this.messageRef(message) }),
      state: { values: {} },
      response_url: responseUrl,
      actions: [action],
    };
    const res = await this.interaction(payload);
    return { ...res, triggerId, responseUrl };
  }

  /**
   * A choice in a select inside a modal. The view's state is updated as Slack's client would;
   * a `block_actions` is sent only where Slack sends one (not from an input block without
   * `dispatch_action: true`).
   */
  async selectInView(userId: string, viewId: string, blockId: string, actionId: string, selected: SubmitValue): Promise<SelectResult> {
    const stored = this.view(viewId);
    const found = findElement(stored.view, blockId, actionId);
    const value = stateValue(found.element, selected);
    this.emu.setViewState(viewId, blockId, actionId, value);
    // https://docs.slack.dev/reference/block-kit/blocks/input-block : dispatch_action
    if (found.blockType === 'input' && found.block.dispatch_action !== true) {
      return { status: 0, body: null, headers: {}, sent: false };
    }
    const action: Obj = { type: found.element.type, action_id: actionId, block_id: blockId, ...selectionFields(value), action_ts: actionTs() };
    if (found.element.placeholder !== undefined) action.placeholder = found.element.placeholder;
    return { ...(await this.interaction(this.viewAction(userId, stored, action, this.emu.issueTriggerId(userId)))), sent: true };
  }

  /**
   * Submits a modal with `values[blockId][actionId]`. Options are looked up in the view so
   * `selected_option` carries the text Slack would send. What the app answers (`errors`, `update`,
   * nothing) is applied to the emulator's view.
   */
  async submitView(userId: string, viewId: string, values: Record<string, Record<string, SubmitValue>> = {}): Promise<DriverResponse> {
    const stored = this.view(viewId);
    if (stored.closed) throw new Error(`view ${viewId} is closed; nothing to submit`);
    for (const [blockId, byAction] of Object.entries(values)) {
      for (const [actionId, v] of Object.entries(byAction)) {
        const found = findElement(stored.view, blockId, actionId);
        this.emu.setViewState(viewId, blockId, actionId, stateValue(found.element, v));
      }
    }
    const state = fullState(stored.view);
    refuseLikeTheClient(stored.view, state);
    const view = clone(stored.view);
    view.state = { values: state };
    const payload: Obj = {
      type: 'view_submission',
      team: this.teamRef(),
      user: this.userRef(userId),
      api_app_id: this.emu.appId,
      token: this.verificationToken,
      trigger_id: this.emu.issueTriggerId(userId),
      view,
      response_urls: [],
      enterprise: null,
      is_enterprise_install: false,
    };
    const res = await this.interaction(payload);
    if (res.status === 200) this.emu.applyViewSubmissionResponse(viewId, res.body);
    return res;
  }

  /** An options request from an external_select in a modal. */
  async suggest(userId: string, viewId: string, actionId: string, blockId: string, query: string): Promise<DriverResponse> {
    const stored = this.view(viewId);
    findElement(stored.view, blockId, actionId);
    const payload: Obj = {
      type: 'block_suggestion',
      user: this.userRef(userId),
      container: { type: 'view', view_id: viewId },
      api_app_id: this.emu.appId,
      token: this.verificationToken,
      action_id: actionId,
      block_id: blockId,
      value: query,
      team: this.teamRef(),
      enterprise: null,
      is_enterprise_install: false,
      view: clone(stored.view),
    };
    return this.interaction(payload);
  }

  /**
   * An Events API callback (JSON). `retryNum` adds Slack's retry headers; reuse `eventId` to
   * replay the same delivery.
   */
  async event(event: Obj, opts: { eventId?: string; retryNum?: number; retryReason?: string } = {}): Promise<DriverResponse> {
    const body = eventEnvelope({ teamId: this.teamId, appId: this.emu.appId, botUserId: this.emu.botUserId, verificationToken: this.verificationToken }, event, opts.eventId);
    const extra: Record<string, string> = {};
    if (opts.retryNum !== undefined) {
      extra['X-Slack-Retry-Num'] = String(opts.retryNum);
      extra['X-Slack-Retry-Reason'] = opts.retryReason ?? 'http_timeout';
    }
    return this.signed(body, 'application/json', extra);
  }

  /**
   * The user opens the app's Home tab: an `app_home_opened` event_callback, signed, with the Home
   * view as it stands when one was published before.
   * https://docs.slack.dev/reference/events/app_home_opened
   */
  async appHomeOpened(userId: string, opts: { tab?: 'home' | 'messages'; eventId?: string; retryNum?: number } = {}): Promise<DriverResponse> {
    const tab = opts.tab ?? 'home';
    const home = tab === 'home' ? this.emu.homeFor(userId) : undefined;
    const event: Obj = { type: 'app_home_opened', user: userId, channel: this.emu.imChannelFor(userId), tab, ...(home ? { view: clone(home.view) } : {}) };
    return this.event(event, { eventId: opts.eventId, retryNum: opts.retryNum });
  }

  /**
   * A click on a button in a view (a Home tab or a modal): `container.type` is `view`, the view
   * comes along, and there is no channel and no response_url.
   * https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
   */
  async clickInView(userId: string, viewId: string, actionId: string, opts: { blockId?: string } = {}): Promise<ClickResult> {
    const stored = this.view(viewId);
    const found = interactiveElements(stored.view.blocks).filter(
      (e) => e.element.type === 'button' && e.element.action_id === actionId && (!opts.blockId || e.blockId === opts.blockId),
    );
    if (found.length !== 1) throw new Error(`${found.length} buttons with action_id ${actionId} in view ${viewId}${opts.blockId ? ` block ${opts.blockId}` : '; pass opts.blockId'}`);
    const { blockId, element } = found[0]!;
    const triggerId = this.emu.issueTriggerId(userId);
    const action: Obj = { action_id: actionId, block_id: blockId, text: element.text, value: element.value, type: 'button', action_ts: actionTs() };
    if (element.style !== undefined) action.style = element.style;
    return { ...(await this.interaction(this.viewAction(userId, stored, action, triggerId))), triggerId, responseUrl: '' };
  }

  /** A block_actions payload from a view: no channel, no response_url, the view itself along. */
  private viewAction(userId: string, stored: StoredView, action: Obj, triggerId: string): Obj {
    return {
      type: 'block_actions',
      user: this.userRef(userId),
      api_app_id: this.emu.appId,
      token: this.verificationToken,
      container: { type: 'view', view_id: stored.id },
      trigger_id: triggerId,
      team: this.teamRef(),
      enterprise: null,
      is_enterprise_install: false,
      view: clone(stored.view),
      actions: [action],
    };
  }

  // ---------------------------------------------------------------------------------------------

  private interaction(payload: Obj): Promise<DriverResponse> {
    // Interactivity arrives as a form with one field, `payload`, holding JSON.
    return this.signed(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded');
  }

  private signed(body: string, contentType: string, extra: Record<string, string> = {}): Promise<DriverResponse> {
    return this.post(body, { 'Content-Type': contentType, ...this.sign(body), ...extra });
  }

  private async post(body: string, headers: Record<string, string>): Promise<DriverResponse> {
    const res = await fetch(this.eventsUrl, {
      method: 'POST',
      headers: { 'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', ...headers },
      body,
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (text) {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        parsed = text;
      }
    }
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => (out[k] = v));
    return { status: res.status, body: parsed, headers: out };
  }

  private view(viewId: string): StoredView {
    const stored = this.emu.views.get(viewId);
    if (!stored) throw new Error(`no view ${viewId} in the emulator`);
    return stored;
  }

  private userRef(userId: string): Obj {
    const name = this.emu.userName(userId);
    return { id: userId, username: name, name, team_id: this.teamId };
  }

  private teamRef(): Obj {
    return { id: this.teamId, domain: this.emu.teamDomain };
  }

  private messageRef(m: Clickable): Obj {
    // The author comes from the stored message; an old version carries only channel, ts, text, blocks.
    const stored = this.emu.findMessage(m.channel, m.ts);
    const botId = stored?.botId;
    return {
      type: 'message',
      ...(botId ? { subtype: 'bot_message', bot_id: botId, app_id: this.emu.appId } : {}),
      text: m.text,
      user: stored?.user ?? this.emu.botUserId,
      ts: m.ts,
      team: this.teamId,
      blocks: clone(m.blocks),
    };
  }
}

// -----------------------------------------------------------------------------------------------

interface FoundElement {
  blockType: string;
  block: Obj;
  element: Obj;
}

function findElement(view: Obj, blockId: string, actionId: string): FoundElement {
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  for (const b of blocks) {
    if (!isObj(b) || b.block_id !== blockId) continue;
    for (const e of interactiveElements([b])) {
      if (e.element.action_id === actionId) return { blockType: e.blockType, block: b, element: e.element };
    }
  }
  const known = interactiveElements(blocks).map((e) => `${e.blockId}/${String(e.element.action_id)} (${String(e.element.type)})`);
  throw new Error(`no element ${blockId}/${actionId} in view ${String(view.id)}; elements: ${known.join(', ') || 'none'}`);
}

function optionsOf(el: Obj): Obj[] {
  const direct = Array.isArray(el.options) ? el.options : [];
  const grouped = Array.isArray(el.option_groups) ? el.option_groups.flatMap((g) => (isObj(g) && Array.isArray(g.options) ? g.options : [])) : [];
  return [...direct, ...grouped].filter(isObj);
}

function pickOption(el: Obj, v: string | { text?: string; value: string }): Obj {
  const value = typeof v === 'string' ? v : v.value;
  const opt = optionsOf(el).find((o) => o.value === value);
  if (!opt) {
    const offered = optionsOf(el).map((o) => String(o.value));
    throw new Error(`option ${value} is not offered by ${String(el.action_id)}; offered: ${offered.join(', ') || 'none'}`);
  }
  return clone(opt);
}

function externalOption(v: string | { text?: string; value: string }): Obj {
  const value = typeof v === 'string' ? v : v.value;
  const text = typeof v === 'string' ? v : (v.text ?? v.value);
  return { text: { type: 'plain_text', text, emoji: true }, value };
}

/**
 * The `state.values` entry Slack sends for an element, per type.
 * https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload#view_submission
 */
function stateValue(el: Obj, v: SubmitValue): Obj {
  const type = String(el.type);
  const one = (x: SubmitValue): string | { text?: string; value: string } => {
    if (x === null || Array.isArray(x)) throw new Error(`${type} takes one value`);
    return x;
  };
  const many = (x: SubmitValue): (string | { text?: string; value: string })[] => (x === null ? [] : Array.isArray(x) ? x : [x]);
  const scalar = (x: SubmitValue): string | null => (x === null ? null : typeof x === 'string' ? x : Array.isArray(x) ? (x[0] ?? null) : x.value);
  switch (type) {
    case 'static_select':
    case 'radio_buttons':
      return { type, selected_option: v === null ? null : pickOption(el, one(v)) };
    case 'external_select':
      return { type, selected_option: v === null ? null : externalOption(one(v)) };
    case 'multi_static_select':
    case 'checkboxes':
      return { type, selected_options: many(v).map((x) => pickOption(el, x)) };
    case 'multi_external_select':
      return { type, selected_options: many(v).map(externalOption) };
    case 'users_select':
      return { type, selected_user: scalar(v) };
    case 'multi_users_select':
      return { type, selected_users: many(v).map((x) => (typeof x === 'string' ? x : x.value)) };
    case 'conversations_select':
      return { type, selected_conversation: scalar(v) };
    case 'channels_select':
      return { type, selected_channel: scalar(v) };
    case 'datepicker':
      return { type, selected_date: scalar(v) };
    case 'timepicker':
      return { type, selected_time: scalar(v) };
    default:
      // plain_text_input, number_input, email/url inputs: `value`.
      return { type, value: scalar(v) };
  }
}

/** An action carries the same selection fields as the state entry, minus its type. */
function selectionFields(value: Obj): Obj {
  const { type: _type, ...rest } = value;
  return rest;
}

/** Empty entry for an element nobody touched, as Slack includes every stateful element. */
function emptyState(el: Obj): Obj | undefined {
  const type = String(el.type);
  if (type === 'button' || type === 'overflow') return undefined;
  try {
    return stateValue(el, null);
  } catch {
    return undefined;
  }
}

/** The view's state with an entry for every stateful element. */
function fullState(view: Obj): Obj {
  const current = isObj(view.state) && isObj(view.state.values) ? clone(view.state.values) : {};
  for (const { blockId, element } of interactiveElements(view.blocks)) {
    const actionId = String(element.action_id);
    const block = isObj(current[blockId]) ? (current[blockId] as Obj) : {};
    if (block[actionId] === undefined) {
      const empty = emptyState(element);
      if (empty) block[actionId] = empty;
    }
    if (Object.keys(block).length) current[blockId] = block;
  }
  return current;
}

function isEmpty(entry: unknown): boolean {
  if (!isObj(entry)) return true;
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'type') continue;
    if (Array.isArray(v) ? v.length > 0 : v !== null && v !== undefined && v !== '') return false;
  }
  return true;
}

/** Required inputs and plain_text_input length limits are enforced by the client, not the app. */
function refuseLikeTheClient(view: Obj, state: Obj): void {
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  for (const b of blocks) {
    if (!isObj(b) || b.type !== 'input' || !isObj(b.element)) continue;
    const el = b.element;
    const blockState = state[String(b.block_id)];
    const entry = isObj(blockState) ? blockState[String(el.action_id)] : undefined;
    const label = isObj(b.label) ? String(b.label.text) : String(b.block_id);
    if (b.optional !== true && isEmpty(entry)) throw new SlackClientRefusal(`"${label}" is required`);
    if (el.type === 'plain_text_input' && isObj(entry) && typeof entry.value === 'string') {
      const n = [...entry.value].length;
      if (typeof el.min_length === 'number' && n < el.min_length) throw new SlackClientRefusal(`"${label}" needs at least ${el.min_length} characters`);
      if (typeof el.max_length === 'number' && n > el.max_length) throw new SlackClientRefusal(`"${label}" takes at most ${el.max_length} characters`);
    }
  }
}

function buttonText(el: Obj): string {
  return isObj(el.text) ? String(el.text.text) : '';
}

/** Slack's action_ts: seconds with microseconds. */
function actionTs(): string {
  return eventTs();
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
