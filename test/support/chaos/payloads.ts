/**
 * Hand-built Slack payloads: exact bytes to replay, tamper with or fuzz (shapes as SlackDriver
 * builds them, https://docs.slack.dev/reference/interaction-payloads).
 */
import type { SlackEmulator } from '../../emulators/slack.js';

type Json = Record<string, unknown>;

/** `payload=<json>`, the form body Slack posts interactivity in. */
export function formBody(payload: unknown): string {
  return new URLSearchParams({ payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }).toString();
}

export function userRef(emu: SlackEmulator, userId: string): Json {
  const name = emu.userName(userId);
  return { id: userId, username: name, name, team_id: emu.teamId };
}

/**
 * A `block_actions` click on a button. With `message`, the click comes from that message (its
 * channel, ts and blocks); `value` overrides the button's value (a forged request id).
 */
export function buttonClick(
  emu: SlackEmulator,
  o: { userId: string; actionId: string; value?: unknown; message?: { channel: string; ts: string; text: string; blocks: unknown[] }; responseUrl?: string },
): Json {
  const m = o.message;
  let element: Json | undefined;
  let blockId = o.actionId;
  for (const b of (m?.blocks ?? []) as Json[]) {
    for (const e of Array.isArray(b.elements) ? (b.elements as Json[]) : []) {
      if (e.action_id === o.actionId) {
        element = e;
        blockId = String(b.block_id);
      }
    }
  }
  const channel = m?.channel ?? emu.imChannelFor(o.userId);
  return {
    type: 'block_actions',
    user: userRef(emu, o.userId),
    api_app_id: emu.appId,
    token: 'emulated-verification-token',
    container: m ? { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: false } : { type: 'message', channel_id: channel },
    trigger_id: emu.issueTriggerId(o.userId),
    team: { id: emu.teamId, domain: emu.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'directmessage' },
    ...(m ? { message: { type: 'message', text: m.text, ts: m.ts, blocks: m.blocks } } : {}),
    state: { values: {} },
    response_url: o.responseUrl ?? emu.issueResponseUrl({ channel, user: o.userId, messageTs: m?.ts }),
    actions: [
      {
        action_id: o.actionId,
        block_id: blockId,
        text: element?.text ?? { type: 'plain_text', text: o.actionId, emoji: true },
        value: o.value !== undefined ? o.value : element?.value,
        type: 'button',
        action_ts: `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
}

const option = (value: string) => ({ text: { type: 'plain_text', text: value, emoji: true }, value });

/** The state of a request modal as Slack submits it. */
export function requestState(o: { app: unknown; role: unknown; duration: unknown; reason: unknown }): Json {
  const sel = (v: unknown) => (typeof v === 'string' ? option(v) : v);
  return {
    application: { application: { type: 'static_select', selected_option: sel(o.app) } },
    role: { role: { type: 'external_select', selected_option: sel(o.role) } },
    duration: { duration: { type: 'external_select', selected_option: sel(o.duration) } },
    reason: { reason: { type: 'plain_text_input', value: o.reason } },
  };
}

/** A `view_submission` of `view` (an object as Slack shows it) with `values` as its state. */
export function viewSubmission(emu: SlackEmulator, userId: string, view: Json, values: Json): Json {
  return {
    type: 'view_submission',
    team: { id: emu.teamId, domain: emu.teamDomain },
    user: userRef(emu, userId),
    api_app_id: emu.appId,
    token: 'emulated-verification-token',
    trigger_id: emu.issueTriggerId(userId),
    view: { ...view, state: { values } },
    response_urls: [],
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** A deny-reason modal as the bot opens it, for forging submissions of one never opened. */
export function denyView(requestId: unknown, viewId = `V0FORGED${Math.floor(Math.random() * 1e6)}`): Json {
  return { id: viewId, type: 'modal', callback_id: 'deny_reason', private_metadata: requestId, blocks: [], root_view_id: viewId, app_id: 'A0EMULATED' };
}
