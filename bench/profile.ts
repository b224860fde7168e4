/**
 * Summarises a .cpuprofile (from BENCH_PROFILE=<dir> npm run bench, or node --cpu-prof):
 * the functions with the most self time, and self time by file.
 *
 *   npx tsx bench/profile.ts <file.cpuprofile> [top=30]
 *
 * WINDOW=<from>-<to>: only the samples taken between those two moments on the monotonic clock
 * (ms), e.g. the burst window the cold measurement prints when BENCH_COLD_NODE_ARGS profiles the
 * bot (bench/cold.ts); percentages are then of the window.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/profile.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 30);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
// Profiles time samples in µs on the monotonic clock (the clock of process.hrtime).
const [from, to] = (process.env.WINDOW ?? `${p.startTime / 1000}-${p.endTime / 1000}`).split('-').map((v) => Number(v) * 1000);
let at = p.startTime;
let total = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  at += dt;
  if (at < from! || at > to!) return;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});

const short = (url: string) => url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm:').replace(/.*\/work\/main\//, '').replace(/.*\/bench-dist\//, '');
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  const f = short(n.callFrame.url) || `(${n.callFrame.functionName})`;
  const pkg = f.startsWith('nm:') ? f.split('/').slice(0, f.startsWith('nm:@') ? 2 : 1).join('/') : f;
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + t);
}
// Native frames (SQLite calls, socket writes) charged to the JS function that called them.
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byCaller = new Map<string, number>();
for (const [id, t] of self) {
  let n = byId.get(id)!;
  const native = n.callFrame.url === '' ? n.callFrame.functionName : '';
  while (n.callFrame.url === '' && parent.has(n.id)) n = byId.get(parent.get(n.id)!)!;
  const key = `${native ? `[${native}] in ` : ''}${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  byCaller.set(key, (byCaller.get(key) ?? 0) + t);
}
// Inclusive (self + callees) time per function, each function counted once per sample.
const incl = new Map<string, number>();
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)!;
    if (!n.callFrame.url) continue;
    const k = label(n);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + t);
  }
}
const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nself time by function');
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
console.log('\nself time, native calls charged to their JS caller');
for (const [k, t] of [...byCaller].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
if (process.env.INCLUSIVE) {
  console.log('\ninclusive time by function');
  for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.INCLUSIVE))) console.log(`${pct(t)}  ${k}`);
}
console.log('\nself time by file / package');
for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
