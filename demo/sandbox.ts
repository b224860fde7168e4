/**
 * The sandbox: `npm run demo -- --interactive`. A web page on 127.0.0.1 where a person plays the
 * requester and the approvers. The page renders the bot's real Slack surfaces from what the
 * Slack emulator recorded (modals, DMs, ephemerals, and the App Home the bot published with
 * views.publish), and every click goes to the bot as the signed payload Slack would send
 * (through SlackDriver). Beside it, the emulated Jira issues and who holds what in each identity
 * provider (Okta groups, the GitHub team, the AWS account assignment, …), polled from a small
 * JSON API.
 *
 * API (JSON; POSTs must be `application/json`, so another site's form cannot post here):
 *   GET  /api/state?user=U..   everything the page shows for that person
 *   POST /api/command          { user, text }                              `/access`
 *   POST /api/select           { user, viewId, blockId, actionId, value }  a choice in a modal select
 *   POST /api/suggest          { user, viewId, blockId, actionId, query }  options of an external_select
 *   POST /api/submit           { user, viewId, values }                    the modal's submit button
 *   POST /api/close            { user, viewId }                            the modal's close button
 *   POST /api/click            { user, channel, ts, actionId, blockId }    a button in a message
 *   POST /api/home             { user }                                    the Home tab opened (app_home_opened)
 *   POST /api/clickView        { user, viewId, actionId, blockId }         a button in the person's App Home
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interactiveElements, isObj, type Obj, type StoredView } from '../test/emulators/slack.js';
import { SlackClientRefusal, type SubmitValue } from '../test/support/slackDriver.js';
import { DemoWorld, type DemoPerson, type WorldOptions } from './world.js';

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/sandbox.js': { file: 'sandbox.js', type: 'text/javascript; charset=utf-8' },
  '/sandbox.css': { file: 'sandbox.css', type: 'text/css; charset=utf-8' },
};
const MAX_BODY = 64 * 1024;

export interface SandboxOptions {
  /** Default 8700; 0 picks a free port. When the default is taken, a free port is used instead. */
  port?: number;
  world?: WorldOptions;
}

export interface Sandbox {
  url: string;
  world: DemoWorld;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  // The port is claimed first, so two sandboxes side by side each get their own database.
  const ready: { api?: SandboxApi } = {};
  const server = http.createServer((req, res) => (ready.api ? void ready.api.handle(req, res) : json(res, 503, { error: 'starting' })));
  const port = await listen(server, opts.port ?? 8700, opts.port === undefined);
  const world = new DemoWorld({ name: port === 8700 ? 'sandbox' : `sandbox-${port}`, ...opts.world });
  try {
    await world.start();
  } catch (err) {
    await world.stop().catch(() => undefined);
    server.close();
    throw err;
  }
  ready.api = new SandboxApi(world, new Set([`127.0.0.1:${port}`, `localhost:${port}`]));
  return {
    url: `http://127.0.0.1:${port}/`,
    world,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await world.stop();
    },
  };
}

/** Listens on loopback only: the sandbox signs Slack payloads, so it must not face a network. */
function listen(server: http.Server, port: number, fallback: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (fallback && err.code === 'EADDRINUSE' && port !== 0) {
        server.listen(0, '127.0.0.1');
        return;
      }
      reject(err);
    };
    server.on('error', onError);
    server.on('listening', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
    server.listen(port, '127.0.0.1');
  });
}

/** Runs the sandbox until Ctrl-C. */
export async function runSandbox(opts: SandboxOptions = {}): Promise<number> {
  const sb = await startSandbox(opts);
  console.log(`access-bot sandbox: ${sb.url}`);
  console.log('  Play Alice, Bob, Carol and Dave; the bot, Slack, Jira and the identity providers behind it are real code and local emulators.');
  console.log(`  SQLite ${sb.world.databasePath} · bot logs ${sb.world.logFile ?? '(off)'} · Ctrl-C to stop`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  console.log('\nstopping…');
  await sb.close();
  return 0;
}

// ---------------------------------------------------------------------------------------------

class SandboxApi {
  constructor(
    private readonly world: DemoWorld,
    private readonly allowedHosts: ReadonlySet<string>,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // A page on another site cannot reach 127.0.0.1 through a name it controls (DNS rebinding).
      if (!this.allowedHosts.has(req.headers.host ?? '')) throw new HttpError(403, 'unexpected Host header');
      const url = new URL(req.url ?? '/', 'http://sandbox');
      if (req.method === 'GET' && FILES[url.pathname]) return this.file(res, FILES[url.pathname]!);
      if (req.method === 'GET' && url.pathname === '/api/state') return json(res, 200, this.state(url.searchParams.get('user') ?? ''));
      if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'send application/json');
        const body = await readJson(req);
        return json(res, 200, await this.post(url.pathname.slice(5), body));
      }
      throw new HttpError(404, 'not found');
    } catch (err) {
      if (err instanceof HttpError) return json(res, err.status, { error: err.message });
      if (err instanceof SlackClientRefusal) return json(res, 422, { error: err.reason });
      return json(res, 500, { error: (err as Error).message });
    }
  }

  private file(res: ServerResponse, f: { file: string; type: string }): void {
    // Read on each request so edits to the page show on reload.
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(readFileSync(join(PUBLIC, f.file)));
  }

  private person(id: unknown): DemoPerson {
    const p = typeof id === 'string' ? this.world.person(id) : undefined;
    if (!p) throw new HttpError(400, `unknown user ${String(id)}`);
    return p;
  }

  /** The view, if it is open and this person's. */
  private view(p: DemoPerson, viewId: unknown): StoredView {
    const v = typeof viewId === 'string' ? this.world.slack.views.get(viewId) : undefined;
    if (!v || v.userId !== p.slackId) throw new HttpError(404, `no view ${String(viewId)} for ${p.name}`);
    if (v.closed) throw new HttpError(409, 'that modal is closed');
    return v;
  }

  /** The modal on top of the person's stack. */
  private openModal(slackId: string): StoredView | undefined {
    let top: StoredView | undefined;
    for (const v of this.world.slack.views.values()) {
      if (v.userId !== slackId || v.closed || v.via === 'views.publish') continue;
      if (!top || v.openedAt >= top.openedAt) top = v;
    }
    return top;
  }

  /** Requests waiting for this person's decision, plus an open modal: the badge in the picker. */
  private todo(p: DemoPerson): number {
    const waiting = this.world.slack.dmsTo(p.slackId).filter((m) => interactiveElements(m.blocks).some((e) => e.element.action_id === 'approve')).length;
    return waiting + (this.openModal(p.slackId) ? 1 : 0);
  }

  private state(user: string): Obj {
    const { slack } = this.world;
    const me = this.world.person(user);
    const conversation = me
      ? [
          ...slack.dmsTo(me.slackId).map((m) => ({ kind: 'message', channel: m.channel, ts: m.ts, at: m.at, text: m.text, blocks: m.blocks, edited: m.history.length > 0 })),
          ...slack.ephemeralsTo(me.slackId).map((e) => ({ kind: 'ephemeral', channel: e.channel, ts: e.ts, at: e.at, text: e.text, blocks: e.blocks, edited: false })),
        ].sort((a, b) => a.at - b.at || a.ts.localeCompare(b.ts))
      : [];
    const modal = me ? this.openModal(me.slackId) : undefined;
    const home = me ? slack.homeFor(me.slackId) : undefined;
    return {
      me: me?.slackId ?? null,
      people: this.world.people.map((p) => ({ slackId: p.slackId, key: p.key, name: p.name, email: p.email, title: p.title, todo: this.todo(p) })),
      modal: modal ? { id: modal.id, view: modal.view, errors: modal.errors ?? null } : null,
      home: home ? { id: home.id, view: home.view } : null,
      conversation,
      jira: this.world.issues().sort((a, b) => b.created - a.created),
      idps: this.world.memberships(),
    };
  }

  private async post(action: string, body: Obj): Promise<Obj> {
    const { driver } = this.world;
    const p = this.person(body.user);
    switch (action) {
      case 'command': {
        const text = typeof body.text === 'string' ? body.text.trim() : '';
        const m = /^(\/[a-z-]+)\s*(.*)$/s.exec(text || '/access');
        if (!m) throw new HttpError(400, 'type a slash command, e.g. /access');
        const res = await driver.command(p.slackId, m[1]!, m[2] ?? '');
        // A command's immediate answer (`ack({text})`) is shown to the typist only.
        return { status: res.status, reply: isObj(res.body) && typeof res.body.text === 'string' ? res.body.text : null };
      }
      case 'select': {
        const v = this.view(p, body.viewId);
        const res = await driver.selectInView(p.slackId, v.id, str(body.blockId), str(body.actionId), submitValue(body.value));
        return { status: res.status, sent: res.sent };
      }
      case 'suggest': {
        const v = this.view(p, body.viewId);
        const res = await driver.suggest(p.slackId, v.id, str(body.actionId), str(body.blockId), typeof body.query === 'string' ? body.query : '');
        return { status: res.status, options: optionsIn(res.body) };
      }
      case 'submit': {
        const v = this.view(p, body.viewId);
        const values: Record<string, Record<string, SubmitValue>> = {};
        for (const [blockId, byAction] of Object.entries(isObj(body.values) ? body.values : {})) {
          if (!isObj(byAction)) continue;
          values[blockId] = Object.fromEntries(Object.entries(byAction).map(([k, x]) => [k, submitValue(x)]));
        }
        const res = await driver.submitView(p.slackId, v.id, values);
        return { status: res.status, errors: this.world.slack.views.get(v.id)?.errors ?? null };
      }
      case 'close':
        this.world.slack.closeView(this.view(p, body.viewId).id);
        return { status: 200 };
      case 'click': {
        const channel = str(body.channel);
        const ts = str(body.ts);
        const msg = this.world.slack.findMessage(channel, ts) ?? this.world.slack.ephemeralsTo(p.slackId).find((e) => e.channel === channel && e.ts === ts);
        if (!msg) throw new HttpError(404, `no message ${ts} in ${channel}`);
        // Slack shows a person only their own DMs; clicking someone else's is not something Slack allows.
        const mine = 'ephemeral' in msg ? msg.user === p.slackId : this.world.slack.dmsTo(p.slackId).includes(msg);
        if (!mine) throw new HttpError(403, `${p.name} cannot see that message`);
        const res = await driver.clickButton(p.slackId, msg, str(body.actionId), typeof body.blockId === 'string' ? { blockId: body.blockId } : {});
        return { status: res.status };
      }
      case 'home': {
        // Slack sends app_home_opened each time the person opens the tab; the bot publishes the Home.
        const res = await driver.appHomeOpened(p.slackId);
        return { status: res.status };
      }
      case 'clickView': {
        // Only a button in the person's own Home: Slack shows nobody else's.
        const home = this.world.slack.homeFor(p.slackId);
        if (!home || home.id !== str(body.viewId)) throw new HttpError(404, `no Home ${String(body.viewId)} for ${p.name}`);
        const res = await driver.clickInView(p.slackId, home.id, str(body.actionId), typeof body.blockId === 'string' ? { blockId: body.blockId } : {});
        return { status: res.status };
      }
      default:
        throw new HttpError(404, `no action ${action}`);
    }
  }
}

function str(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new HttpError(400, 'missing field');
  return v;
}

function submitValue(v: unknown): SubmitValue {
  if (v === null || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (isObj(v) && typeof v.value === 'string') return { value: v.value, ...(typeof v.text === 'string' ? { text: v.text } : {}) };
  throw new HttpError(400, 'a value is a string, a list of strings, {text, value} or null');
}

/** `options` or `option_groups` of an options response, flattened to {text, value}. */
function optionsIn(body: unknown): { text: string; value: string }[] {
  if (!isObj(body)) return [];
  const groups = Array.isArray(body.option_groups) ? body.option_groups.filter(isObj).flatMap((g) => (Array.isArray(g.options) ? g.options : [])) : [];
  const all = [...(Array.isArray(body.options) ? body.options : []), ...groups].filter(isObj);
  return all.map((o) => ({ text: isObj(o.text) ? String(o.text.text) : String(o.value), value: String(o.value) }));
}

function readJson(req: IncomingMessage): Promise<Obj> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
        if (!isObj(v)) throw new Error('not an object');
        resolve(v);
      } catch {
        reject(new HttpError(400, 'the body is not a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
