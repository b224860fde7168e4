/**
 * Shows, without the bot, why a burst of new connections waits on a busy Node server (libuv
 * ≥ 1.45 accepts one connection per event-loop turn, https://github.com/libuv/libuv/pull/3696):
 * a node:http server doing `WORK_US` of synchronous work per request, 50 keep-alive connections
 * already open, then 200 requests in flight, so 150 connections open at once.
 *
 *   npx tsx bench/acceptStarvation.ts            # WORK_US=400
 *
 * Prints the latency of the requests on new connections and on reused ones. Seen here: new
 * p50 481 ms, reused p50 27 ms. Not part of `npm run bench`.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const work = Number(process.env.WORK_US ?? 400);

if (process.argv[2] === 'server') {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const t0 = performance.now();
      while ((performance.now() - t0) * 1000 < work);
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
} else {
  const child = fork(fileURLToPath(import.meta.url), ['server'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const post = () =>
    new Promise<{ ms: number; reused: boolean }>((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-length': '5' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - t0, reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end('hello');
    });
  const run = async (n: number, inFlight: number) => {
    const out: { ms: number; reused: boolean }[] = [];
    let sent = 0;
    const lane = async () => {
      while (sent < n) {
        sent += 1;
        out.push(await post());
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    return out;
  };
  await run(200, 50);
  const results = await run(1000, 200);
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const fresh = results.filter((r) => !r.reused).map((r) => r.ms);
  const reused = results.filter((r) => r.reused).map((r) => r.ms);
  console.log(`${work} µs of work per request, 200 in flight: ${fresh.length} requests on new connections p50 ${p50(fresh).toFixed(0)} ms, max ${Math.max(...fresh).toFixed(0)} ms; ${reused.length} on reused ones p50 ${p50(reused).toFixed(0)} ms`);
  child.disconnect();
}
