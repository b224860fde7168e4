/**
 * The load generator for the ack measurement, in a process of its own so that what it times is
 * not held up by the emulators' work in the bench process. Signs each body as Slack does at the
 * moment it is sent, keeps `concurrency` requests in flight over keep-alive connections, and
 * answers with each request's status and time to the full answer.
 *
 * Messages in: `{ id, url, secret, bodies, contentType, concurrency }`; out: `{ id, results }`.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

interface Job {
  id: number;
  url: string;
  secret: string;
  bodies: string[];
  contentType: string;
  concurrency: number;
}

export interface LoadResult {
  status: number;
  ms: number;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function post(url: string, secret: string, body: string, contentType: string): Promise<LoadResult> {
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
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run(job: Job): Promise<LoadResult[]> {
  const results: LoadResult[] = new Array(job.bodies.length);
  let next = 0;
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= job.bodies.length) return;
      results[i] = await post(job.url, job.secret, job.bodies[i]!, job.contentType).catch((err: Error) => ({ status: 0, ms: Number.NaN, text: err.message }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.bodies.length) }, lane));
  return results;
}

process.on('message', (job: Job) => {
  void run(job).then((results) => process.send?.({ id: job.id, results }));
});
process.on('disconnect', () => process.exit(0));
