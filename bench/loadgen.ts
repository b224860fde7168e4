/**
 * The load generator for the ack measurement, in a process of its own so that what it times is
 * not held up by the emulators' work in the bench process. Signs each body as Slack does at the
 * moment it is sent, keeps `concurrency` requests in flight over keep-alive connections, and
 * answers with each request's status and time to the full answer.
 *
 * Messages in: `{ id, url, secret, bodies, contentType, concurrency, fresh?, waitHealthy?, watchPid? }`;
 * out: `{ id, results, healthyAfterMs?, startedAt, endedAt, cpu? }`.
 * - `fresh`: every request on a new connection (closed after its answer), as a burst from many
 *   Slack senders arrives.
 * - `waitHealthy`: poll this URL every 5 ms until it answers 200, then start at once (the first
 *   burst after a restart, as Slack sees it).
 * - `watchPid`: the CPU that process used during the run, read from /proc at its first send and
 *   its last answer (see `cpuOf`).
 * - `startedAt`/`endedAt`: the run's first send and last answer on the monotonic clock (ms; the
 *   clock of CPU profiles' timestamps, µs there), to find the run in a profile of the bot.
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { postSigned, type SignedAnswer } from './signedPost.js';

interface Job {
  id: number;
  /** Several: the requests go to each in turn (replicas behind a load balancer). */
  url: string | string[];
  secret: string;
  bodies: string[];
  contentType: string;
  concurrency: number;
  fresh?: boolean;
  waitHealthy?: string;
  watchPid?: number;
}

export type LoadResult = SignedAnswer;

/**
 * CPU a process used during a run, from its threads' /proc/<pid>/task/<tid>/schedstat (time on a
 * CPU and time runnable but waiting for one, in ns: https://docs.kernel.org/scheduler/sched-stats.html).
 * `mainMs` is its main thread (the event loop); `otherMs` every other thread (V8's compiler and
 * GC threads, libuv's pool, workers); `waitMs` how long the main thread was ready to run but had
 * no CPU, which says how much the machine's other load held it up.
 */
export interface CpuDuring {
  mainMs: number;
  waitMs: number;
  otherMs: number;
  /** The load generator's own CPU in the run (ms, user + system). */
  loadgenMs: number;
}

interface Snapshot {
  main: [number, number];
  others: number;
  self: NodeJS.CpuUsage;
}

function schedstat(path: string): [number, number] {
  const [run, wait] = readFileSync(path, 'utf8').split(' ').map(Number);
  return [(run ?? Number.NaN) / 1e6, (wait ?? Number.NaN) / 1e6];
}

function snapshot(pid: number): Snapshot | undefined {
  try {
    let others = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (tid === String(pid)) continue;
      try {
        others += schedstat(`/proc/${pid}/task/${tid}/schedstat`)[0];
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return { main: schedstat(`/proc/${pid}/task/${pid}/schedstat`), others, self: process.cpuUsage() };
  } catch {
    return undefined; // no /proc (not Linux) or no schedstat
  }
}

function cpuOf(before: Snapshot | undefined, after: Snapshot | undefined): CpuDuring | undefined {
  if (!before || !after) return undefined;
  const self = process.cpuUsage(before.self);
  // Threads that ended during the run are missing from `after`: otherMs is then a lower bound.
  return { mainMs: after.main[0] - before.main[0], waitMs: after.main[1] - before.main[1], otherMs: Math.max(0, after.others - before.others), loadgenMs: (self.user + self.system) / 1000 };
}

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
/** One connection per request, closed after the answer (`Connection: close`). */
const freshAgent = new http.Agent({ keepAlive: false, maxSockets: 1024 });

/** Polls `url` until it answers 200 (new connection each time, as a probe would). */
async function untilHealthy(url: string): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(url, { agent: freshAgent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function run(job: Job): Promise<{ results: LoadResult[]; startedAt: number; endedAt: number; cpu?: CpuDuring }> {
  const results: LoadResult[] = new Array(job.bodies.length);
  const via = job.fresh ? freshAgent : agent;
  let next = 0;
  const before = job.watchPid ? snapshot(job.watchPid) : undefined;
  const startedAt = monotonicMs();
  const t0 = performance.now();
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= job.bodies.length) return;
      const url = Array.isArray(job.url) ? job.url[i % job.url.length]! : job.url;
      const r = await postSigned(url, job.secret, job.bodies[i]!, job.contentType, via).catch((err: Error) => ({ status: 0, ms: Number.NaN, text: err.message, sentAt: Number.NaN, connectMs: Number.NaN }));
      // Sent this long after the phase started: where in a phase the slow answers fall.
      results[i] = { ...r, sentAt: r.sentAt - t0 };
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
  const endedAt = monotonicMs();
  const cpu = job.watchPid ? cpuOf(before, snapshot(job.watchPid)) : undefined;
  return { results, startedAt, endedAt, cpu };
}

process.on('message', (job: Job) => {
  const t0 = performance.now();
  const healthy = job.waitHealthy ? untilHealthy(job.waitHealthy) : Promise.resolve();
  void healthy.then(async () => {
    const healthyAfterMs = job.waitHealthy ? performance.now() - t0 : undefined;
    process.send?.({ id: job.id, healthyAfterMs, ...(await run(job)) });
  });
});
process.on('disconnect', () => process.exit(0));
