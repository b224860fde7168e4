/**
 * `npm run bench` — measures the bot's speed, precision and scale against the local emulators,
 * prints a table (measurement, result, target, pass/miss) and writes bench/results.json and
 * bench/results.md. See bench/README.md.
 *
 *   npm run bench                      full sizes (several minutes)
 *   npm run bench -- --quick           smaller sizes (1/5 to 1/20), under two minutes
 *   npm run bench -- --only ack,scale  some measurements only (ack, latency, revocation, scale, burst, throughput, cold, review)
 *
 * results.json is written by every run; results.md (committed) by a full run of everything.
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureAck } from './ack.js';
import { measureBurst } from './burst.js';
import { measureCold } from './cold.js';
import { measureLatency } from './latency.js';
import { measureReview } from './review.js';
import { measureRevocation } from './revocation.js';
import { measureScale } from './scale.js';
import { table, type Row } from './stats.js';
import { measureThroughput } from './throughput.js';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Size {
  ackPerLevel: number;
  ackWarmup: number;
  latency0: number;
  latency100: number;
  revocations: number;
  revocationWindowMs: number;
  pastRequests: number;
  activeGrants: number;
  burst: number;
  burstPerMinute: number;
  burstLeadSec: number;
  throughput: number;
  coldPerBurst: number;
  coldRounds: number;
  reviewMembers: number;
  reviewGrants: number;
  reviewRevokes: number;
  reviewPerMinute: number;
  reviewLeadSec: number;
}

const FULL: Size = {
  ackPerLevel: 1000,
  ackWarmup: 100,
  latency0: 200,
  latency100: 100,
  revocations: 1000,
  revocationWindowMs: 10_000,
  pastRequests: 1_000_000,
  activeGrants: 100_000,
  burst: 2000,
  burstPerMinute: 600,
  burstLeadSec: 15,
  throughput: 1000,
  coldPerBurst: 200,
  coldRounds: 3,
  reviewMembers: 10_000,
  reviewGrants: 1000,
  reviewRevokes: 200,
  reviewPerMinute: 30,
  reviewLeadSec: 10,
};

const QUICK: Size = {
  ackPerLevel: 200,
  ackWarmup: 30,
  latency0: 20,
  latency100: 5,
  revocations: 100,
  revocationWindowMs: 3000,
  pastRequests: 50_000,
  activeGrants: 5_000,
  burst: 200,
  burstPerMinute: 120,
  burstLeadSec: 10,
  throughput: 150,
  coldPerBurst: 100,
  coldRounds: 1,
  reviewMembers: 2000,
  reviewGrants: 200,
  reviewRevokes: 50,
  reviewPerMinute: 6,
  reviewLeadSec: 5,
};

type Measure = (size: Size, log: (s: string) => void) => Promise<{ result: unknown; rows: Row[] }>;

const MEASUREMENTS: Record<string, { title: string; run: Measure }> = {
  ack: { title: '1. Ack latency', run: (s, log) => measureAck({ perLevel: Number(process.env.BENCH_ACK_PER_LEVEL ?? s.ackPerLevel), warmup: s.ackWarmup, levels: (process.env.BENCH_ACK_LEVELS ?? '10,50,200').split(',').map(Number), log }) },
  latency: { title: '2. Time to record and to grant', run: (s, log) => measureLatency({ samples0: s.latency0, samples100: s.latency100, log }) },
  revocation: { title: '3. Revocation precision', run: (s, log) => measureRevocation({ grants: s.revocations, windowMs: s.revocationWindowMs, log }) },
  scale: { title: '4. Scale', run: (s, log) => measureScale({ pastRequests: s.pastRequests, activeGrants: s.activeGrants, log }) },
  burst: {
    title: '5. Bursts under the IdP rate limit',
    run: (s, log) => measureBurst({ approvals: s.burst, perMinute: s.burstPerMinute, leadSec: s.burstLeadSec, log }),
  },
  throughput: { title: '6. Throughput', run: (s, log) => measureThroughput({ requests: s.throughput, log }) },
  cold: { title: '7. Ack latency right after a restart (new connections, from outside)', run: (s, log) => measureCold({ perBurst: s.coldPerBurst, inFlight: 50, rounds: s.coldRounds, log }) },
  review: {
    title: '8. An access review of a large group',
    run: (s, log) => measureReview({ members: s.reviewMembers, grants: s.reviewGrants, revokes: s.reviewRevokes, perMinute: s.reviewPerMinute, leadSec: s.reviewLeadSec, log }),
  },
};

function machine() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = execSync("grep -m1 'model name' /proc/cpuinfo", { encoding: 'utf8' }).split(':')[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    /** 1-minute load average when the run started: other work on the machine skews the figures. */
    loadAvgAtStart: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyArg = args.find((a) => a.startsWith('--only'));
  const onlyValue = onlyArg?.includes('=') ? onlyArg.split('=')[1] : onlyArg ? args[args.indexOf(onlyArg) + 1] : undefined;
  const only = onlyValue ? onlyValue.split(',').map((s) => s.trim()) : Object.keys(MEASUREMENTS);
  for (const o of only) if (!MEASUREMENTS[o]) throw new Error(`unknown measurement "${o}" (one of ${Object.keys(MEASUREMENTS).join(', ')})`);
  const scaleArg = args.find((a) => a.startsWith('--scale='));
  const factor = scaleArg ? Number(scaleArg.split('=')[1]) : 1;
  const base = quick ? QUICK : FULL;
  const size: Size = factor === 1 ? base : (Object.fromEntries(Object.entries(base).map(([k, v]) => [k, k.startsWith('burstLead') || k.endsWith('WindowMs') || k === 'reviewLeadSec' ? v : Math.max(1, Math.round(v * factor))])) as unknown as Size);
  const m = machine();
  const started = new Date();
  console.log(`access-bot bench (${quick ? 'quick' : 'full'}) on ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb} GB, Node ${m.node}; load average ${m.loadAvgAtStart}`);

  const rows: Row[] = [];
  const results: Record<string, unknown> = {};
  const durations: Record<string, number> = {};
  for (const key of only) {
    const { title, run } = MEASUREMENTS[key]!;
    console.log(`\n${title}`);
    const t0 = performance.now();
    const out = await run(size, (s) => console.log(s));
    durations[key] = Math.round(performance.now() - t0);
    rows.push(...out.rows);
    results[key] = out.result;
    console.log(`  (${(durations[key]! / 1000).toFixed(1)} s)`);
  }

  const total = Object.values(durations).reduce((a, b) => a + b, 0);
  console.log(`\n${table(rows)}\n`);
  console.log(`${rows.filter((r) => r.pass === false).length} missed, ${rows.filter((r) => r.pass === true).length} passed; ${(total / 1000).toFixed(0)} s in all.`);

  const loadAvgAtEnd = Math.round(os.loadavg()[0]! * 100) / 100;
  console.log(`load average at the end ${loadAvgAtEnd} (at the start ${m.loadAvgAtStart}; this machine has ${m.cpus} CPUs)`);
  const doc = { mode: quick ? 'quick' : 'full', startedAt: started.toISOString(), machine: { ...m, loadAvgAtEnd }, size, only, durationsMs: durations, rows, results };
  writeFileSync(join(HERE, 'results.json'), `${JSON.stringify(doc, null, 2)}\n`);
  // The committed table is the latest full run of every measurement.
  if (!quick && factor === 1 && only.length === Object.keys(MEASUREMENTS).length) {
    const md = [
      `# Latest bench results (full run)`,
      '',
      `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${m.cpus} CPUs (${m.cpuModel}) · ${m.memoryGb} GB RAM · Node ${m.node} · ${m.platform} · ` +
        `load average ${m.loadAvgAtStart} at the start, ${loadAvgAtEnd} at the end · ${(total / 1000).toFixed(0)} s`,
      '',
      'Written by `npm run bench`; see [README.md](README.md) for what each row measures and how to reproduce it.',
      '',
      table(rows, true),
      '',
    ].join('\n');
    writeFileSync(join(HERE, 'results.md'), md);
    console.log('wrote bench/results.json and bench/results.md');
  } else {
    console.log('wrote bench/results.json (bench/results.md is written by a full run of every measurement)');
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
