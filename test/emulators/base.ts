/**
 * A small HTTP server that emulators build on: routes with `:params`, body parsing in the
 * encodings the real services accept, a record of every call, injectable faults and latency.
 *
 * A request no route expects is answered 404 and recorded in `unexpected`, and `stop()` (every
 * test's teardown) then fails naming it: a client may well take that 404 quietly, and a test
 * must not pass over a call the emulator does not model. A 404 the real service gives on
 * purpose (an unknown user, a missing group) is a route's answer, not an unexpected request.
 *
 * Faults are how tests reproduce outages: a status with the service's own error body and
 * headers, a hang past the client's timeout, or a dropped connection.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface EmuRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the fields of a form body (values are strings), or undefined. */
  body: unknown;
  rawBody: string;
}

export interface EmuResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are; undefined as an empty body. */
  body?: unknown;
}

export type Handler = (req: EmuRequest) => EmuResponse | Promise<EmuResponse>;

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  status: number;
  /** When the answer was recorded (epoch ms). */
  at: number;
  /**
   * When the request arrived and when it was answered, epoch ms with sub-millisecond precision
   * (performance.timeOrigin + performance.now()): the service's own time for this call, latency
   * and the emulator's work included. The bench subtracts it to get what the bot adds.
   */
  arrivedAt: number;
  answeredAt: number;
  /** What the emulator answered (the parsed object when it answered JSON). */
  response: unknown;
}

export interface Fault {
  method?: string;
  /** Exact path, or a pattern tested against the path. Unset: every path. */
  path?: string | RegExp;
  /** Also matches on the request (services whose every call is `POST /`, told apart by a header). */
  when?: (req: { headers: IncomingHttpHeaders; body: unknown }) => boolean;
  /** How many matching calls the fault applies to. Unset: until removed. */
  times?: number;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Never answer (until the emulator stops): the client's timeout must fire. */
  hang?: boolean;
  /** Destroy the socket without answering (connection reset). */
  drop?: boolean;
  /**
   * Carry the call out first, then answer with the fault (status, hang or drop) instead of the
   * real answer: the write landed but its caller cannot know. A gateway's 502/504 or a lost
   * connection after the upstream committed looks like this; RFC 9110 §9.2.2 notes a request may
   * have been applied when "a communication failure occurs before the client is able to read the
   * server's response" (https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2).
   */
  afterHandling?: boolean;
}

interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
}

/** A request that matched no route. */
export interface UnexpectedRequest {
  method: string;
  path: string;
}

export class EmulatorServer {
  readonly calls: RecordedCall[] = [];
  /** Requests no route expects, in arrival order (answered 404). */
  readonly unexpected: UnexpectedRequest[] = [];
  /** Added before every answer, in milliseconds, to model a remote service's latency. */
  latencyMs = 0;
  private readonly routes: Route[] = [];
  private readonly faults: (Fault & { left: number })[] = [];
  private readonly sockets = new Set<Socket>();
  /** Connections accepted since start (the bench counts how many a phase made the bot open). */
  connectionsAccepted = 0;
  private readonly waiters: { pred: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void }[] = [];
  private server: http.Server | undefined;
  private base = '';

  constructor(readonly name: string) {}

  route(method: string, pattern: string, handler: Handler): this {
    const names: string[] = [];
    const src = pattern
      .split('/')
      .map((seg) => {
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({ method: method.toUpperCase(), regex: new RegExp(`^${src}$`), names, handler });
    return this;
  }

  /** Inject a fault; returns a function that removes it. */
  inject(fault: Fault): () => void {
    const entry = { ...fault, left: fault.times ?? Number.POSITIVE_INFINITY };
    this.faults.push(entry);
    return () => {
      const i = this.faults.indexOf(entry);
      if (i >= 0) this.faults.splice(i, 1);
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  get url(): string {
    return this.base;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      this.connectionsAccepted++;
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const addr = this.server.address() as AddressInfo;
    this.base = `http://${host}:${addr.port}`;
    return this.base;
  }

  /** Stops listening; then fails if a request matched no route (see `assertNoUnexpected`). */
  async stop(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
    this.assertNoUnexpected();
  }

  /** Throws, naming each request no route expected (method and path); reports each one once. */
  assertNoUnexpected(): void {
    const seen = this.unexpected.splice(0);
    if (seen.length === 0) return;
    const list = seen.map((u) => `${u.method} ${u.path}`);
    throw new Error(`emulator ${this.name}: ${seen.length} request(s) no route expects: ${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''}`);
  }

  /** Calls matching method and path (exact or pattern). */
  callsTo(method: string, path: string | RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method.toUpperCase() && matchPath(path, c.path));
  }

  /** Resolves with the first recorded call (past or future) that matches. */
  waitFor(pred: (c: RecordedCall) => boolean, timeoutMs = 5000): Promise<RecordedCall> {
    const found = this.calls.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (c: RecordedCall) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`${this.name}: no matching call within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrivedAt = preciseNow();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const base = { method, path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, arrivedAt };
    const body = parseBody(req.headers['content-type'], rawBody);
    // Recorded whether or not a fault answers it: the client asked for something no route models.
    const route = this.match(method, url.pathname);
    if (!route) this.unexpected.push({ method, path: url.pathname });

    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));

    const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method.toUpperCase() === method) && (!f.path || matchPath(f.path, url.pathname)) && (!f.when || f.when({ headers: req.headers, body })));
    let out: EmuResponse;
    if (fault) {
      fault.left -= 1;
      if (fault.afterHandling && route) await this.dispatch(route.route, { ...base, body, params: route.params });
      if (fault.hang) {
        this.record({ ...base, body, status: 0, response: 'hang' });
        return; // the socket is destroyed on stop()
      }
      if (fault.drop) {
        this.record({ ...base, body, status: 0, response: 'drop' });
        req.socket.destroy();
        return;
      }
      out = { status: fault.status ?? 500, headers: fault.headers, body: fault.body };
    } else {
      out = route ? await this.dispatch(route.route, { ...base, body, params: route.params }) : { status: 404, body: { error: `emulator ${this.name}: no route for ${method} ${url.pathname}` } };
    }
    const status = out.status ?? 200;
    const headers: Record<string, string> = { ...(out.headers ?? {}) };
    let payload = '';
    if (out.body !== undefined) {
      if (typeof out.body === 'string') {
        payload = out.body;
        headers['content-type'] ??= 'text/plain; charset=utf-8';
      } else {
        payload = JSON.stringify(out.body);
        headers['content-type'] ??= 'application/json; charset=utf-8';
      }
    }
    this.record({ ...base, body, status, response: out.body });
    res.writeHead(status, headers);
    res.end(payload);
  }

  /** The first route for this method and path, with its parameters. */
  private match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
      return { route: r, params };
    }
    return undefined;
  }

  private async dispatch(route: Route, req: EmuRequest): Promise<EmuResponse> {
    try {
      return await route.handler(req);
    } catch (err) {
      return { status: 500, body: { error: `emulator ${this.name} failed: ${(err as Error).message}` } };
    }
  }

  private record(c: Omit<RecordedCall, 'at' | 'answeredAt'>): void {
    const call = { ...c, at: Date.now(), answeredAt: preciseNow() };
    this.calls.push(call);
    for (const w of [...this.waiters]) {
      if (w.pred(call)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(call);
      }
    }
  }
}

/** Epoch milliseconds with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function matchPath(p: string | RegExp, path: string): boolean {
  return typeof p === 'string' ? p === path : p.test(path);
}

function parseBody(contentType: string | undefined, raw: string): unknown {
  if (!raw) return undefined;
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Stops every emulator given, then fails with what each one's `stop()` found (all, not the first). */
export async function stopAll(emulators: readonly ({ stop(): Promise<void> } | undefined)[]): Promise<void> {
  const results = await Promise.allSettled(emulators.map((e) => (e ? e.stop() : Promise.resolve())));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => e.message).join('; '));
}
