/**
 * Fuzzing `/slack/events` (issue 3): thousands of malformed but correctly signed payloads —
 * wrong types, missing fields, huge strings, unknown action ids, unknown request ids, arrays
 * where objects are expected, invalid JSON in `payload=`, unknown `type`s, odd commands and
 * events — from a seeded PRNG (the seed is printed; FUZZ_SEED=<n> replays it).
 *
 * What must hold, decided precisely:
 * - no 5xx answer, and the bot never crashes (it still answers /healthz and still serves a real
 *   request afterwards);
 * - no state change: requests, approvers and memberships are byte-for-byte what they were; the
 *   only new audit events are `decision_refused` (a refused click is audited: who tried what),
 *   and the only new outbox effects are `slack.ephemeral` refusals, at most one per payload;
 * - those refusal replies settle (sent, or dead) instead of retrying forever.
 *
 * The actors used never have the right to act (Carol is routed on neither seeded request, the
 * others do not exist), so any state change is a bug, not a legitimate decision. A signed
 * `payload=null` is checked against the real process, since it takes the whole process down.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { buttonClick, ChaosWorld, denyView, formBody, randomSeed, requestState, Rng, viewSubmission } from '../support/chaos/index.js';
import { Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;
const TOTAL = 2400;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const CONCURRENCY = 160;

type Json = Record<string, unknown>;

interface Sent {
  family: string;
  status: number;
  body: string;
}

/** Values of every wrong type, some of them huge. */
function junk(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, 13)) {
    case 0:
      return null;
    case 1:
      return rng.int(-1e9, 1e9);
    case 2:
      return rng.next() * 1e300;
    case 3:
      return rng.chance(0.5);
    case 4:
      return '';
    case 5:
      return 'x'.repeat(rng.chance(0.15) ? rng.int(20_000, 200_000) : rng.int(1, 300));
    case 6:
      return '\u0000\ud83d\ude00\u202e<>&"\'`${}%00%s%n\\u0000';
    case 7:
      return depth > 2 ? [] : Array.from({ length: rng.int(0, 4) }, () => junk(rng, depth + 1));
    case 8:
      return depth > 2 ? {} : Object.fromEntries(Array.from({ length: rng.int(0, 4) }, (_, i) => [`k${i}`, junk(rng, depth + 1)]));
    case 9:
      return `req_${Math.floor(rng.next() * 1e16).toString(36)}`;
    case 10:
      return 'U' + Math.floor(rng.next() * 1e12).toString(36).toUpperCase();
    case 11:
      return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } };
    case 12:
      return '../../../../etc/passwd';
    default:
      return ["'; DROP TABLE requests; --", '{{7*7}}', '<!channel>', 'NaN', '-0', '1e400'][rng.int(0, 5)];
  }
}

/** All paths (key lists) in a JSON value. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : v && typeof v === 'object' ? Object.entries(v) : [];
  for (const [k, x] of entries) {
    out.push([...prefix, k]);
    paths(x, [...prefix, k], out);
  }
  return out;
}

/** Deletes, replaces, wraps or retypes 1–4 random places of a payload (a deep copy). */
function mutate(rng: Rng, payload: Json, protect: (p: (string | number)[]) => boolean = () => false): Json {
  const copy = JSON.parse(JSON.stringify(payload)) as Json;
  for (let n = rng.int(1, 4); n > 0; n--) {
    const all = paths(copy).filter((p) => !protect(p));
    if (all.length === 0) break;
    const p = rng.pick(all);
    let parent: unknown = copy;
    for (const k of p.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[k];
    const key = p[p.length - 1]!;
    const obj = parent as Record<string | number, unknown>;
    switch (rng.int(0, 3)) {
      case 0:
        if (Array.isArray(obj)) obj.splice(Number(key), 1);
        else delete obj[key];
        break;
      case 1:
        obj[key] = junk(rng);
        break;
      case 2:
        obj[key] = [obj[key]];
        break;
      default:
        obj[key] = typeof obj[key] === 'string' ? { value: obj[key] } : JSON.stringify(obj[key] ?? null);
    }
  }
  return copy;
}

describe('fuzzing /slack/events with malformed, correctly signed payloads', () => {
  let h: Harness;
  let pending: string;
  let active: string;
  let before0: { snapshot: string; outboxMax: number; auditMax: number };
  const sent: Sent[] = [];
  let seed = 0;
  let junkResponseUrls = 0;

  const snapshot = () =>
    JSON.stringify({
      requests: h.bot.db.prepare('SELECT * FROM requests ORDER BY id').all(),
      approvers: h.bot.db.prepare('SELECT * FROM approvers ORDER BY request_id, stage, person_id').all(),
      memberships: h.bot.db.prepare('SELECT * FROM memberships ORDER BY group_id, idp_user_id').all(),
    });

  before(async () => {
    h = await new Harness().start();
    pending = await h.request(alice, { duration: '4h', reason: 'Pending while the fuzzer runs' });
    active = await h.request(dave, { duration: '4h', reason: 'Active while the fuzzer runs' });
    await h.click(bob, active, 'approve');
    await waitUntil(() => h.bot.store.getRequest(active)!.state === 'active', 5000, 'active');
    await h.approverMessage(bob, pending);
    await h.idle();
    before0 = {
      snapshot: snapshot(),
      outboxMax: h.bot.db.prepare('SELECT MAX(id) FROM outbox').pluck().get() as number,
      auditMax: h.bot.db.prepare('SELECT MAX(seq) FROM audit_events').pluck().get() as number,
    };

    seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomSeed();
    const rng = new Rng(seed);
    const emu = h.slack;
    const card = await h.approverMessage(bob, pending);
    const modalView = { id: 'V0FUZZ', type: 'modal', callback_id: 'access_request', blocks: [], private_metadata: '', state: { values: {} } };
    // Never entitled to act on either seeded request (see the file comment).
    const actor = () => rng.pick([carol.slackId, 'U0NOBODY', 'W0GHOST', carol.slackId]);
    const requestId = () => rng.pick([pending, active, `req_${Math.floor(rng.next() * 1e15).toString(36)}aaaaaa`, pending.toUpperCase(), `${pending} `, 'req_', '']);
    const actionId = () => rng.pick(['approve', 'deny', 'revoke_access', 'review_break_glass', 'application', 'role', 'duration', 'reason', 'decision', 'nope', '', 'APPROVE']);
    /** Mutations must not touch the actor (a real approver would legitimately decide), except to junk. */
    const protectUser = (p: (string | number)[]) => p[0] === 'user' && p.length === 2 && p[1] === 'id';

    const families: [string, number, () => { body: string; type?: string }][] = [
      [
        'button click',
        24,
        () => {
          const payload = buttonClick(emu, { userId: actor(), actionId: actionId(), value: rng.chance(0.8) ? requestId() : junk(rng), message: rng.chance(0.5) ? card : undefined });
          // A junk response_url makes the refusal unsendable; kept rare (see the settle test).
          const out = mutate(rng, payload, (p) => protectUser(p) || (p[0] === 'response_url' && !rng.chance(0.05)));
          if (typeof out.response_url !== 'string' || !out.response_url.startsWith(emu.url)) junkResponseUrls += 1;
          return { body: formBody(out) };
        },
      ],
      [
        'request modal submission',
        14,
        () => {
          // Always invalid: the application is never one of the catalog's.
          const values = requestState({ app: rng.pick(['nope', '', 'OKTA-CONSOLE', 'okta-console ', junk(rng)]), role: rng.pick(['read-only', 'super-admin', junk(rng)]), duration: rng.pick(['4h', '99y', junk(rng)]), reason: rng.pick(['ok reason here', 'ab', 'x'.repeat(2001), junk(rng)]) });
          const payload = viewSubmission(emu, actor(), { ...modalView, id: `V0FUZZ${rng.int(0, 1e9)}` }, values);
          return { body: formBody(rng.chance(0.7) ? mutate(rng, payload, (p) => protectUser(p) || (p[0] === 'view' && p[1] === 'state' && p.length <= 5 && p.includes('application'))) : payload) };
        },
      ],
      [
        'deny modal submission',
        12,
        () => {
          const payload = viewSubmission(emu, actor(), denyView(rng.chance(0.8) ? requestId() : junk(rng), `V0DENY${rng.int(0, 1e9)}`), { reason: { reason: { type: 'plain_text_input', value: rng.chance(0.7) ? 'Fuzzed denial reason' : junk(rng) } } });
          return { body: formBody(rng.chance(0.6) ? mutate(rng, payload, protectUser) : payload) };
        },
      ],
      [
        'options request',
        10,
        () => {
          const payload: Json = {
            type: 'block_suggestion',
            user: { id: actor(), team_id: emu.teamId },
            container: { type: 'view', view_id: 'V0FUZZ' },
            api_app_id: emu.appId,
            action_id: actionId(),
            block_id: actionId(),
            value: rng.chance(0.5) ? 'okt' : junk(rng),
            team: { id: emu.teamId },
            view: { ...modalView, state: { values: requestState({ app: rng.pick(['okta-console', junk(rng)]), role: rng.pick(['read-only', junk(rng)]), duration: '4h', reason: 'x' }) } },
          };
          return { body: formBody(rng.chance(0.6) ? mutate(rng, payload) : payload) };
        },
      ],
      [
        'unknown interaction type',
        8,
        () => {
          const payload: Json = { type: rng.pick(['shortcut', 'message_action', 'view_closed', 'interactive_message', 'dialog_submission', 'workflow_step_edit', 'zzz', '', 'BLOCK_ACTIONS']), user: { id: actor() }, callback_id: actionId(), view: { id: 'V1', callback_id: rng.pick(['deny_reason', 'access_request', 'x']) } };
          return { body: formBody(rng.chance(0.5) ? mutate(rng, payload) : payload) };
        },
      ],
      [
        'not an object',
        8,
        () => {
          const raw = rng.pick(['[]', '[{"type":"block_actions"}]', '"block_actions"', '42', 'true', '{not json', '{"type":', '', ' ', 'undefined', 'NaN', '{"type":"block_actions","actions":[', '\u0000', '{}']);
          return { body: formBody(raw) };
        },
      ],
      [
        'slash command',
        10,
        () => {
          const form: Record<string, string> = {
            command: rng.pick(['/access', '/access', '/other', '', '/ACCESS', '/access '.repeat(rng.int(1, 50))]),
            text: rng.pick(['', 'request', 'help', '<!channel>', 'x'.repeat(rng.int(0, 5000)), String(junk(rng))]),
            user_id: actor(),
            team_id: emu.teamId,
            channel_id: rng.pick(['D0CAROL', 'C0ADMIN', '', 'C0NOPE']),
            trigger_id: rng.chance(0.5) ? emu.issueTriggerId(carol.slackId) : String(junk(rng)),
            response_url: emu.issueResponseUrl({ channel: 'D0CAROL', user: carol.slackId }),
          };
          for (const k of Object.keys(form)) if (rng.chance(0.15)) delete form[k];
          return { body: new URLSearchParams(form).toString() };
        },
      ],
      [
        'events API',
        8,
        () => {
          const body = rng.pick([
            () => JSON.stringify({ type: 'event_callback', event_id: `Ev${rng.int(0, 1e9)}`, event: { type: rng.pick(['app_mention', 'message', 'app_home_opened', 'zzz']), user: actor(), text: String(junk(rng)) } }),
            () => JSON.stringify({ type: 'url_verification', challenge: junk(rng) }),
            () => JSON.stringify({ type: 'app_rate_limited', minute_rate_limited: junk(rng) }),
            () => JSON.stringify(mutate(rng, { type: 'event_callback', event: { type: 'message', channel: 'C0ADMIN', user: actor() }, authorizations: [{ user_id: 'U0BOT' }] })),
            () => JSON.stringify([{ type: 'event_callback' }]),
            () => '{"type":"event_callback", "event": {',
            () => JSON.stringify(junk(rng) ?? 0),
          ])();
          return { body, type: 'application/json' };
        },
      ],
      [
        'odd encodings',
        6,
        () =>
          rng.pick([
            () => ({ body: 'ssl_check=1&token=x' }),
            () => ({ body: `payload=${'%'.repeat(rng.int(1, 30))}` }),
            () => ({ body: `payload=${encodeURIComponent('{"type":"block_actions"}')}&payload=${encodeURIComponent('[]')}` }),
            () => ({ body: formBody(buttonClick(emu, { userId: actor(), actionId: 'approve', value: pending })), type: 'application/json' }),
            () => ({ body: JSON.stringify({ payload: JSON.stringify(buttonClick(emu, { userId: actor(), actionId: 'approve', value: pending })) }), type: 'application/json' }),
            () => ({ body: 'a=1&a=2&a[]=3&b[c]=4', type: 'application/x-www-form-urlencoded' }),
            () => ({ body: 'payload=%7B%7D', type: 'text/plain' }),
          ])(),
      ],
    ];
    const weights = families.reduce((a, [, w]) => a + w, 0);
    const pickFamily = () => {
      let x = rng.next() * weights;
      for (const f of families) if ((x -= f[1]) < 0) return f;
      return families[0]!;
    };

    const jobs = Array.from({ length: TOTAL }, () => {
      const [family, , make] = pickFamily();
      return { family, ...make() };
    });
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const j = jobs[next++]!;
        let status: number;
        try {
          const res = await h.driver.raw(j.body, { 'Content-Type': j.type ?? 'application/x-www-form-urlencoded', ...h.driver.sign(j.body) });
          status = res.status;
        } catch (err) {
          status = -1; // no answer at all
          void err;
        }
        sent.push({ family: j.family, status, body: status >= 500 || j.body.length <= 400 ? j.body : `${j.body.slice(0, 400)}…` });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  });

  after(async () => {
    await h.stop();
  });

  test(`${TOTAL} payloads were sent and every one was answered`, (t) => {
    t.diagnostic(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
    const byStatus: Record<string, number> = {};
    for (const s of sent) byStatus[`${s.family} ${s.status}`] = (byStatus[`${s.family} ${s.status}`] ?? 0) + 1;
    for (const [k, v] of Object.entries(byStatus).sort()) t.diagnostic(`${k}: ${v}`);
    assert.equal(sent.length, TOTAL);
    assert.deepEqual(
      sent.filter((s) => s.status === -1).map((s) => s.family),
      [],
      'no connection dropped without an answer',
    );
  });

  test('the bot did not crash: /healthz answers 200 and a real request still goes through', async () => {
    const health = await fetch(`${h.bot.url}/healthz`);
    assert.equal(health.status, 200);
    const id = await h.request(carol, { duration: '4h', reason: 'After the fuzzer' });
    await h.approverMessage(bob, id);
    await h.idle();
  });

  test('no state change: requests, approvers, memberships untouched; only refusals audited and answered', async () => {
    await h.idle(15_000).catch(() => undefined);
    const after = JSON.parse(snapshot()) as { requests: Json[]; approvers: Json[]; memberships: Json[] };
    const was = JSON.parse(before0.snapshot) as typeof after;
    // The request "After the fuzzer" (previous test) is the only new one, when that test ran.
    const fresh = after.requests.filter((r) => !was.requests.some((w) => w.id === r.id));
    assert.ok(
      fresh.every((r) => r.reason === 'After the fuzzer'),
      `no request came from the fuzzer: ${fresh.map((r) => String(r.reason).slice(0, 40)).join(', ')}`,
    );
    const freshIds = fresh.map((r) => String(r.id));
    const old = <T extends Json>(rows: T[], key: string) => rows.filter((r) => !freshIds.includes(String(r[key])));
    assert.deepEqual(old(after.requests, 'id'), was.requests, 'the seeded requests are byte-for-byte unchanged');
    assert.deepEqual(old(after.approvers, 'request_id'), was.approvers);
    assert.deepEqual(after.memberships, was.memberships);
    const audit = old(h.bot.db.prepare('SELECT request_id, type, actor FROM audit_events WHERE seq > ?').all(before0.auditMax) as Json[], 'request_id');
    assert.deepEqual([...new Set(audit.map((a) => a.type))].filter((t) => t !== 'decision_refused'), [], 'only refusals were audited');
    assert.ok(audit.every((a) => a.actor !== bob.slackId && a.actor !== alice.slackId && a.actor !== dave.slackId));
    const effects = old(h.bot.db.prepare('SELECT kind, request_id FROM outbox WHERE id > ?').all(before0.outboxMax) as Json[], 'request_id').map((e) => String(e.kind));
    assert.deepEqual([...new Set(effects)].filter((k) => k !== 'slack.ephemeral'), [], 'only refusal replies were enqueued');
    assert.ok(effects.length <= TOTAL, 'at most one reply per payload');
    assert.equal(h.okta.members('00g1readonly').length, 1, 'Okta: only the seeded active grant');
  });

  test(
    'the refusal replies settle: sent, or dead after one try — none retries forever',
    async () => {
      await sleep(1500);
      const stuck = h.bot.db.prepare("SELECT id, attempts, last_error, payload FROM outbox WHERE kind = 'slack.ephemeral' AND status IN ('pending', 'running') ORDER BY attempts DESC").all() as Json[];
      assert.deepEqual(
        stuck.map((s) => `${String(s.id)} after ${String(s.attempts)} attempts: ${String(s.last_error).slice(0, 120)} ${String(s.payload).slice(0, 200)}`),
        [],
        `${junkResponseUrls} payloads carried a junk response_url`,
      );
    },
  );

  test(
    'no 5xx, whatever the payload',
    () => {
      const errors = sent.filter((s) => s.status >= 500);
      const families: Record<string, number> = {};
      for (const e of errors) families[e.family] = (families[e.family] ?? 0) + 1;
      // FUZZ_DUMP=<file> keeps every payload answered 5xx, to replay them one by one.
      if (process.env.FUZZ_DUMP) writeFileSync(process.env.FUZZ_DUMP, JSON.stringify(errors, null, 1));
      assert.deepEqual(families, {}, `examples:\n${errors.slice(0, 5).map((e) => e.body.slice(0, 600)).join('\n')}`);
    },
  );
});

describe('a signed payload of JSON null (the real process)', () => {
  let w: ChaosWorld;
  before(async () => {
    w = await new ChaosWorld().start();
    await w.bot.start();
  });
  after(async () => {
    await w.stop();
  });

  test(
    'payload=null and a JSON body of null are refused, and the process keeps running',
    async () => {
      const url = w.bot.url;
      const driver = w.driver();
      for (const [body, type] of [
        [formBody('null'), 'application/x-www-form-urlencoded'],
        ['null', 'application/json'],
      ] as const) {
        const res = await driver.raw(body, { 'Content-Type': type, ...driver.sign(body) }).catch(() => ({ status: -1 }));
        assert.ok(res.status >= 400 && res.status < 500, `answered ${res.status}`);
      }
      await sleep(300);
      const health = await fetch(`${url}/healthz`).then(
        (r) => r.status,
        () => -1,
      );
      assert.equal(health, 200, `the process is still up:\n${w.bot.output().slice(-1500)}`);
    },
  );
});
