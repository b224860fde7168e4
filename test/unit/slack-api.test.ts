/**
 * The bot's Slack Web API client (src/adapters/slack/api.ts) against the Slack emulator: what it
 * sends, and how each kind of answer or failure reaches the outbox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { SlackApi, SlackApiError, formBody } from '../../src/adapters/slack/api.js';
import { SlackGateway, isSlackResponseUrl, type KeptUsers } from '../../src/adapters/slack/client.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { SlackEmulator } from '../emulators/slack.js';

const TOKEN = 'xoxb-api-test-token';

async function started(): Promise<SlackEmulator> {
  const emu = new SlackEmulator({ botToken: TOKEN });
  await emu.start();
  emu.addUser({ id: 'U100', email: 'alice@example.com', realName: 'Alice Doe' });
  emu.addUser({ id: 'U300', email: 'gone@example.com', realName: 'Gone', deleted: true });
  return emu;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

test('formBody: objects as JSON strings, null and undefined left out, booleans and numbers as text', () => {
  const body = new URLSearchParams(formBody({ channel: 'C1', blocks: [{ type: 'divider' }], thread_ts: undefined, x: null, unfurl_links: false, limit: 5 }));
  assert.deepEqual([...body.keys()], ['channel', 'blocks', 'unfurl_links', 'limit']);
  assert.equal(body.get('blocks'), '[{"type":"divider"}]');
  assert.equal(body.get('unfurl_links'), 'false');
  assert.equal(body.get('limit'), '5');
});

test('a call goes out as Slack documents it and resolves with the answer', async () => {
  const emu = await started();
  try {
    const api = new SlackApi(TOKEN, `${emu.url}/api/`, 2000);
    const r = await api.call<{ ok: boolean; user?: { id?: string; profile?: { email?: string } } }>('users.info', { user: 'U100' });
    assert.equal(r.user?.id, 'U100');
    assert.equal(r.user?.profile?.email, 'alice@example.com');
    const call = emu.calls.find((c) => c.path === '/api/users.info');
    assert.ok(call);
    assert.equal(call.method, 'POST');
    assert.equal(call.headers['authorization'], `Bearer ${TOKEN}`);
    assert.match(String(call.headers['content-type']), /^application\/x-www-form-urlencoded/);

    // A message with blocks: the blocks arrive as the JSON Slack parses.
    const gw = new SlackGateway(api);
    const posted = await gw.postDm('U100', { text: 'hello', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }] });
    assert.ok(posted.ts);
    const msg = emu.messages.find((m) => m.ts === posted.ts);
    assert.equal(msg?.text, 'hello');
    assert.equal(msg?.blocks?.length, 1);
  } finally {
    await emu.stop();
  }
});

test('platform errors: not found reads as absent; other codes are permanent or retryable as Slack means them', async () => {
  const emu = await started();
  try {
    const api = new SlackApi(TOKEN, `${emu.url}/api`, 2000);
    const gw = new SlackGateway(api);
    assert.equal(await gw.userInfo('U999'), undefined, 'user_not_found');
    assert.equal(await gw.lookupByEmail('nobody@example.com'), undefined, 'users_not_found');

    const bad = await rejection(new SlackApi('xoxb-wrong', `${emu.url}/api`, 2000).callClassified('users.info', { user: 'U100' }));
    assert.ok(bad instanceof PermanentError);
    assert.equal(bad.code, 'invalid_auth');

    emu.failMethod('chat.postMessage', 'internal_error', { times: 1 });
    const flaky = await rejection(gw.post('U100', { text: 'x' }));
    assert.ok(flaky instanceof RetryableError);
    assert.equal(flaky.code, 'internal_error');

    const raw = await rejection(api.call('chat.update', { channel: 'D-none', ts: '1.2', text: 'x' }));
    assert.ok(raw instanceof SlackApiError);
    assert.equal(raw.kind, 'platform');
    assert.equal(raw.code, 'channel_not_found');
  } finally {
    await emu.stop();
  }
});

test('HTTP 429 carries Retry-After to the outbox; 5xx is retryable, other statuses permanent', async () => {
  const emu = await started();
  try {
    let now = Date.now();
    const api = new SlackApi(TOKEN, `${emu.url}/api`, 2000, () => now);
    emu.rateLimit('users.info', 1, 7);
    const limited = await rejection(api.callClassified('users.info', { user: 'U100' }));
    assert.ok(limited instanceof RetryableError);
    assert.equal(limited.code, 'ratelimited');
    assert.equal(limited.retryAfterMs, 7000);
    // Once Retry-After has passed, the next call goes through.
    now += 7000;
    assert.equal((await api.call('users.info', { user: 'U100' })).ok, true);

    emu.inject({ path: '/api/users.info', times: 1, status: 503, body: 'upstream unavailable' });
    const down = await rejection(api.callClassified('users.info', { user: 'U100' }));
    assert.ok(down instanceof RetryableError);
    assert.match(down.message, /HTTP 503/);

    emu.inject({ path: '/api/users.info', times: 1, status: 410, body: 'gone' });
    const gone = await rejection(api.callClassified('users.info', { user: 'U100' }));
    assert.ok(gone instanceof PermanentError);

    emu.inject({ path: '/api/users.info', times: 1, status: 200, body: 'not json' });
    const garbled = await rejection(api.callClassified('users.info', { user: 'U100' }));
    assert.ok(garbled instanceof PermanentError);
    assert.equal(garbled.code, 'invalid_response');
  } finally {
    await emu.stop();
  }
});

test('no answer in time, a reset connection and a refused one are retryable, and the token is never in the message', async () => {
  const emu = await started();
  try {
    const api = new SlackApi(TOKEN, `${emu.url}/api`, 200);
    emu.inject({ path: '/api/users.info', times: 1, hang: true });
    const hung = await rejection(api.callClassified('users.info', { user: 'U100' }));
    assert.ok(hung instanceof RetryableError);
    assert.equal(hung.code, 'slack_timeout');
    assert.match(hung.message, /within 200 ms/);

    emu.inject({ path: '/api/users.info', times: 1, drop: true });
    const reset = await rejection(api.callClassified('users.info', { user: 'U100' }));
    assert.ok(reset instanceof RetryableError);
    assert.equal(reset.code, 'slack_unreachable');

    // A port nobody listens on.
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const refused = await rejection(new SlackApi(TOKEN, `http://127.0.0.1:${port}/api`, 2000).callClassified('users.info', { user: 'U100' }));
    assert.ok(refused instanceof RetryableError);
    assert.match(refused.message, /ECONNREFUSED/);
    for (const e of [hung, reset, refused]) assert.ok(!(e as Error).message.includes(TOKEN));
  } finally {
    await emu.stop();
  }
});

test('after a 429, every call of that method waits for Retry-After, unsent; other methods are not held', async () => {
  const emu = await started();
  try {
    let now = Date.now();
    const api = new SlackApi(TOKEN, `${emu.url}/api`, 2000, () => now);
    const gw = new SlackGateway(api);
    emu.rateLimit('chat.postMessage', 1, 30);
    const first = await rejection(gw.post('U100', { text: 'first' }));
    assert.ok(first instanceof RetryableError);
    assert.equal(first.code, 'ratelimited');

    // A burst after the 429: nothing reaches Slack; each is told to come back when the hold ends.
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => rejection(gw.post('U100', { text: `dm ${i}` }))));
    for (const err of burst) {
      assert.ok(err instanceof RetryableError);
      assert.equal(err.code, 'slack_rate_limited');
      assert.equal(err.retryAfterMs, 30_000);
      assert.match(err.message, /chat\.postMessage: rate limited .* for 30 s more; not sent/);
    }
    assert.equal(emu.callsTo('POST', '/api/chat.postMessage').length, 1, 'only the call that met the 429 was sent');
    assert.ok(await gw.userInfo('U100'), 'users.info has its own limit');

    now += 29_999;
    const late = await rejection(gw.post('U100', { text: 'still held' }));
    assert.ok(late instanceof RetryableError && late.retryAfterMs === 1);
    now += 1;
    assert.ok((await gw.post('U100', { text: 'after Retry-After' })).ts);
    assert.equal(emu.callsTo('POST', '/api/chat.postMessage').length, 2);
  } finally {
    await emu.stop();
  }
});

test('views.open waits out a hold that ends within its budget, and fails fast, unsent, past it', async () => {
  const emu = await started();
  try {
    const api = new SlackApi(TOKEN, `${emu.url}/api`, 2000);
    const view = { type: 'modal', title: { type: 'plain_text', text: 'T' }, blocks: [] };
    const open = (maxWaitMs: number) => api.call('views.open', { trigger_id: emu.issueTriggerId('U100'), view }, { maxWaitMs });

    emu.rateLimit('views.open', 1, 30);
    assert.ok((await rejection(open(1500))) instanceof SlackApiError, 'the 429 itself');
    const t0 = Date.now();
    const fast = await rejection(open(1500));
    assert.ok(fast instanceof RetryableError);
    assert.equal(fast.code, 'slack_rate_limited');
    assert.ok(Date.now() - t0 < 500, `failed at once (${Date.now() - t0} ms)`);
    assert.equal(emu.callsTo('POST', '/api/views.open').length, 1, 'the held call was not sent');

    const short = new SlackApi(TOKEN, `${emu.url}/api`, 2000);
    emu.rateLimit('views.open', 1, 1);
    assert.ok((await rejection(short.call('views.open', { trigger_id: emu.issueTriggerId('U100'), view }))) instanceof SlackApiError);
    const t1 = Date.now();
    const trigger = emu.issueTriggerId('U100');
    assert.equal((await short.call('views.open', { trigger_id: trigger, view }, { maxWaitMs: 1500 })).ok, true);
    const waited = Date.now() - t1;
    assert.ok(waited >= 950 && waited < 1500, `waited for Retry-After, within the budget (${waited} ms)`);
  } finally {
    await emu.stop();
  }
});

test("response_url: only https to Slack's hooks host or the configured API origin is accepted", () => {
  const api = new URL('http://127.0.0.1:4010/api/');
  const ok = ['https://hooks.slack.com/actions/T1/2/abc', 'https://hooks.slack.com:443/commands/T1/2/abc', 'http://127.0.0.1:4010/actions/x'];
  const refused = [
    'http://hooks.slack.com/actions/T1/2/abc',
    'https://hooks.slack.com:8443/actions/T1/2/abc',
    'https://hooks.slack.com.evil.example/actions/x',
    'https://evil.example/?https://hooks.slack.com/',
    'https://user:pw@hooks.slack.com/actions/x',
    'http://127.0.0.1:4011/actions/x',
    'http://169.254.169.254/latest/meta-data/',
    'javascript:alert(1)',
    'not a url',
  ];
  for (const u of ok) assert.equal(isSlackResponseUrl(u, api), true, u);
  for (const u of refused) assert.equal(isSlackResponseUrl(u, api), false, u);
});

test('a response_url that redirects is not followed: the reply goes by chat.postEphemeral', async () => {
  const emu = await started();
  emu.addChannel({ id: 'C200', name: 'general', members: ['U100'] });
  const elsewhere: IncomingMessage[] = [];
  const trap = createHttpServer((req, res) => {
    elsewhere.push(req);
    res.end('ok');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  try {
    const gw = new SlackGateway(new SlackApi(TOKEN, `${emu.url}/api`, 2000));
    const url = emu.issueResponseUrl({ channel: 'C200', user: 'U100' });
    const trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}/steal`;
    emu.inject({ path: /^\/actions\//, times: 1, status: 302, headers: { Location: trapUrl } });
    const sent = await gw.ephemeral({ user: 'U100', channel: 'C200', responseUrl: url }, { text: 'Only you can see this' });
    assert.deepEqual(sent, { via: 'chat.postEphemeral', refusedResponseUrl: undefined });
    assert.equal(elsewhere.length, 0, 'the redirect target was never contacted');
    assert.equal(emu.ephemeralsTo('U100').at(-1)?.text, 'Only you can see this');
  } finally {
    await new Promise<void>((resolve) => trap.close(() => resolve()));
    await emu.stop();
  }
});

test("the directory reads an account's kind from users.info, and reuses an answer for a minute", async () => {
  const emu = await started();
  try {
    emu.addUser({ id: 'U400', email: 'guest@example.com', realName: 'Guest', guest: 'single-channel' });
    emu.addUser({ id: 'U500', email: 'sam@partner.example', realName: 'Sam', teamId: 'T0PARTNER' });
    emu.addUser({ id: 'U600', email: 'new@example.com', realName: 'New', emailConfirmed: false });
    let now = 1_000_000;
    const gw = new SlackGateway(new SlackApi(TOKEN, `${emu.url}/api/`, 2000), () => now);
    const member = await gw.userInfo('U100');
    assert.deepEqual(member, {
      slackId: 'U100',
      email: 'alice@example.com',
      name: 'Alice Doe',
      account: { deleted: false, bot: false, restricted: false, ultraRestricted: false, external: false, emailConfirmed: true },
    });
    assert.deepEqual((await gw.userInfo('U400'))?.account, { deleted: false, bot: false, restricted: true, ultraRestricted: true, external: false, emailConfirmed: true });
    assert.equal((await gw.userInfo('U500'))?.account.external, true, 'home team is not this workspace');
    assert.equal((await gw.lookupByEmail('sam@partner.example'))?.account.external, true);
    assert.equal((await gw.userInfo('U600'))?.account.emailConfirmed, false);
    assert.equal((await gw.userInfo(emu.botUserId))?.account.bot, true);
    assert.equal(emu.callsTo('POST', '/api/auth.test').length, 1, 'the workspace is asked once');

    // Within the minute the answer is reused; after it, Slack is asked again.
    const calls = () => emu.callsTo('POST', '/api/users.info').filter((c) => JSON.stringify(c.body).includes('U100')).length;
    emu.addUser({ id: 'U100', email: 'alice@example.com', realName: 'Alice Doe', guest: 'multi-channel' });
    now += 44_000;
    assert.equal((await gw.userInfo('U100'))?.account.restricted, false);
    assert.equal(calls(), 1);
    now += 17_000;
    assert.equal((await gw.userInfo('U100'))?.account.restricted, true);
    assert.equal(calls(), 2);
    // Who a grant goes to is read fresh: a changed email is seen at once, not a minute later.
    emu.addUser({ id: 'U100', email: 'alice.doe@example.com', realName: 'Alice Doe' });
    assert.equal((await gw.userInfo('U100', { fresh: true }))?.email, 'alice.doe@example.com');
    assert.equal(calls(), 3);
    assert.equal((await gw.userInfo('U100'))?.email, 'alice.doe@example.com', 'the fresh answer refreshed the cache');
    assert.equal(calls(), 3);
    assert.equal(await gw.userInfo('U999'), undefined);
    assert.equal(await gw.userInfo('U999'), undefined);
    assert.equal(emu.callsTo('POST', '/api/users.info').filter((c) => JSON.stringify(c.body).includes('U999')).length, 2, 'an unknown user is not cached');
  } finally {
    await emu.stop();
  }
});

test('an answer used late in its minute is asked again in the background: the lookup does not wait, and the rules never read an answer over a minute old', async () => {
  const emu = await started();
  try {
    let now = 1_000_000;
    const gw = new SlackGateway(new SlackApi(TOKEN, `${emu.url}/api/`, 2000), () => now);
    const calls = () => emu.callsTo('POST', '/api/users.info').length;
    assert.equal((await gw.userInfo('U100'))?.account.restricted, false);
    assert.equal(calls(), 1);
    // Demoted to a guest; Slack's answer a moment ago said member.
    emu.addUser({ id: 'U100', email: 'alice@example.com', realName: 'Alice Doe', guest: 'multi-channel' });
    now += 30_000;
    assert.equal((await gw.userInfo('U100'))?.account.restricted, false, 'early in its minute: the cached answer, no call');
    assert.equal(calls(), 1);
    now += 16_000;
    // 46 s old: answered at once from the cache, and asked again behind it.
    assert.equal((await gw.userInfo('U100'))?.account.restricted, false);
    for (let i = 0; i < 200 && calls() < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(calls(), 2, 'one refresh in the background');
    for (let i = 0; i < 200 && (await gw.userInfo('U100'))?.account.restricted !== true; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await gw.userInfo('U100'))?.account.restricted, true, 'the demotion is seen within the minute');
    assert.equal(calls(), 2, 'lookups while it was in flight did not ask again');
    // The refreshed answer counts its minute from the refresh.
    now += 40_000;
    assert.equal((await gw.userInfo('U100'))?.account.restricted, true);
    assert.equal(calls(), 2);

    // Slack said the user changed while a refresh was in flight: its answer is not kept.
    now += 10_000;
    emu.addUser({ id: 'U100', email: 'alice@example.com', realName: 'Alice Doe' });
    const refreshing = gw.userInfo('U100');
    gw.forgetUser('U100');
    assert.equal((await refreshing)?.account.restricted, true, 'the lookup made before the change got the answer it had');
    for (let i = 0; i < 200 && calls() < 3; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await gw.userInfo('U100'))?.account.restricted, false, 'asked afresh after the forget');
    assert.equal(calls(), 4);
  } finally {
    await emu.stop();
  }
});

test("users.info answers of one turn are kept in one write, and a forget before it drops the user's", async () => {
  // Slack answering at once (resolved promises): all three answers arrive within one turn.
  const users: Record<string, { id: string; team_id: string; profile: { email: string } }> = {
    U100: { id: 'U100', team_id: 'T1', profile: { email: 'al@example.com' } },
    U400: { id: 'U400', team_id: 'T1', profile: { email: 'bo@example.com' } },
    U500: { id: 'U500', team_id: 'T1', profile: { email: 'cy@example.com' } },
  };
  const api = {
    call: (_method: string, args: { user: string }) => Promise.resolve({ ok: true, user: users[args.user] }),
    callClassified: () => Promise.resolve({ ok: true, team_id: 'T1' }),
  } as unknown as SlackApi;
  const writes: string[][] = [];
  const forgotten: string[] = [];
  const kept: KeptUsers = {
    read: () => undefined,
    writeAll: (answers) => void writes.push(answers.map((a) => `${a.slackId}=${a.user.email}`)),
    forget: (id) => void forgotten.push(id),
  };
  const gw = new SlackGateway(api, Date.now, 60_000, kept);
  await Promise.all([gw.userInfo('U100'), gw.userInfo('U400'), gw.userInfo('U500')]);
  // Slack changed U500 before the turn ended: what was learned of them is not kept.
  gw.forgetUser('U500');
  assert.deepEqual(writes, [], 'nothing written before the turn ends');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(writes, [['U100=al@example.com', 'U400=bo@example.com']]);
  assert.deepEqual(forgotten, ['U500']);
});
