/**
 * One POST to the bot as Slack sends it: signed at the moment it is sent (v0 HMAC over
 * `v0:<timestamp>:<body>`), timed to the full answer. Used by the bench process and the load
 * generator.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface SignedAnswer {
  status: number;
  ms: number;
  text: string;
  /** When the request was sent (performance.now() of the sending process). */
  sentAt: number;
  /** On a new connection: ms from sending to connected; -1 on a reused one. */
  connectMs: number;
}

export function postSigned(url: string, secret: string, body: string, contentType: string, agent: http.Agent): Promise<SignedAnswer> {
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  const headers = {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': `v0=${sig}`,
  };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, text: Buffer.concat(chunks).toString('utf8'), sentAt: t0, connectMs }));
      res.on('error', reject);
    });
    let connectMs = -1;
    req.on('socket', (sock) => {
      if (!req.reusedSocket) sock.once('connect', () => (connectMs = performance.now() - t0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
