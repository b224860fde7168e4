/**
 * The path every Slack request takes through the bot's HTTP server, run before the bot says it
 * is ready, so the first burst after a restart does not pay for code V8 has not compiled yet.
 *
 * Right after a start the server runs its request path in V8's interpreter: accepting a
 * connection, node:http's parser, reading the body, the signature's HMAC, the form and JSON
 * parsing, the answer and the close, and on the client side the HTTP agent the bot calls Slack,
 * Jira and the IdP with. The bench measured a burst of 200 requests on new connections right
 * after `/healthz` answered at 0.2-0.3 ms of the event loop's CPU more per answer than the same
 * burst a moment later, V8's compiler threads busy on the other core meanwhile (bench/README.md,
 * "after a restart").
 *
 * So start-up sends signed `ssl_check` requests, as Slack sends them when it checks an endpoint,
 * to a server of its own on 127.0.0.1 built by the same `slackRequestListener` (with an empty
 * router), over a new connection each, from the same node:http client code. `ssl_check` is
 * answered before any listener runs: nothing is read from or written to the database, nothing
 * is sent to a service, nothing is logged, and the bot's own server (and its count of requests
 * Slack is waiting on) never sees them. A failure only costs the warm-up: it is logged and
 * start-up goes on.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { applyLimits, DEFAULT_LIMITS, serverOptions } from '../httpServer.js';
import { SLACK_EVENTS_PATH, SlackRouter, slackRequestListener } from './inbound.js';

/**
 * Requests sent at start-up: about 60 ms of it on the bench's machine. The bench measured 50
 * (0.66 / 0.80 / 0.86 ms of CPU per command / submission / click in the first burst, against
 * 0.76 / 0.93 / 0.99 without a warm-up); 200 took 0.2 s and gained little more (0.62 / 0.79 / 0.81).
 */
export const WARM_UP_REQUESTS = 50;

/** A request may take this long before the warm-up gives up on it (ms). */
const REQUEST_TIMEOUT_MS = 2000;

/**
 * Bodies of the shapes Slack sends, each with `ssl_check` so the listener answers before routing:
 * a slash command (form fields) and an interaction (a form field `payload` holding JSON).
 */
function bodies(): string[] {
  const command = new URLSearchParams({
    ssl_check: '1',
    token: 'warm-up',
    team_id: 'T0WARMUP',
    team_domain: 'warm-up',
    channel_id: 'D0WARMUP',
    channel_name: 'directmessage',
    user_id: 'U0WARMUP',
    user_name: 'warm.up',
    command: '/access',
    text: '',
    api_app_id: 'A0WARMUP',
    is_enterprise_install: 'false',
    response_url: 'https://hooks.slack.com/commands/T0WARMUP/1/warmup',
    trigger_id: '1.2.warmup',
  }).toString();
  const blocks = Array.from({ length: 12 }, (_, i) => ({ type: 'section', block_id: `b${i}`, text: { type: 'mrkdwn', text: `Warm-up block ${i}: *bold*, _italic_ and a <https://example.invalid|link>` } }));
  const interaction = new URLSearchParams({
    payload: JSON.stringify({
      ssl_check: '1',
      type: 'block_actions',
      user: { id: 'U0WARMUP', username: 'warm.up', name: 'warm.up', team_id: 'T0WARMUP' },
      api_app_id: 'A0WARMUP',
      container: { type: 'message', message_ts: '1.000001', channel_id: 'D0WARMUP', is_ephemeral: false },
      trigger_id: '1.2.warmup',
      team: { id: 'T0WARMUP', domain: 'warm-up' },
      channel: { id: 'D0WARMUP', name: 'directmessage' },
      message: { type: 'message', text: 'Warm-up', ts: '1.000001', blocks },
      view: { id: 'V0WARMUP', callback_id: 'warm_up', blocks, state: { values: {} } },
      actions: [{ action_id: 'warm_up', block_id: 'b0', type: 'button', value: 'req_warmup', action_ts: '1.000002' }],
    }),
  }).toString();
  return [command, interaction];
}

function post(port: number, secret: string, body: string, agent: Agent): Promise<void> {
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: SLACK_EVENTS_PATH,
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
          'x-slack-request-timestamp': ts,
          'x-slack-signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`answered ${res.statusCode}`))));
        res.once('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end(body);
  });
}

/** Runs the inbound path `requests` times (see above); resolves when done or given up. */
export async function warmUpInbound(opts: { logger: Logger; requests?: number }): Promise<void> {
  const secret = randomBytes(32).toString('hex');
  const server = createServer(serverOptions(DEFAULT_LIMITS), slackRequestListener({ signingSecret: secret, router: new SlackRouter(), routes: [], logger: opts.logger }));
  applyLimits(server, DEFAULT_LIMITS);
  const agent = new Agent({ keepAlive: false });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const shapes = bodies();
    const n = opts.requests ?? WARM_UP_REQUESTS;
    for (let i = 0; i < n; i++) await post(port, secret, shapes[i % shapes.length]!, agent);
  } catch (err) {
    opts.logger.warn({ err: (err as Error).message }, 'warming up the Slack request path failed; starting without it');
  } finally {
    agent.destroy();
    server.closeAllConnections();
    server.close();
  }
}
