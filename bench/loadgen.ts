/**
 * The load generator for the ack measurement, in a process of its own so that what it times is
 * not held up by the emulators' work in the bench process. Signs each body as Slack does at the
 * moment it is sent, keeps `concurrency` requests in flight over keep-alive connections, and
 * answers with each request's status and time to the full answer.
 *
 * Messages in: `{ id, url, secret, bodies, contentType, concurrency }`; out: `{ id, results }`.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { postSigned, type SignedAnswer } from './signedPost.js';

interface Job {
  id: number;
  url: string;
  secret: string;
  bodies: string[];
  contentType: string;
  concurrency: number;
}

export type LoadResult = SignedAnswer;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

async function run(job: Job): Promise<LoadResult[]> {
  const results: LoadResult[] = new Array(job.bodies.length);
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= job.bodies.length) return;
      const r = await postSigned(job.url, job.secret, job.bodies[i]!, job.contentType, agent).catch((err: Error) => ({ status: 0, ms: Number.NaN, text: err.message, sentAt: Number.NaN, connectMs: Number.NaN }));
      // Sent this long after the phase started: where in a phase the slow answers fall.
      results[i] = { ...r, sentAt: r.sentAt - t0 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.bodies.length) }, lane));
  return results;
}

process.on('message', (job: Job) => {
  void run(job).then((results) => process.send?.({ id: job.id, results }));
});
process.on('disconnect', () => process.exit(0));
