/**
 * 3. Revocation precision: N grants (one user each, owned by the bot) that expire within the
 * same 10 seconds, seeded straight into the database of a bot that is not yet started, with the
 * memberships in the Okta emulator and the issues in the Jira emulator. The bot then starts and
 * revokes them; the lateness of each removal is the time the Okta emulator answered the DELETE
 * minus the grant's `expires_at`.
 *
 * Each revocation also brings its Jira comment, Jira transition and requester DM, which share the
 * dispatcher with the removals — as they would in production.
 */
import { APPROVER, BenchEnv, GROUP } from './env.js';
import { Seeder, seedIssue } from './seed.js';
import { ms, pct, rounded, sleep, summarize, type Row, type Summary } from './stats.js';

export interface RevocationRun {
  latencyMs: number;
  grants: number;
  windowMs: number;
  /** DELETE answered − expires_at. */
  removal: Summary;
  /** revoke_requested_at − expires_at (the expiry timer's own precision). */
  started: Summary;
  /** revoked_at − expires_at (removal recorded). */
  recorded: Summary;
  notRemoved: number;
  deletes: number;
  /** How late the bot's event loop ran (ms) while the grants expired: p50, p99, max. */
  loopDelay: { p50: number; p99: number; max: number };
}

export async function measureRevocation(opts: { grants: number; windowMs: number; latencies?: number[]; log: (s: string) => void }): Promise<{ result: RevocationRun[]; rows: Row[] }> {
  const runs: RevocationRun[] = [];
  for (const latencyMs of opts.latencies ?? [0, 100]) {
    const r = await runOnce(opts.grants, opts.windowMs, latencyMs);
    runs.push(r);
    opts.log(
      `  ${latencyMs} ms/call: removal ${pct(r.removal)}; timer started revocation ${pct(r.started)}; not removed ${r.notRemoved}; ` +
        `bot event loop late p99 ${ms(r.loopDelay.p99)}, max ${ms(r.loopDelay.max)}`,
    );
  }
  const rows: Row[] = runs.map((r) => ({
    id: `revocation.${r.latencyMs}`,
    measurement: `Revocation lateness, ${r.grants} grants expiring within ${r.windowMs / 1000} s, services ${r.latencyMs} ms/call`,
    result: `${pct(r.removal)}${r.latencyMs ? ` (incl. the ${r.latencyMs} ms DELETE)` : ''}; started p99 ${ms(r.started.p99)}; ${r.notRemoved} not removed`,
    target: 'p99 < 1 s',
    pass: r.notRemoved === 0 && r.removal.p99 < 1000,
  }));
  return { result: runs.map((r) => ({ ...r, removal: rounded(r.removal), started: rounded(r.started), recorded: rounded(r.recorded) })), rows };
}

async function runOnce(grants: number, windowMs: number, latencyMs: number): Promise<RevocationRun> {
  const env = await new BenchEnv({ people: grants }).start();
  try {
    // Leave time for the bot process to start (about 1.5 s) before the first expiry.
    const first = Date.now() + 5000;
    const expiresBy = new Map<string, number>();
    const db = env.openForSeeding();
    const seeder = new Seeder(db);
    db.transaction(() => {
      env.people.forEach((p, i) => {
        const id = `req_rv${String(i).padStart(7, '0')}`;
        const expiresAt = first + Math.floor((i * windowMs) / grants);
        // The approver's card, which the bot updates when the grant ends.
        const card = env.slack.addMessage({ channel: env.slack.imChannelFor(APPROVER.slackId), user: env.slack.botUserId, text: `Access request ${id}` });
        seeder.activeGrant(id, p, i + 1, expiresAt - 4 * 3_600_000, expiresAt, card);
        seedIssue(env.jira, i + 1, id, 'Active');
        env.okta.addMember(GROUP, p.oktaId);
        expiresBy.set(p.oktaId, expiresAt);
      });
    })();
    db.close();
    env.setLatency(latencyMs);
    await env.startBot();
    await env.rpc('loopDelay');
    if (Date.now() > first) throw new Error(`the bot took too long to start (${env.ready.spawnToReadyMs.toFixed(0)} ms); the first grant expired before it was ready`);

    const deadline = first + windowMs + 60_000;
    while (env.okta.removeCalls < grants && Date.now() < deadline) await sleep(100);
    const loopDelay = await env.rpc<{ p50: number; p99: number; max: number }>('loopDelay');
    await env.idle();
    const removal: number[] = [];
    const seen = new Set<string>();
    let deletes = 0;
    for (const c of env.okta.calls) {
      if (c.method !== 'DELETE' || c.status !== 204) continue;
      deletes++;
      const user = c.path.split('/').pop()!;
      const exp = expiresBy.get(user);
      if (exp === undefined || seen.has(user)) continue;
      seen.add(user);
      removal.push(c.at - exp);
    }
    const rows = env.db().prepare("SELECT expires_at, revoke_requested_at, revoked_at FROM requests WHERE id LIKE 'req_rv%'").all() as {
      expires_at: number;
      revoke_requested_at: number | null;
      revoked_at: number | null;
    }[];
    const started = rows.filter((r) => r.revoke_requested_at !== null).map((r) => r.revoke_requested_at! - r.expires_at);
    const recorded = rows.filter((r) => r.revoked_at !== null).map((r) => r.revoked_at! - r.expires_at);
    const notRemoved = env.people.filter((p) => env.okta.isMember(GROUP, p.oktaId)).length;
    return { latencyMs, grants, windowMs, removal: summarize(removal), started: summarize(started), recorded: summarize(recorded), notRemoved, deletes, loopDelay };
  } finally {
    await env.close();
  }
}
