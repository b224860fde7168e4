/**
 * `npm run chaos`: the full-size crash run (see test/support/chaos/). Prints the figures and
 * exits 1 when any invariant count is not zero.
 *
 *   npm run chaos -- --flows 100 --crashes 25 --seed 1234 [--concurrency 8] [--no-faults] [--replicas 2]
 *
 * `--replicas N` (N > 1) runs N bot processes on one Postgres database (TEST_DATABASE_URL, or a
 * throwaway cluster: test/support/postgres.ts) and kills one of them at each crash;
 * `STORE=postgres` runs the single bot on Postgres.
 */
import { formatReport, invariantsHold, randomSeed, runChaos } from '../test/support/chaos/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

function num(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} takes a non-negative integer, got "${v}"`);
    process.exit(2);
  }
  return n;
}

const flows = num('flows', 100);
const crashes = num('crashes', 25);
const seed = num('seed', randomSeed());
const concurrency = num('concurrency', 8);
const faults = !process.argv.includes('--no-faults');
const timeoutMs = num('timeout', 15 * 60) * 1000;
const replicas = Math.max(1, num('replicas', 1));

console.log(`chaos: seed ${seed} (replay the plan with --seed ${seed})`);
const report = await runChaos({ flows, crashes, seed, concurrency, faults, lostResponses: faults, timeoutMs, replicas, log: (l) => console.log(l) });
console.log(formatReport(report));
const ok = invariantsHold(report);
console.log(ok ? 'chaos: every invariant held' : 'chaos: INVARIANTS BROKEN');
process.exit(ok ? 0 : 1);
