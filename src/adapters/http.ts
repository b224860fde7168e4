/**
 * One HTTP exchange over node:http(s) with keep-alive, for the adapters that call a service's
 * REST API directly (Okta, Slack's Web API, Jira). Measured against the SDKs they replace
 * (node-fetch or axios under a middleware stack): ~1-3 ms less CPU per call, which is most of
 * what the bot adds to a request's path (bench/README.md).
 *
 * The request is sent once, with one timeout over the whole exchange (waiting for a free
 * connection, connect, headers, body):
 * retrying is the outbox's job (ARCHITECTURE.md §1.2). Every answer resolves, whatever its
 * status; the caller classifies it. A timeout rejects with `HttpTimeout`; a connection failure
 * with Node's own error (`code` ECONNREFUSED, ECONNRESET, …).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/**
 * At most this many connections to one host; further calls wait for a free one, in order. The
 * dispatcher runs at most 32 effects at once, but `views.open` is called as each slash command
 * is acked, and nothing else bounds it: under a burst of commands the bot had hundreds of calls
 * open to Slack at once, each on a new connection (a TLS handshake each against the real
 * Slack), and the agent closed those above its 256 free sockets once they finished. The bench's
 * 200-in-flight command phase opened 563 connections for 1,000 calls (bench/README.md). 64 leaves
 * `views.open` at least 32 connections when every effect is talking to Slack.
 */
export const MAX_SOCKETS_PER_HOST = 64;

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST }),
};

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** No complete answer within the timeout. */
export class HttpTimeout extends Error {
  override readonly name = 'TimeoutError';
}

export function sendHttp(
  url: URL,
  opts: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<HttpAnswer> {
  const client = url.protocol === 'https:' ? https : http;
  const headers = opts.body === undefined ? opts.headers : { ...opts.headers, 'Content-Length': String(Buffer.byteLength(opts.body)) };
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = client.request(url, { method: opts.method, agent: agents[url.protocol as keyof typeof agents], headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const timer = setTimeout(() => req.destroy(new HttpTimeout(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    req.end(opts.body);
  });
}

/** A header's value; one sent several times arrives joined by commas. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  if (Array.isArray(v)) return v.join(', ');
  return typeof v === 'string' ? v : undefined;
}
