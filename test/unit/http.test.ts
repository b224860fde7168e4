/**
 * The adapters' one HTTP exchange (src/adapters/http.ts): how many connections a burst of calls
 * to one host opens, and that every call still gets its own answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_SOCKETS_PER_HOST, sendHttp } from '../../src/adapters/http.js';

test('a burst of calls to one host shares at most MAX_SOCKETS_PER_HOST connections, and each gets its own answer', async () => {
  let connections = 0;
  let open = 0;
  let mostOpen = 0;
  // Answers each call 20 ms after it arrives, so the calls of the burst overlap.
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => setTimeout(() => res.end(JSON.stringify({ echo: body })), 20));
  });
  server.on('connection', (s) => {
    connections++;
    mostOpen = Math.max(mostOpen, ++open);
    s.on('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/views.open`);
    const burst = 3 * MAX_SOCKETS_PER_HOST;
    const answers = await Promise.all(
      Array.from({ length: burst }, (_, i) => sendHttp(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: `call ${i}`, timeoutMs: 5000 })),
    );
    assert.deepEqual(
      answers.map((a) => [a.status, a.text]),
      Array.from({ length: burst }, (_, i) => [200, JSON.stringify({ echo: `call ${i}` })]),
    );
    assert.equal(connections, MAX_SOCKETS_PER_HOST, 'one connection per slot, each reused for the queued calls');
    assert.equal(mostOpen, MAX_SOCKETS_PER_HOST);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
