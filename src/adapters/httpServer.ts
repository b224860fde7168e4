/**
 * The inbound side of HTTP: the bounds the bot's server puts on clients it has not yet
 * authenticated, and reading a request body without ever rejecting.
 *
 * Anyone who can reach the port can open a connection, send headers and go silent, or send part
 * of a body and close the socket. None of that may crash the process, hold memory or sockets for
 * minutes, or make the bot believe Slack is waiting (which slows the outbox down, and with it
 * revocations).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** How long the HTTP server keeps an idle connection open (ms). */
export const KEEP_ALIVE_MS = 65_000;

export interface InboundLimits {
  /** A request's headers must all arrive within this (ms). Node's default is 60 s. */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this (ms). Node's default is 300 s. */
  requestTimeoutMs: number;
  /** Open connections at most; further ones are closed on accept. */
  maxConnections: number;
  /** Requests whose body is still being read at most; further ones get 503 and are closed. */
  maxBodiesInFlight: number;
}

/**
 * Slack's requests are a few kilobytes from a datacenter and Jira's webhooks at most tens of
 * kilobytes: 5 s for headers and 10 s for a whole request are generous for them, and close a
 * headers-then-silence connection 30-60 times sooner than Node's defaults.
 */
export const DEFAULT_LIMITS: InboundLimits = { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, maxConnections: 1024, maxBodiesInFlight: 256 };

/**
 * Options for `http.createServer`. Node checks the header and request timeouts every
 * `connectionsCheckingInterval` (30 s by default, which would let a stalled request live 40 s);
 * here, every second or sooner for short test timeouts.
 * https://nodejs.org/docs/latest-v20.x/api/http.html#httpcreateserveroptions-requestlistener
 */
export function serverOptions(limits: InboundLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_MS,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** Applies what `createServer`'s options cannot carry. */
export function applyLimits(server: Server, limits: InboundLimits): void {
  // Keep idle connections longer than the proxies in front usually do (AWS ALB: 60 s), and than
  // the gaps between Slack's requests: with Node's 5 s, a client that reuses a connection just
  // as the server closes it gets a reset ("socket hang up"; seen in the bench as lost clicks).
  // An idle keep-alive connection is not subject to headersTimeout (checked on Node 20).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.maxConnections = limits.maxConnections;
}

/** Resolves once `server` listens on `port` (0: a free one), rejects on a listen error (EADDRINUSE). */
export function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
}

/** Stops taking connections and drops the open ones (idle keep-alives would hold `close` for 65 s). */
export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
}

/**
 * Counts the request bodies being read, so a flood of half-sent bodies is refused before it
 * holds memory: `admit` is false when `max` are already being read.
 */
export class BodyGate {
  private reading = 0;
  constructor(private readonly max: number) {}

  get inFlight(): number {
    return this.reading;
  }

  /** Counts `req` until its body has been read or its connection went away. */
  admit(req: IncomingMessage): boolean {
    if (this.reading >= this.max) return false;
    this.reading++;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      this.reading--;
    };
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    return true;
  }
}

/**
 * The body of `req`, at most `max` bytes. Never rejects: a body over `max` is `'too large'` (the
 * rest is not read), and a client that goes away mid-body (aborted, reset, timed out) is
 * `'aborted'`: nobody is left to answer.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (v: Buffer | 'too large' | 'aborted') => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    req.on('data', (c: Buffer) => {
      if (settled) return;
      size += c.length;
      if (size > max) {
        req.pause();
        settle('too large');
      } else chunks.push(c);
    });
    req.once('end', () => settle(Buffer.concat(chunks)));
    req.once('error', () => settle('aborted'));
    // 'close' before 'end': the connection went away with the body unfinished.
    req.once('close', () => settle(req.complete ? Buffer.concat(chunks) : 'aborted'));
  });
}

/**
 * Whether `req` carries `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is
 * case-insensitive, RFC 7235 §2.1). The two are compared as SHA-256 digests with
 * `timingSafeEqual`, so the time taken tells nothing about the token, not even its length.
 */
export function hasBearer(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

/**
 * `handler` behind a bearer token: a request without it, or with another, gets 401 and the
 * challenge of RFC 6750 §3. What was sent is never logged: it may be a near miss of the token.
 */
export function requireBearer(token: string, handler: RequestListener, logger: Logger): RequestListener {
  return (req, res) => {
    if (hasBearer(req, token)) return handler(req, res);
    const sent = req.headers.authorization !== undefined;
    logger.warn({ path: (req.url ?? '').split('?')[0], credentials: sent ? 'wrong' : 'missing' }, 'refused a request without the bearer token');
    res.writeHead(401, { 'www-authenticate': sent ? 'Bearer realm="access-bot", error="invalid_token"' : 'Bearer realm="access-bot"', 'content-length': '0' });
    res.end();
  };
}

/**
 * A listener for a port that serves one route and nothing else (the metrics port): 404 for any
 * other path, 405 for another method, 500 (logged) when the handler throws.
 */
export function oneRouteListener(route: { method: string; path: string; handler: RequestListener }, logger: Logger): RequestListener {
  const answer = (res: ServerResponse, status: number) => {
    res.writeHead(status, { 'content-length': '0' });
    res.end();
  };
  return (req, res) => {
    if ((req.url ?? '').split('?')[0] !== route.path) return answer(res, 404);
    if (req.method !== route.method) return answer(res, 405);
    try {
      route.handler(req, res);
    } catch (err) {
      logger.error({ err: (err as Error).message, path: route.path }, 'answering a request failed');
      if (!res.headersSent) answer(res, 500);
      else res.destroy();
    }
  };
}
