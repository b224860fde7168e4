/**
 * Slack's HTTP requests, answered without a framework.
 *
 * Slack waits 3 seconds for the answer to a slash command, a button or a modal submission, and
 * the bench (bench/README.md) measured what a framework costs on that path: Bolt with listeners
 * that only ack sustained 2,100-3,100 acks a second on this 2-core machine, p99 ≈ 300 ms with 200
 * requests in flight, while node:http checking the signature sustained 5,000-7,000. So HTTP mode
 * does what Bolt's HTTPReceiver did for us, and only that:
 *   - the body is buffered (at most 1 MB, else 413);
 *   - the signature is checked as Slack documents it (HMAC-SHA256 of `v0:<timestamp>:<body>`
 *     with the signing secret, compared in constant time; a timestamp more than five minutes
 *     off is refused): 401, nothing else happens;
 *     https://api.slack.com/authentication/verifying-requests-from-slack
 *   - the body is parsed as Slack sends it: form fields for slash commands, a form field
 *     `payload` holding JSON for interactions, JSON for the Events API. Anything that is not a
 *     JSON object where one is expected is a 400, never a 5xx;
 *   - `ssl_check` and `url_verification` are answered as Slack expects;
 *   - the request goes to the one listener registered for its command, action id, view callback
 *     id, options action id or (an Events API `event_callback`) event type, with an `ack` that
 *     answers Slack exactly once. A request no
 *     listener handles is acknowledged at once (Slack shows no error) and changes nothing; a
 *     listener that throws before acking answers 400.
 * The same listeners run under Bolt in Socket Mode (`boltRegistry`), so there is one set of
 * listeners and two transports.
 */
import type { App, BlockAction, BlockSuggestion, SlackViewAction, SlashCommand, ViewOutput } from '@slack/bolt';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { BodyGate, DEFAULT_LIMITS, readBody } from '../httpServer.js';

export const SLACK_EVENTS_PATH = '/slack/events';
/** Slack's payloads are far smaller; a view with 100 blocks is tens of kilobytes. */
const MAX_BODY = 1024 * 1024;
/** Slack: "verify that the request timestamp is within five minutes of the current time". */
const MAX_SKEW_S = 5 * 60;

/** Answers Slack: no argument is an empty 200; an object is sent as JSON. */
export type Ack = (response?: Record<string, unknown>) => Promise<void>;

export interface SlackListenerRegistry {
  command(name: string, fn: (a: { ack: Ack; body: SlashCommand }) => Promise<void>): void;
  action(actionId: string, fn: (a: { ack: Ack; body: BlockAction }) => Promise<void>): void;
  view(callbackId: string, fn: (a: { ack: Ack; body: SlackViewAction; view: ViewOutput }) => Promise<void>): void;
  options(actionId: string, fn: (a: { ack: Ack; body: BlockSuggestion }) => Promise<void>): void;
  /** An Events API event by its type; `body` is the whole `event_callback` envelope (event_id, event). */
  event(type: string, fn: (a: { ack: Ack; body: Record<string, unknown> }) => Promise<void>): void;
}

type Listener = (ack: Ack, body: Record<string, unknown>) => Promise<void>;

/** The HTTP transport's registry: listeners by kind and id. */
export class SlackRouter implements SlackListenerRegistry {
  private readonly commands = new Map<string, Listener>();
  private readonly actions = new Map<string, Listener>();
  private readonly views = new Map<string, Listener>();
  private readonly optionLists = new Map<string, Listener>();
  private readonly events = new Map<string, Listener>();

  command(name: string, fn: (a: { ack: Ack; body: SlashCommand }) => Promise<void>): void {
    this.commands.set(name, (ack, body) => fn({ ack, body: body as unknown as SlashCommand }));
  }
  action(actionId: string, fn: (a: { ack: Ack; body: BlockAction }) => Promise<void>): void {
    this.actions.set(actionId, (ack, body) => fn({ ack, body: body as unknown as BlockAction }));
  }
  view(callbackId: string, fn: (a: { ack: Ack; body: SlackViewAction; view: ViewOutput }) => Promise<void>): void {
    this.views.set(callbackId, (ack, body) => fn({ ack, body: body as unknown as SlackViewAction, view: body['view'] as ViewOutput }));
  }
  options(actionId: string, fn: (a: { ack: Ack; body: BlockSuggestion }) => Promise<void>): void {
    this.optionLists.set(actionId, (ack, body) => fn({ ack, body: body as unknown as BlockSuggestion }));
  }
  event(type: string, fn: (a: { ack: Ack; body: Record<string, unknown> }) => Promise<void>): void {
    this.events.set(type, (ack, body) => fn({ ack, body }));
  }

  /** The listener for a parsed payload, if one is registered. */
  route(body: Record<string, unknown>): Listener | undefined {
    if (typeof body['command'] === 'string') return this.commands.get(body['command']);
    switch (body['type']) {
      case 'block_actions': {
        const actions = body['actions'];
        const first: unknown = Array.isArray(actions) ? actions[0] : undefined;
        const id = isObject(first) ? first['action_id'] : undefined;
        return typeof id === 'string' ? this.actions.get(id) : undefined;
      }
      case 'view_submission': {
        const view = body['view'];
        const id = isObject(view) ? view['callback_id'] : undefined;
        return typeof id === 'string' ? this.views.get(id) : undefined;
      }
      case 'block_suggestion':
        return typeof body['action_id'] === 'string' ? this.optionLists.get(body['action_id']) : undefined;
      case 'event_callback': {
        const event = body['event'];
        const type = isObject(event) ? event['type'] : undefined;
        return typeof type === 'string' ? this.events.get(type) : undefined;
      }
      default:
        return undefined;
    }
  }
}

/** The same listeners, registered on Bolt (Socket Mode). */
export function boltRegistry(app: App): SlackListenerRegistry {
  return {
    command: (name, fn) => app.command(name, ({ ack, body }) => fn({ ack: (r) => ack(r as never), body })),
    action: (actionId, fn) => app.action<BlockAction>({ action_id: actionId }, ({ ack, body }) => fn({ ack: () => ack(), body })),
    view: (callbackId, fn) => app.view<SlackViewAction>(callbackId, ({ ack, body, view }) => fn({ ack: (r) => ack(r as never), body, view })),
    options: (actionId, fn) => app.options(actionId, ({ ack, body }) => fn({ ack: (r) => ack(r as never), body: body as BlockSuggestion })),
    // Bolt acknowledges events itself.
    event: (type, fn) => app.event(type, ({ body }) => fn({ ack: () => Promise.resolve(), body: body as unknown as Record<string, unknown> })),
  };
}

export interface HttpRoute {
  method: string;
  path: string;
  handler: RequestListener;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** Slack's request signature, checked as Slack documents it. */
export function verifySlackSignature(signingSecret: string, raw: Buffer, timestamp: string, signature: string, nowMs = Date.now()): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_SKEW_S) return false;
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(raw);
  const want = Buffer.from(`v0=${hmac.digest('hex')}`);
  const got = Buffer.from(signature);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The payload as Slack encodes it, or undefined when it is not a JSON object where one belongs. */
export function parseSlackBody(raw: string, contentType: string): Record<string, unknown> | undefined {
  try {
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      // What Slack sends for interactions: one `payload` field. Decoded directly (a fifth of the
      // cost of a form parse of a modal's few kilobytes); anything else goes through the parser.
      if (raw.startsWith('payload=') && !raw.includes('&')) {
        const payload = decodeFormValue(raw.slice('payload='.length));
        if (payload !== undefined) {
          const value: unknown = JSON.parse(payload);
          return isObject(value) ? value : undefined;
        }
      }
      const form = parseQuery(raw);
      if (form['payload'] === undefined) {
        // Slash commands and ssl_check: plain fields; a repeated field is not something Slack sends.
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(form)) out[k] = Array.isArray(v) ? v[0] : v;
        return out;
      }
      const payload = form['payload'];
      if (typeof payload !== 'string') return undefined;
      const value: unknown = JSON.parse(payload);
      return isObject(value) ? value : undefined;
    }
    const value: unknown = JSON.parse(raw);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A form value's text (`+` is a space); undefined when its %-escapes are not valid UTF-8 (the form parser then decides). */
function decodeFormValue(v: string): string | undefined {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export function slackRequestListener(opts: {
  signingSecret: string;
  router: SlackRouter;
  routes: HttpRoute[];
  logger: Logger;
  now?: () => number;
  /**
   * Told when a signed Slack request is being handled (and whether it is the first on its
   * connection) and when it has been answered or abandoned.
   */
  load?: { enter(onNewConnection: boolean): void; leave(): void };
  /** Requests (any path) whose body is being read at most; more get 503. */
  maxBodiesInFlight?: number;
}): RequestListener {
  const { router, logger } = opts;
  const now = opts.now ?? Date.now;
  const admission = new Admission();
  /** Connections that have carried a signed request. */
  const signedOn = new WeakSet<object>();
  const gate = new BodyGate(opts.maxBodiesInFlight ?? DEFAULT_LIMITS.maxBodiesInFlight);
  const routes = new Map(opts.routes.map((r) => [`${r.method} ${r.path}`, r.handler]));

  const answer = (res: ServerResponse, status: number, body?: Record<string, unknown>) => {
    if (res.headersSent) return;
    if (body === undefined) {
      res.writeHead(status, { 'content-length': '0' });
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    if (!verifySlackSignature(opts.signingSecret, raw, header(req, 'x-slack-request-timestamp'), header(req, 'x-slack-signature'), now())) {
      logger.warn({ path: SLACK_EVENTS_PATH }, 'refused a Slack request with a bad, stale or missing signature');
      answer(res, 401);
      return;
    }
    // Only a request Slack signed counts as Slack waiting (the outbox slows down for it).
    if (opts.load) {
      const load = opts.load;
      load.enter(!signedOn.has(req.socket));
      signedOn.add(req.socket);
      res.once('close', () => load.leave());
    }
    const body = parseSlackBody(raw.toString('utf8'), header(req, 'content-type'));
    if (!body) {
      answer(res, 400);
      return;
    }
    if (body['ssl_check'] !== undefined) {
      answer(res, 200);
      return;
    }
    if (body['type'] === 'url_verification') {
      answer(res, 200, { challenge: typeof body['challenge'] === 'string' ? body['challenge'] : '' });
      return;
    }
    const listener = router.route(body);
    if (!listener) {
      logger.info('acknowledged a Slack request no listener handles');
      answer(res, 200);
      return;
    }
    let acked = false;
    const ack: Ack = async (response) => {
      if (acked) return;
      acked = true;
      answer(res, 200, response);
    };
    try {
      await listener(ack, body);
      if (!acked) {
        logger.error('a Slack listener returned without acknowledging; acknowledged for it');
        await ack();
      }
    } catch (err) {
      if (!acked) {
        // Thrown before the ack: the payload lacked what the listener needs. Bad input, not a 5xx.
        logger.warn({ err: (err as Error).message }, 'rejected a Slack request the listener could not process');
        acked = true;
        answer(res, 400);
      } else {
        logger.error({ err: (err as Error).message }, 'slack listener failed after acknowledging');
      }
    }
  };

  return (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'POST' && !gate.admit(req)) {
      logger.warn({ path, inFlight: gate.inFlight }, 'refused a request: too many bodies being read at once');
      res.setHeader('connection', 'close');
      answer(res, 503);
      return;
    }
    if (path !== SLACK_EVENTS_PATH) {
      const route = routes.get(`${req.method ?? 'GET'} ${path}`);
      if (!route) return answer(res, 404);
      // A route's handler may be async: its failure is answered, never an unhandled rejection.
      void Promise.resolve()
        .then(() => route(req, res))
        .catch((err: Error) => {
          logger.error({ err: err.message, path }, 'answering a request failed');
          if (!res.headersSent) answer(res, 500);
          else res.destroy();
        });
      return;
    }
    if (req.method !== 'POST') {
      answer(res, 405);
      return;
    }
    void readBody(req, MAX_BODY).then((raw) => {
      if (raw === 'aborted') return void res.destroy();
      if (raw === 'too large') {
        res.setHeader('connection', 'close');
        answer(res, 413);
        return;
      }
      admission.run(req.socket, () => {
        void handle(req, res, raw).catch((err: Error) => {
          logger.error({ err: err.message }, 'answering a Slack request failed');
          answer(res, 500);
        });
      });
    });
  };
}

/**
 * The order Slack requests are handled in while new connections are arriving.
 *
 * Since libuv 1.45 (Node 20) a listening socket accepts one new connection per turn of the event
 * loop (https://github.com/libuv/libuv/pull/3696; its cost under load is discussed in
 * https://github.com/nodejs/performance/issues/95), while a turn handles every request already
 * read. Under load a turn answers every busy keep-alive connection, so connections opened in a
 * burst wait to be accepted: in the bench, with 50 connections busy and 150 opened at once, the
 * new ones got their first answer after 280-675 ms while the others were answered in 13-31 ms.
 *
 * So once a request arrives on a connection not seen before (a sign that more are waiting to be
 * accepted), requests are queued and handled one per turn, in arrival order: the loop comes back
 * to accept the next connection after each one. When a turn brings no new connection, the queue
 * is handled in one go and requests are handled as they arrive again, as before: handling one
 * request per turn all the time also let the background effects run between every two requests,
 * and submissions fell from ~1,800 to ~1,000 acks a second in the bench.
 */
export class Admission {
  private queue: (() => void)[] = [];
  private next = 0;
  private scheduled = false;
  /** A request came on a connection not seen before since the last queued turn. */
  private arriving = false;
  /** Requests are queued: set by a new connection, cleared by a turn that saw none. */
  private queueing = false;
  private readonly seen = new WeakSet<object>();

  /** Runs `job` (the handling of a request that came on `connection`) now or in a later turn. */
  run(connection: object, job: () => void): void {
    if (!this.seen.has(connection)) {
      this.seen.add(connection);
      this.arriving = true;
      this.queueing = true;
    }
    if (!this.queueing && this.pending() === 0) {
      job();
      return;
    }
    this.queue.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.turn);
    }
  }

  /** Requests queued and not yet handled. */
  pending(): number {
    return this.queue.length - this.next;
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    let n = this.arriving ? 1 : this.pending();
    if (!this.arriving) this.queueing = false;
    this.arriving = false;
    const jobs: (() => void)[] = [];
    while (n-- > 0 && this.pending() > 0) jobs.push(this.queue[this.next++]!);
    if (this.pending() === 0 || this.next >= 1024) {
      // Drop the handled jobs (and the requests they hold).
      this.queue = this.queue.slice(this.next);
      this.next = 0;
    }
    if (this.pending() > 0) {
      this.scheduled = true;
      setImmediate(this.turn);
    }
    for (const job of jobs) job();
  };
}

/**
 * Whether Slack is waiting on the bot, for the outbox (the dispatcher's `foreground` and `held`).
 *
 * Waiting: a signed request is being handled. Over keep-alive connections that covers a burst,
 * since its requests are read together; over new connections it does not: libuv accepts one
 * connection per turn (see `Admission`) and each request is answered within the turn that read
 * it, so between two requests of a burst none is being handled while the rest wait to be
 * accepted, and the outbox ran at full concurrency through the burst. In the bench, 200 requests
 * at 50 in flight on new connections right after a restart: p99 250-670 ms, the event loop busy
 * with effects between every two accepts (bench/README.md). So a burst on new connections
 * counts too: two signed requests that each came on a new connection within `windowMs` of each
 * other start one, and each further one extends it by `windowMs`.
 *
 * Held: for the first `maxHoldMs` of such a burst no effect starts (those running go on); after
 * that the burst is an ordinary wait, at the dispatcher's reduced concurrency. So a burst of
 * Slack requests delays a due revocation by at most `maxHoldMs`, and a hold starts at most once
 * every 2 × `maxHoldMs`, so no pattern of bursts holds effects more than half the time. Only
 * signed requests count (`enter` is called after the signature check): nobody without Slack's
 * signing secret can slow the outbox down.
 *
 * `onEased` is called whenever the outbox may start more than before (it wakes the dispatcher).
 */
export class SlackDemand {
  private handling = 0;
  private lastFreshAt = Number.NEGATIVE_INFINITY;
  private burstUntil = Number.NEGATIVE_INFINITY;
  private holdFrom = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (the next moment the demand may ease). */
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly windowMs: number;
  private readonly maxHoldMs: number;
  private readonly clock: () => number;
  /** Work after an ack, waiting for the hold to end (`afterHold`). */
  private deferred: (() => void)[] = [];

  constructor(private readonly opts: { onEased: () => void; windowMs?: number; maxHoldMs?: number; clock?: () => number }) {
    this.windowMs = opts.windowMs ?? 50;
    this.maxHoldMs = opts.maxHoldMs ?? 500;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Signed requests being handled now. */
  get inFlight(): number {
    return this.handling;
  }

  enter(onNewConnection: boolean): void {
    this.handling += 1;
    if (!onNewConnection) return;
    const t = this.clock();
    if (t - this.lastFreshAt < this.windowMs) {
      if (t >= this.burstUntil && t >= this.holdFrom + 2 * this.maxHoldMs) this.holdFrom = t;
      this.burstUntil = t + this.windowMs;
      this.arm(this.nextEdge(t));
    }
    this.lastFreshAt = t;
  }

  leave(): void {
    this.handling -= 1;
    if (this.handling === 0 && this.clock() >= this.burstUntil) this.opts.onEased();
  }

  /** Slack is waiting: a signed request is being handled, or a burst on new connections is arriving. */
  waiting(): boolean {
    return this.handling > 0 || this.clock() < this.burstUntil;
  }

  /** No effect may start now (the first `maxHoldMs` of a burst). */
  holding(): boolean {
    const t = this.clock();
    return t < this.burstUntil && t < this.holdFrom + this.maxHoldMs;
  }

  /**
   * Runs `fn` now, or when the hold ends if one is on: the work a request does after its ack
   * (users.info, then views.open for `/access`) waits, like the outbox, so that the rest of the
   * burst is acked first. Bounded like every hold: at most `maxHoldMs`.
   */
  afterHold(fn: () => void): void {
    if (!this.holding()) return fn();
    this.deferred.push(fn);
  }

  stop(): void {
    this.deferred = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** The next moment after `t` the demand eases: the end of the hold, else of the burst. */
  private nextEdge(t: number): number {
    const holdEnd = this.holdFrom + this.maxHoldMs;
    return holdEnd > t ? Math.min(holdEnd, this.burstUntil) : this.burstUntil;
  }

  /** A wake-up at `at` (or sooner, if one is set for sooner); at once if `at` has passed already. */
  private arm(at: number): void {
    const t = this.clock();
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - t)));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const t = this.clock();
    // Early (timers run on the loop's cached clock) or the burst went on: wake again at its next edge.
    if (this.holding()) return this.arm(this.nextEdge(t));
    if (t < this.burstUntil) this.arm(this.burstUntil);
    const deferred = this.deferred;
    this.deferred = [];
    for (const fn of deferred) fn();
    this.opts.onEased();
  };
}
