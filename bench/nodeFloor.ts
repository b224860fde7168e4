/**
 * A second reference for the ack measurement: node:http alone, checking Slack's signature the
 * way Slack documents it (HMAC-SHA256 of `v0:<timestamp>:<body>`, five-minute window) and
 * answering 200, in a process of its own. No framework, no database: what one Node process on
 * this machine can ack at all.
 *
 * Started by bench/ack.ts; tells the parent its port over IPC.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const secret = process.env.SLACK_SIGNING_SECRET ?? '';
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const ts = String(req.headers['x-slack-request-timestamp'] ?? '');
    const sig = Buffer.from(String(req.headers['x-slack-signature'] ?? ''));
    const want = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`);
    const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
    const ok = fresh && sig.length === want.length && timingSafeEqual(sig, want);
    res.writeHead(ok ? 200 : 401);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
