/**
 * The Slack emulator through the real @slack/web-api client, and the driver against a real Bolt
 * app, so both speak what the bot's SDKs speak.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebClient, type WebAPICallResult } from '@slack/web-api';
import { App, HTTPReceiver } from '@slack/bolt';
import { SlackEmulator } from '../emulators/slack.js';
import { SlackClientRefusal, SlackDriver } from '../support/slackDriver.js';

const TOKEN = 'xoxb-test-token';

async function started(): Promise<SlackEmulator> {
  const emu = new SlackEmulator({ botToken: TOKEN });
  await emu.start();
  emu.addUser({ id: 'U100', email: 'alice@example.com', realName: 'Alice Doe' });
  emu.addUser({ id: 'U200', email: 'bob@example.com', realName: 'Bob Roe' });
  emu.addUser({ id: 'U300', email: 'gone@example.com', realName: 'Gone', deleted: true });
  emu.addChannel({ id: 'C100', name: 'security-alerts' });
  return emu;
}

function client(emu: SlackEmulator, token = TOKEN, extra: ConstructorParameters<typeof WebClient>[1] = {}): WebClient {
  return new WebClient(token, { slackApiUrl: `${emu.url}/api/`, retryConfig: { retries: 0 }, ...extra });
}

/** The platform error's `data` (the Slack answer) from a rejected WebClient call. */
async function slackError(p: Promise<unknown>): Promise<{ code: string; data: WebAPICallResult & Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: string; data: WebAPICallResult & Record<string, unknown> };
    return e;
  }
  throw new Error('expected the call to fail');
}

const modal = (extra: Record<string, unknown> = {}) => ({
  type: 'modal' as const,
  callback_id: 'request',
  title: { type: 'plain_text' as const, text: 'Request access' },
  submit: { type: 'plain_text' as const, text: 'Submit' },
  blocks: [
    {
      type: 'input',
      block_id: 'app',
      label: { type: 'plain_text', text: 'Application' },
      element: {
        type: 'static_select',
        action_id: 'app_select',
        options: [
          { text: { type: 'plain_text', text: 'Okta admin console' }, value: 'okta-console' },
          { text: { type: 'plain_text', text: 'Company wiki' }, value: 'wiki' },
        ],
      },
    },
    {
      type: 'input',
      block_id: 'reason',
      label: { type: 'plain_text', text: 'Reason' },
      element: { type: 'plain_text_input', action_id: 'reason_input', min_length: 5 },
    },
  ],
  ...extra,
});

test('auth: missing and wrong tokens, auth.test with scopes, unknown method', async () => {
  const emu = await started();
  try {
    assert.equal((await slackError(client(emu, '').auth.test())).data.error, 'not_authed');
    assert.equal((await slackError(client(emu, 'xoxb-wrong').auth.test())).data.error, 'invalid_auth');
    const who = await client(emu).auth.test();
    assert.equal(who.user_id, emu.botUserId);
    assert.equal(who.bot_id, emu.botId);
    assert.equal(who.team_id, emu.teamId);
    assert.ok(who.response_metadata?.scopes?.includes('users:read.email'));
    const unknown = await slackError(client(emu).apiCall('no.such.method'));
    assert.equal(unknown.data.error, 'unknown_method');
    assert.equal(unknown.data.req_method, 'no.such.method');
  } finally {
    await emu.stop();
  }
});

test('chat.postMessage to a user id opens the DM; dmsTo reads it; ts increase', async () => {
  const emu = await started();
  try {
    const web = client(emu);
    const a = await web.chat.postMessage({ channel: 'U100', text: 'hello', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi *Alice*' } }] });
    const b = await web.chat.postMessage({ channel: 'U100', text: 'again' });
    assert.match(String(a.channel), /^D/);
    assert.equal(a.channel, b.channel);
    assert.match(String(a.ts), /^\d{10}\.\d{6}$/);
    assert.ok(Number(b.ts) > Number(a.ts));
    const dms = emu.dmsTo('U100');
    assert.deepEqual(dms.map((m) => m.text), ['hello', 'again']);
    assert.ok(dms[0]?.blocks[0]?.block_id, 'Slack fills in a block_id');
    const opened = await web.conversations.open({ users: 'U100' });
    assert.equal(opened.channel?.id, a.channel);

    assert.equal((await slackError(web.chat.postMessage({ channel: 'C999', text: 'x' }))).data.error, 'channel_not_found');
    assert.equal((await slackError(web.chat.postMessage({ channel: 'U300', text: 'x' }))).data.error, 'channel_not_found');
    const byName = await web.chat.postMessage({ channel: '#security-alerts', text: 'alert' });
    assert.equal(byName.channel, 'C100');
    assert.equal((await emu.waitForMessage((m) => m.text === 'alert', 100)).channel, 'C100');
  } finally {
    await emu.stop();
  }
});

test('chat.update keeps history; other authors and unknown ts are refused', async () => {
  const emu = await started();
  try {
    const web = client(emu);
    const posted = await web.chat.postMessage({
      channel: 'U200',
      text: 'Approve?',
      blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'r1' }] }],
    });
    const channel = String(posted.channel);
    await web.chat.update({ channel, ts: String(posted.ts), text: 'Approved by Bob', blocks: [] });
    const msg = emu.findMessage(channel, String(posted.ts));
    assert.equal(msg?.text, 'Approved by Bob');
    assert.deepEqual(msg?.blocks, []);
    assert.equal(msg?.history.length, 1);
    assert.equal(msg?.history[0]?.text, 'Approve?');
    assert.equal(emu.dmsTo('U200')[0]?.text, 'Approved by Bob');

    assert.equal((await slackError(web.chat.update({ channel, ts: '1.000001', text: 'x' }))).data.error, 'message_not_found');
    const theirs = emu.addMessage({ channel: 'C100', user: 'U100', text: 'mine' });
    assert.equal((await slackError(web.chat.update({ channel: 'C100', ts: theirs.ts, text: 'x' }))).data.error, 'cant_update_message');
  } finally {
    await emu.stop();
  }
});

test('views.open: trigger once, within 3 s; expired and unknown triggers are refused', async () => {
  const emu = await started();
  try {
    const web = client(emu);
    const trigger = emu.issueTriggerId('U100');
    const opened = await web.views.open({ trigger_id: trigger, view: modal() });
    assert.match(String(opened.view?.id), /^V0/);
    assert.ok(opened.view?.hash);
    assert.deepEqual(opened.view?.state, { values: {} });
    assert.equal(emu.lastViewFor('U100')?.id, opened.view?.id);
    assert.equal((await slackError(web.views.open({ trigger_id: trigger, view: modal() }))).data.error, 'exchanged_trigger_id');

    const old = emu.issueTriggerId('U100');
    emu.expireTriggerId(old);
    assert.equal((await slackError(web.views.open({ trigger_id: old, view: modal() }))).data.error, 'expired_trigger_id');
    assert.equal((await slackError(web.views.open({ trigger_id: '123.456.abc', view: modal() }))).data.error, 'invalid_trigger_id');

    // views.update: stale hash conflicts, unknown id is not_found.
    const id = String(opened.view?.id);
    const updated = await web.views.update({ view_id: id, hash: String(opened.view?.hash), view: modal({ private_metadata: 'r1' }) });
    assert.equal(updated.view?.private_metadata, 'r1');
    assert.equal((await slackError(web.views.update({ view_id: id, hash: String(opened.view?.hash), view: modal() }))).data.error, 'hash_conflict');
    assert.equal((await slackError(web.views.update({ view_id: 'V0NOPE', view: modal() }))).data.error, 'not_found');

    // What an app answers to a submission is applied as Slack's client would.
    emu.applyViewSubmissionResponse(id, { response_action: 'errors', errors: { reason: 'Say a bit more' } });
    assert.deepEqual(emu.views.get(id)?.errors, { reason: 'Say a bit more' });
    assert.equal(emu.views.get(id)?.closed, false);
    emu.applyViewSubmissionResponse(id, '');
    assert.equal(emu.views.get(id)?.closed, true);
    assert.equal((await slackError(web.views.update({ view_id: id, view: modal() }))).data.error, 'not_found');
  } finally {
    await emu.stop();
  }
});

test('Block Kit validation answers like Slack', async () => {
  const emu = await started();
  try {
    const web = client(emu);
    const long = await slackError(web.chat.postMessage({ channel: 'U100', text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'a'.repeat(3001) } }] }));
    assert.equal(long.code, 'slack_webapi_platform_error');
    assert.equal(long.data.error, 'invalid_blocks');
    assert.deepEqual(long.data.response_metadata?.messages, ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);

    const many = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const tooMany = await slackError(web.chat.postMessage({ channel: 'U100', text: 'x', blocks: many }));
    assert.deepEqual(tooMany.data.response_metadata?.messages, ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]']);

    const button = (id: string) => ({ type: 'button' as const, action_id: id, text: { type: 'plain_text' as const, text: 'B'.repeat(76) } });
    const dup = await slackError(web.chat.postMessage({ channel: 'U100', text: 'x', blocks: [{ type: 'actions', elements: [button('a'), button('a')] }] }));
    const notes = dup.data.response_metadata?.messages ?? [];
    assert.ok(notes.includes('[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]'), notes.join('\n'));
    assert.ok(notes.some((n) => n.includes('duplicate action_id') && n.includes('/blocks/0/elements/1/action_id')), notes.join('\n'));

    const title = await slackError(web.views.open({ trigger_id: emu.issueTriggerId('U100'), view: modal({ title: { type: 'plain_text', text: 'A title that is far too long' } }) }));
    assert.equal(title.data.error, 'invalid_arguments');
    assert.ok(title.data.response_metadata?.messages?.includes('[ERROR] must be less than 25 characters [json-pointer:/view/title/text]'));

    const noSubmit = await slackError(web.views.open({ trigger_id: emu.issueTriggerId('U100'), view: modal({ submit: undefined }) }));
    assert.ok(noSubmit.data.response_metadata?.messages?.some((m) => m.includes('must define `submit`')));

    // Over 40,000 characters of text is truncated with a warning, not refused.
    const huge = await web.chat.postMessage({ channel: 'U100', text: 'y'.repeat(40010) });
    assert.equal((huge as WebAPICallResult & { warning?: string }).warning, 'message_truncated');
    assert.equal(emu.findMessage(String(huge.channel), String(huge.ts))?.text.length, 40000);
  } finally {
    await emu.stop();
  }
});

test('users.lookupByEmail, users.info, user groups', async () => {
  const emu = await started();
  try {
    const web = client(emu);
    emu.addUserGroup({ id: 'S100', handle: 'security', users: ['U100', 'U200'] });
    const found = await web.users.lookupByEmail({ email: 'Bob@example.com' });
    assert.equal(found.user?.id, 'U200');
    assert.equal((await slackError(web.users.lookupByEmail({ email: 'nobody@example.com' }))).data.error, 'users_not_found');
    const info = await web.users.info({ user: 'U100' });
    assert.equal(info.user?.profile?.email, 'alice@example.com');
    assert.equal(info.user?.real_name, 'Alice Doe');
    assert.equal((await slackError(web.users.info({ user: 'U999' }))).data.error, 'user_not_found');
    const groups = await web.usergroups.list({ include_users: true });
    assert.deepEqual(groups.usergroups?.[0]?.users, ['U100', 'U200']);
    assert.deepEqual((await web.usergroups.users.list({ usergroup: 'S100' })).users, ['U100', 'U200']);
    assert.equal((await slackError(web.usergroups.users.list({ usergroup: 'S999' }))).data.error, 'no_such_subteam');

    emu.scopes = emu.scopes.filter((s) => s !== 'users:read.email');
    const missing = await slackError(web.users.lookupByEmail({ email: 'bob@example.com' }));
    assert.equal(missing.data.error, 'missing_scope');
    assert.equal(missing.data.needed, 'users:read.email');
  } finally {
    await emu.stop();
  }
});

test('429 with Retry-After surfaces as a rate-limit error, then the call goes through', async () => {
  const emu = await started();
  try {
    emu.rateLimit('chat.postMessage', 1, 7);
    const web = client(emu, TOKEN, { rejectRateLimitedCalls: true });
    const err = (await slackError(web.chat.postMessage({ channel: 'U100', text: 'x' }))) as unknown as { code: string; retryAfter: number };
    assert.equal(err.code, 'slack_webapi_rate_limited_error');
    assert.equal(err.retryAfter, 7);
    const limited = emu.callsTo('POST', '/api/chat.postMessage')[0];
    assert.equal(limited?.status, 429);
    assert.deepEqual(limited?.response, { ok: false, error: 'ratelimited' });
    assert.ok((await web.chat.postMessage({ channel: 'U100', text: 'x' })).ok);
  } finally {
    await emu.stop();
  }
});

test('per-method rate limits as Slack enforces them: a window per method, then 429 + Retry-After to every call until it ends', async () => {
  const emu = await started();
  try {
    let now = 1_700_000_000_000;
    emu.now = () => now;
    emu.limitRate('chat.postMessage', 2, 10_000);
    emu.limitRate('users.info', { tier: 1 });
    const web = client(emu, TOKEN, { rejectRateLimitedCalls: true });
    assert.ok((await web.chat.postMessage({ channel: 'U100', text: '1' })).ok);
    assert.ok((await web.chat.postMessage({ channel: 'U100', text: '2' })).ok);
    now += 2500;
    for (const text of ['3', '4']) {
      const err = (await slackError(web.chat.postMessage({ channel: 'U100', text }))) as unknown as { code: string; retryAfter: number };
      assert.equal(err.code, 'slack_webapi_rate_limited_error');
      assert.equal(err.retryAfter, 8, 'whole seconds to the end of the window');
    }
    const limited = emu.callsTo('POST', '/api/chat.postMessage').at(-1);
    assert.equal(limited?.status, 429);
    assert.deepEqual(limited?.response, { ok: false, error: 'ratelimited' });
    // Another method has its own limit (Tier 1: one a minute).
    assert.ok((await web.users.info({ user: 'U100' })).ok);
    assert.equal(((await slackError(web.users.info({ user: 'U100' }))) as unknown as { retryAfter: number }).retryAfter, 60);
    now += 7500;
    assert.ok((await web.chat.postMessage({ channel: 'U100', text: '5' })).ok, 'a new window');
    assert.equal(emu.dmsTo('U100').map((m) => m.text).join(','), '1,2,5');
  } finally {
    await emu.stop();
  }
});

test('response_url: ephemeral reply, replace_original updates the message', async () => {
  const emu = await started();
  try {
    const posted = await client(emu).chat.postMessage({ channel: 'U200', text: 'Approve?' });
    const url = emu.issueResponseUrl({ channel: String(posted.channel), user: 'U200', messageTs: String(posted.ts) });
    assert.ok(url.startsWith(`${emu.url}/actions/`));
    const say = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await say({ text: 'You cannot approve your own request' })).status, 200);
    assert.equal(emu.ephemeralsTo('U200')[0]?.text, 'You cannot approve your own request');
    await say({ replace_original: true, text: 'Approved' });
    assert.equal(emu.dmsTo('U200')[0]?.text, 'Approved');
    assert.equal(emu.responseUrlPosts.length, 2);
  } finally {
    await emu.stop();
  }
});

test('driver against a real Bolt app: command opens a modal, select, submit, click, bad signature', async () => {
  const emu = await started();
  const signingSecret = 'test-signing-secret';
  const receiver = new HTTPReceiver({ signingSecret });
  const app = new App({ token: TOKEN, receiver, clientOptions: { slackApiUrl: `${emu.url}/api/`, retryConfig: { retries: 0 } } });
  const submitted: unknown[] = [];
  const clicked: unknown[] = [];
  app.command('/access', async ({ ack, body, client: web }) => {
    await ack();
    await web.views.open({ trigger_id: body.trigger_id, view: modal({ blocks: [{ ...modal().blocks[0], dispatch_action: true }, modal().blocks[1]] }) });
  });
  app.action('app_select', async ({ ack }) => {
    await ack();
  });
  app.view('request', async ({ ack, view }) => {
    submitted.push(view.state.values);
    await ack();
    const dm = await app.client.chat.postMessage({
      channel: 'U200',
      text: 'Approve?',
      blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'req-1' }] }],
    });
    assert.ok(dm.ok);
  });
  app.action('approve', async ({ ack, body, respond }) => {
    await ack();
    clicked.push(body);
    await respond({ replace_original: true, text: 'Approved by Bob' });
  });
  await app.start(0);
  try {
    const port = ((receiver as unknown as { server: { address(): AddressInfo } }).server.address()).port; // Bolt keeps its server private
    const driver = new SlackDriver({ botUrl: `http://127.0.0.1:${port}`, signingSecret, emulator: emu });

    const cmd = await driver.command('U100');
    assert.equal(cmd.status, 200);
    const view = await emu.waitForView((v) => v.userId === 'U100');

    const sel = await driver.selectInView('U100', view.id, 'app', 'app_select', 'wiki');
    assert.equal(sel.sent, true);
    assert.equal(sel.status, 200);
    await assert.rejects(driver.submitView('U100', view.id, { reason: { reason_input: 'no' } }), SlackClientRefusal);
    const sub = await driver.submitView('U100', view.id, { reason: { reason_input: 'Quarterly audit' } });
    assert.equal(sub.status, 200);
    assert.equal(emu.views.get(view.id)?.closed, true);
    assert.deepEqual(submitted[0], {
      app: { app_select: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'Company wiki' }, value: 'wiki' } } },
      reason: { reason_input: { type: 'plain_text_input', value: 'Quarterly audit' } },
    });

    const dm = await emu.waitForDm('U200', (m) => m.text === 'Approve?');
    const click = await driver.clickButton('U200', dm, 'approve');
    assert.equal(click.status, 200);
    await emu.waitForDm('U200', (m) => m.text === 'Approved by Bob');
    assert.equal((clicked[0] as { actions: { value: string }[] }).actions[0]?.value, 'req-1');

    const body = 'command=%2Faccess&user_id=U100';
    assert.equal((await driver.raw(body, driver.sign(body + 'tampered'))).status, 401);
    assert.equal((await driver.raw(body, driver.sign(body, Math.floor(Date.now() / 1000) - 6 * 60))).status, 401);
    assert.equal((await driver.raw(body)).status, 401);
  } finally {
    await app.stop();
    await emu.stop();
  }
});
