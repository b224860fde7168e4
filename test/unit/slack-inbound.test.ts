/**
 * The HTTP transport for Slack (src/adapters/slack/inbound.ts): signature checks as Slack
 * documents them, body parsing, routing to the one listener, and answering exactly once.
 * The integration suites (hostile, fuzz) drive it through the composed app as well.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Admission, parseSlackBody, SlackDemand, SlackRouter, slackRequestListener, verifySlackSignature } from '../../src/adapters/slack/inbound.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const silent = pino({ level: 'silent' });

function sign(body: string, ts = Math.floor(Date.now() / 1000), secret = SECRET): Record<string, string> {
  const sig = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${sig}` };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const interaction = (payload: unknown) => form({ payload: JSON.stringify(payload) });

async function serve(t: TestContext, router: SlackRouter) {
  const server = createServer(
    slackRequestListener({
      signingSecret: SECRET,
      router,
      logger: silent,
      routes: [{ method: 'GET', path: '/healthz', handler: (_q, r) => r.end('ok') }],
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (body: string, headers: Record<string, string> = sign(body), type = 'application/x-www-form-urlencoded') => {
    const res = await fetch(`${url}/slack/events`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  return { url, post };
}

test('signatures: Slack\'s documented example verifies; a tampered body, another secret, a stale or future timestamp do not', () => {
  // The worked example in https://api.slack.com/authentication/verifying-requests-from-slack
  const body = Buffer.from(
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  );
  const ts = '1531420618';
  const sig = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const at = 1531420618 * 1000;
  assert.equal(verifySlackSignature(SECRET, body, ts, sig, at), true);
  assert.equal(verifySlackSignature(SECRET, Buffer.concat([body, Buffer.from('x')]), ts, sig, at), false);
  assert.equal(verifySlackSignature('another-secret', body, ts, sig, at), false);
  assert.equal(verifySlackSignature(SECRET, body, ts, sig, at + 301_000), false, 'more than five minutes old');
  assert.equal(verifySlackSignature(SECRET, body, ts, sig, at - 301_000), false, 'more than five minutes ahead');
  assert.equal(verifySlackSignature(SECRET, body, '', sig, at), false);
  assert.equal(verifySlackSignature(SECRET, body, ts, '', at), false);
  assert.equal(verifySlackSignature(SECRET, body, '1531420618.5', sig, at), false);
});

test('bodies: form fields, a JSON payload field, JSON; anything else where an object belongs is refused', () => {
  assert.deepEqual(parseSlackBody('command=%2Faccess&text=&user_id=U1', 'application/x-www-form-urlencoded'), { command: '/access', text: '', user_id: 'U1' });
  assert.deepEqual(parseSlackBody(interaction({ type: 'block_actions' }), 'application/x-www-form-urlencoded; charset=utf-8'), { type: 'block_actions' });
  assert.deepEqual(parseSlackBody('{"type":"event_callback"}', 'application/json'), { type: 'event_callback' });
  // The one-field fast path decodes as the form parser does: `+` and %20 are spaces, UTF-8 escapes, a literal `+` as %2B.
  const text = 'Déjà vu + 100% — "ok" & done';
  assert.deepEqual(parseSlackBody(`payload=${encodeURIComponent(JSON.stringify({ text })).replace(/%20/g, '+')}`, 'application/x-www-form-urlencoded'), { text });
  // An escape that is not UTF-8 is left to the form parser (which keeps going), not refused.
  assert.deepEqual(parseSlackBody('payload=%7B%22a%22%3A%22%FF%22%7D', 'application/x-www-form-urlencoded'), { a: '\ufffd' });
  for (const [raw, type] of [
    [form({ payload: 'null' }), 'application/x-www-form-urlencoded'],
    [form({ payload: '[1]' }), 'application/x-www-form-urlencoded'],
    [form({ payload: '{"a":' }), 'application/x-www-form-urlencoded'],
    [`payload=${encodeURIComponent('{}')}&payload=${encodeURIComponent('{}')}`, 'application/x-www-form-urlencoded'],
    ['7', 'application/json'],
    ['payload=%7B%7D', 'text/plain'],
  ] as const) {
    assert.equal(parseSlackBody(raw, type), undefined, `${type}: ${raw}`);
  }
});

test('requests reach the one listener for them and are answered once', async (t) => {
  const router = new SlackRouter();
  const seen: string[] = [];
  router.command('/access', async ({ ack, body }) => {
    seen.push(`command ${body.user_id}`);
    await ack();
    await ack({ text: 'a second ack is ignored' });
  });
  router.action('approve', async ({ ack, body }) => {
    seen.push(`approve ${body.user.id}`);
    await ack();
  });
  router.view('access_request', async ({ ack, view }) => {
    seen.push(`view ${view.id}`);
    await ack({ response_action: 'errors', errors: { reason: 'Say why' } });
  });
  router.options('application', async ({ ack }) => ack({ options: [] }));
  router.action('throws', async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'id')");
  });
  router.action('forgets', async () => undefined);
  const { url, post } = await serve(t, router);

  assert.deepEqual(await post(form({ command: '/access', user_id: 'U1', text: '' })), { status: 200, type: null, text: '' });
  assert.equal((await post(interaction({ type: 'block_actions', user: { id: 'U2' }, actions: [{ action_id: 'approve' }] }))).status, 200);
  const v = await post(interaction({ type: 'view_submission', user: { id: 'U3' }, view: { id: 'V1', callback_id: 'access_request' } }));
  assert.deepEqual([v.status, v.type, JSON.parse(v.text)], [200, 'application/json', { response_action: 'errors', errors: { reason: 'Say why' } }]);
  assert.deepEqual(JSON.parse((await post(interaction({ type: 'block_suggestion', action_id: 'application', value: 'ok' }))).text), { options: [] });
  assert.deepEqual(seen, ['command U1', 'approve U2', 'view V1']);

  // Nothing handles it: acknowledged at once, nothing runs.
  for (const p of [
    interaction({ type: 'block_actions', actions: [{ action_id: 'unknown' }] }),
    interaction({ type: 'block_actions', actions: [] }),
    interaction({ type: 'view_closed', view: { callback_id: 'access_request' } }),
    form({ command: '/other' }),
  ]) {
    assert.deepEqual(await post(p), { status: 200, type: null, text: '' }, p);
  }
  assert.deepEqual(await post('{"type":"event_callback","event":{"type":"app_mention"}}', undefined, 'application/json'), { status: 200, type: null, text: '' });
  assert.equal(seen.length, 3);

  // A listener that throws before acking: 400, never a 5xx; one that forgets to ack: 200.
  assert.equal((await post(interaction({ type: 'block_actions', actions: [{ action_id: 'throws' }] }))).status, 400);
  assert.equal((await post(interaction({ type: 'block_actions', actions: [{ action_id: 'forgets' }] }))).status, 200);

  // Slack's own checks.
  assert.deepEqual(await post(form({ ssl_check: '1', token: 'x' })), { status: 200, type: null, text: '' });
  const challenge = await post('{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}', undefined, 'application/json');
  assert.deepEqual(JSON.parse(challenge.text), { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });

  // Refused before anything runs.
  const cmd = form({ command: '/access', user_id: 'U9' });
  assert.equal((await post(cmd, {})).status, 401, 'unsigned');
  assert.equal((await post(cmd, sign(cmd, Math.floor(Date.now() / 1000) - 400))).status, 401, 'stale');
  assert.equal((await post(cmd, sign(cmd, undefined, 'not-the-secret'))).status, 401, 'another secret');
  assert.equal((await post(form({ payload: 'null' }))).status, 400);
  assert.equal((await post('x'.repeat(1024 * 1024 + 1))).status, 413);
  assert.equal(seen.length, 3);

  // Other paths.
  assert.equal((await fetch(`${url}/slack/events`)).status, 405);
  assert.equal(await (await fetch(`${url}/healthz`)).text(), 'ok');
  assert.equal((await fetch(`${url}/nope`)).status, 404);
});

/** Lets the event loop go round once: each await lets exactly one Admission turn run. */
const turn = () => new Promise<void>((r) => setImmediate(r));

/** An Admission that has seen `known` and is back to handling requests at once. */
async function settled(known: object, done: string[]): Promise<Admission> {
  const a = new Admission();
  a.run(known, () => done.push('first'));
  assert.equal(done.length, 0, 'a request on a connection not seen before waits for the next turn');
  await turn();
  a.run(known, () => done.push('second'));
  await turn();
  assert.deepEqual(done, ['first', 'second']);
  done.length = 0;
  return a;
}

test('admission: requests on known connections are handled at once when nothing is queued', async () => {
  const done: string[] = [];
  const known = {};
  const a = await settled(known, done);
  a.run(known, () => done.push('a'));
  a.run(known, () => done.push('b'));
  assert.deepEqual(done, ['a', 'b']);
  assert.equal(a.pending(), 0);
});

test('admission: while new connections arrive, one request per turn in arrival order; then the rest in one turn', async () => {
  const done: string[] = [];
  const known = {};
  const a = await settled(known, done);
  const [n1, n2, n3] = [{}, {}, {}];
  a.run(known, () => done.push('k1'));
  a.run(n1, () => done.push('n1'));
  a.run(known, () => done.push('k2'));
  a.run(known, () => done.push('k3'));
  assert.deepEqual(done, ['k1'], 'behind a new connection, known ones queue too');
  await turn();
  assert.deepEqual(done, ['k1', 'n1']);
  a.run(n2, () => done.push('n2'));
  await turn();
  assert.deepEqual(done, ['k1', 'n1', 'k2']);
  a.run(n3, () => done.push('n3'));
  await turn();
  assert.deepEqual(done, ['k1', 'n1', 'k2', 'k3']);
  // A turn with no new connection: everything left, in order.
  await turn();
  assert.deepEqual(done, ['k1', 'n1', 'k2', 'k3', 'n2', 'n3']);
  assert.equal(a.pending(), 0);
  a.run(known, () => done.push('k4'));
  assert.equal(done.at(-1), 'k4', 'handled at once again');
});

/** A SlackDemand on a clock the test moves; `eased` counts its wake-ups of the dispatcher. */
function demandAt(opts: { windowMs?: number; maxHoldMs?: number } = {}) {
  const clock = { t: 1_000 };
  const counts = { eased: 0 };
  const d = new SlackDemand({ windowMs: 50, maxHoldMs: 500, ...opts, clock: () => clock.t, onEased: () => (counts.eased += 1) });
  /** A signed request arrives at `t` and is answered at once. */
  const request = (t: number, onNewConnection: boolean) => {
    clock.t = t;
    d.enter(onNewConnection);
    d.leave();
  };
  return { d, clock, counts, request };
}

test('slack demand: a burst of signed requests on new connections counts as Slack waiting between its requests', (t) => {
  const { d, clock, counts, request } = demandAt();
  t.after(() => d.stop());
  // One request on a new connection, and requests on a kept connection: only while handled.
  clock.t = 1_000;
  d.enter(true);
  assert.equal(d.waiting(), true);
  assert.equal(d.holding(), false, 'one request is no burst');
  d.leave();
  assert.deepEqual([d.waiting(), counts.eased], [false, 1], 'answered: the dispatcher is woken at once, as before');
  request(1_010, false);
  request(1_020, false);
  assert.deepEqual([d.waiting(), d.holding(), counts.eased], [false, false, 3]);

  // Two on new connections within the window: a burst, held while more may wait to be accepted.
  request(2_000, true);
  request(2_030, true);
  assert.equal(d.inFlight, 0, 'none is being handled');
  assert.deepEqual([d.waiting(), d.holding()], [true, true], 'between two requests of the burst');
  assert.equal(counts.eased, 4, 'answering the last one does not wake the dispatcher while the burst goes on');
  request(2_070, true);
  clock.t = 2_119;
  assert.deepEqual([d.waiting(), d.holding()], [true, true], 'each request extends the burst by the window');
  clock.t = 2_120;
  assert.deepEqual([d.waiting(), d.holding()], [false, false], 'a window with no new one ends it');
});

test('slack demand: a burst holds the outbox for at most maxHoldMs, and a hold starts at most once every 2 × maxHoldMs', (t) => {
  const { d, clock, request } = demandAt();
  t.after(() => d.stop());
  for (let at = 10_000; at <= 10_800; at += 20) request(at, true);
  clock.t = 10_519;
  assert.equal(d.holding(), true, 'held from the second request (10,020) for 500 ms');
  clock.t = 10_520;
  assert.deepEqual([d.waiting(), d.holding()], [true, false], 'then the burst is an ordinary wait');
  // A new burst soon after: Slack still waits, but no new hold before 10,020 + 1,000.
  request(10_900, true);
  request(10_910, true);
  assert.deepEqual([d.waiting(), d.holding()], [true, false]);
  request(11_100, true);
  request(11_110, true);
  assert.deepEqual([d.waiting(), d.holding()], [true, true], 'a burst after 2 × maxHoldMs is held again');
});

/**
 * A SlackDemand with windows of 20 / 40 ms that has just seen a burst (`requests` signed ones on
 * new connections, answered at once), and a promise of the dispatcher being woken once the burst
 * is over. Its timer does not hold the process open (unref); the 5 s deadline here does.
 */
function burstThenEased(t: TestContext, requests: number, clock?: () => number) {
  let wake: () => void = () => undefined;
  const d = new SlackDemand({ windowMs: 20, maxHoldMs: 40, clock, onEased: () => wake() });
  t.after(() => d.stop());
  for (let i = 0; i < requests; i++) {
    d.enter(true);
    d.leave();
  }
  const eased = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error('not woken within 5 s of the burst')), 5000);
    wake = () => {
      if (d.waiting()) return;
      clearTimeout(deadline);
      resolve();
    };
  });
  return { d, eased };
}

test('slack demand: the dispatcher is woken when a burst ends', async (t) => {
  const { d, eased } = burstThenEased(t, 3);
  assert.equal(d.waiting(), true);
  await eased;
  assert.deepEqual([d.waiting(), d.holding()], [false, false]);
});

test('slack demand: the dispatcher is woken when a burst ends, however late the process runs (a loaded machine)', async (t) => {
  // Every read of this clock is 4 ms later, as if the process were descheduled between any two
  // lines: the timer then fires while the burst is still held, and by the time it is set again
  // the burst is already over.
  const clock = { t: 0 };
  await burstThenEased(t, 2, () => (clock.t += 4)).eased;
});

test('slack demand: work after an ack waits for a burst\'s hold to end, in order, and runs at once without one', async (t) => {
  const quiet = new SlackDemand({ onEased: () => undefined });
  t.after(() => quiet.stop());
  const ran: string[] = [];
  quiet.afterHold(() => ran.push('no burst'));
  assert.deepEqual(ran, ['no burst'], 'nothing held: run at once');

  const { d, eased } = burstThenEased(t, 3);
  assert.equal(d.holding(), true);
  d.afterHold(() => ran.push('first'));
  d.afterHold(() => ran.push('second'));
  assert.deepEqual(ran, ['no burst'], 'held while the burst is');
  await eased;
  assert.deepEqual(ran, ['no burst', 'first', 'second'], 'run when the hold ends, before the dispatcher is woken');
});

test('slack demand: only signed requests count, each connection is new once', async (t) => {
  const clock = { t: 5_000 };
  const demand = new SlackDemand({ clock: () => clock.t, onEased: () => undefined });
  t.after(() => demand.stop());
  const server = createServer(slackRequestListener({ signingSecret: SECRET, router: new SlackRouter(), logger: silent, routes: [], load: demand }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const { port } = server.address() as AddressInfo;
  const body = form({ ssl_check: '1', token: 'x' });
  const post = (headers: Record<string, string>, agent: Agent | false) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/slack/events', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  // The clock stands still: every request below falls within one window.
  for (let i = 0; i < 5; i++) assert.equal(await post({}, false), 401);
  assert.deepEqual([demand.waiting(), demand.holding()], [false, false], 'unsigned requests on new connections make no burst');
  const kept = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => kept.destroy());
  for (let i = 0; i < 3; i++) assert.equal(await post(sign(body), kept), 200);
  assert.deepEqual([demand.waiting(), demand.holding()], [false, false], 'signed requests on one kept connection make no burst');
  assert.equal(await post(sign(body), false), 200);
  assert.deepEqual([demand.waiting(), demand.holding()], [true, true], 'a second connection carrying a signed request within the window does');
});
