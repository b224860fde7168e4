import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { openDatabase, type Db } from '../../src/adapters/sqlite/db.js';
import { migrate, readMigrations } from '../../src/adapters/sqlite/migrate.js';
import { SqliteOutboxRepository } from '../../src/adapters/sqlite/outboxRepository.js';
import { EFFECT_LANES, QUEUE_POLICY } from '../../src/app/effects.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from '../../src/outbox/backoff.js';
import { Dispatcher, type DispatcherOptions, type DispatcherOutbox, type EffectHandler } from '../../src/outbox/dispatcher.js';
import { isRetryableStatus, parseRetryAfter, PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { Outbox, type EffectRow, type EffectSpec, type Lease } from '../../src/outbox/outbox.js';
import type { ClaimPart, OutboxRepository, QueuePolicy } from '../../src/outbox/repository.js';

const MIGRATIONS = readMigrations(fileURLToPath(new URL('../../migrations', import.meta.url)));
const T0 = Date.UTC(2024, 0, 1);
const silent = pino({ level: 'silent' });

/**
 * A migrated in-memory database and an outbox on a clock the test moves; `handle` is what its
 * transactions hand follow-up writes (the store, in the bot).
 */
function setup(path = ':memory:', handle: () => unknown = () => undefined) {
  const db = openDatabase(path);
  migrate(db, MIGRATIONS, () => T0);
  const clock = { t: T0 };
  const repo = new SqliteOutboxRepository<unknown>(db, QUEUE_POLICY, handle);
  const outbox = new Outbox(repo, () => clock.t);
  return { db, clock, repo, outbox };
}

/**
 * The SQLite repository answering as an asynchronous one would (a database over the network, as
 * a later Postgres store): every answer is a promise settled on a later turn of the event loop.
 */
class AsyncRepository implements OutboxRepository<'async', unknown> {
  constructor(private readonly inner: SqliteOutboxRepository<unknown>) {}
  private later<T>(f: () => T): Promise<T> {
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(f());
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
  }
  insert(spec: EffectSpec, at: number) {
    return this.later(() => this.inner.insert(spec, at));
  }
  claimEach(parts: readonly ClaimPart[], now: number, leaseUntil: number) {
    return this.later(() => this.inner.claimEach(parts, now, leaseUntil));
  }
  complete(lease: Lease, result: unknown, at: number, within?: (tx: unknown) => void) {
    return this.later(() => this.inner.complete(lease, result, at, within));
  }
  retry(lease: Lease, availableAt: number, error: string) {
    return this.later(() => this.inner.retry(lease, availableAt, error));
  }
  bury(lease: Lease, error: string, at: number, within?: (tx: unknown) => void) {
    return this.later(() => this.inner.bury(lease, error, at, within));
  }
  release(lease: Lease) {
    return this.later(() => this.inner.release(lease));
  }
  renew(leases: readonly Lease[], until: number) {
    return this.later(() => this.inner.renew(leases, until));
  }
  releaseAll() {
    return this.later(() => this.inner.releaseAll());
  }
  nextDueAt() {
    return this.later(() => this.inner.nextDueAt());
  }
  get(id: number) {
    return this.later(() => this.inner.get(id));
  }
  counts() {
    return this.later(() => this.inner.counts());
  }
  dead() {
    return this.later(() => this.inner.dead());
  }
  revive(id: number, at: number) {
    return this.later(() => this.inner.revive(id, at));
  }
}

/**
 * The test's outbox with every answer the dispatcher waits for asynchronous. Enqueue stays with
 * the test's synchronous outbox (the test needs its ids at once), and so do its notifications.
 */
function asyncOutbox(env: ReturnType<typeof setup>): DispatcherOutbox {
  const a = new Outbox<'async'>(new AsyncRepository(env.repo), () => env.clock.t);
  return {
    onEnqueue: (l) => env.outbox.onEnqueue(l),
    releaseAll: () => a.releaseAll(),
    claimEach: (parts, leaseMs) => a.claimEach(parts, leaseMs),
    complete: (lease, result, within) => a.complete(lease, result, within),
    retryAt: (lease, at, error) => a.retryAt(lease, at, error),
    bury: (lease, error, within) => a.bury(lease, error, within),
    release: (lease) => a.release(lease),
    renew: (leases, leaseMs) => a.renew(leases, leaseMs),
    nextDueAt: () => a.nextDueAt(),
    counts: () => a.counts(),
  };
}

/** The lease an effect is held under now (for tests about ordering, not fencing). */
function held(outbox: Outbox, id: number): EffectRow {
  const e = outbox.get(id);
  if (!e) throw new Error(`no effect ${id}`);
  return e;
}

function ids(rows: EffectRow[]): number[] {
  return rows.map((r) => r.id);
}

function raw(db: Db, id: number): { lease_until: number | null; result: string | null; done_at: number | null } {
  return db.prepare('SELECT lease_until, result, done_at FROM outbox WHERE id = ?').get(id) as { lease_until: number | null; result: string | null; done_at: number | null };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('outbox: enqueue and claim', () => {
  test('an enqueued effect is pending, due now, with its payload kept', () => {
    const { outbox } = setup();
    const id = outbox.enqueue({ kind: 'jira.comment', queue: 'jira:R1', requestId: 'R1', payload: { text: 'hello', n: 1 } });
    assert.deepEqual(outbox.get(id), {
      id,
      queue: 'jira:R1',
      kind: 'jira.comment',
      requestId: 'R1',
      payload: { text: 'hello', n: 1 },
      status: 'pending',
      attempts: 0,
      availableAt: T0,
      lastError: null,
      createdAt: T0,
      revivedAt: null,
    });
  });

  test('an effect with a delay is not claimed before its time', () => {
    const { outbox, clock } = setup();
    const id = outbox.enqueue({ kind: 'k', queue: 'q', payload: null, delayMs: 5000 });
    assert.equal(outbox.get(id)?.requestId, null);
    clock.t = T0 + 4999;
    assert.deepEqual(outbox.claim(10, 1000), []);
    clock.t = T0 + 5000;
    assert.deepEqual(ids(outbox.claim(10, 1000)), [id]);
  });

  test('a claimed effect is leased: running, its attempt counted, and not claimed twice', () => {
    const { outbox, db } = setup();
    const id = outbox.enqueue({ kind: 'k', queue: 'q', payload: 1 });
    const [claimed] = outbox.claim(10, 30_000);
    assert.equal(claimed?.id, id);
    assert.equal(claimed?.status, 'running');
    assert.equal(claimed?.attempts, 1);
    assert.equal(outbox.get(id)?.status, 'running');
    assert.equal(raw(db, id).lease_until, T0 + 30_000);
    assert.deepEqual(outbox.claim(10, 30_000), []);
  });

  test('claim takes at most `limit` effects, earliest due first', () => {
    const { outbox, clock } = setup();
    const later = outbox.enqueue({ kind: 'k', queue: 'a', payload: null, delayMs: 20 });
    const first = outbox.enqueue({ kind: 'k', queue: 'b', payload: null });
    const second = outbox.enqueue({ kind: 'k', queue: 'c', payload: null });
    const third = outbox.enqueue({ kind: 'k', queue: 'd', payload: null, delayMs: 10 });
    assert.deepEqual(ids(outbox.claim(5, 1000)), [first, second], 'the delayed ones are not due yet');
    clock.t = T0 + 20;
    assert.deepEqual(ids(outbox.claim(1, 1000)), [third], 'due earlier beats enqueued earlier');
    assert.deepEqual(ids(outbox.claim(1, 1000)), [later]);
  });

  test('a lease that ran out makes the effect claimable again', () => {
    const { outbox, clock } = setup();
    const id = outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    outbox.claim(1, 1000);
    clock.t = T0 + 999;
    assert.deepEqual(outbox.claim(1, 1000), [], 'the lease still holds');
    clock.t = T0 + 1000;
    const [again] = outbox.claim(1, 1000);
    assert.equal(again?.id, id);
    assert.equal(again?.attempts, 2);
  });

  test('an effect left running by a crashed process is claimed again at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-crash-'));
    try {
      const path = join(dir, 'bot.db');
      const first = setup(path);
      const id = first.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
      first.outbox.claim(1, 120_000);
      first.db.close(); // the process dies with the effect running

      const second = setup(path);
      assert.equal(second.outbox.get(id)?.status, 'running');
      assert.deepEqual(second.outbox.claim(1, 120_000), [], 'without releaseAll the old lease would still hold');
      assert.equal(second.outbox.releaseAll(), 1);
      const [again] = second.outbox.claim(1, 120_000);
      assert.equal(again?.id, id);
      assert.equal(again?.attempts, 2);
      second.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('outbox: per-queue ordering', () => {
  test('a comment never runs before its issue (same queue)', () => {
    const { outbox } = setup();
    const issue = outbox.enqueue({ kind: 'jira.create', queue: 'jira:R1', requestId: 'R1', payload: null });
    const comment = outbox.enqueue({ kind: 'jira.comment', queue: 'jira:R1', requestId: 'R1', payload: null });
    assert.deepEqual(ids(outbox.claim(10, 1000)), [issue]);
    assert.deepEqual(outbox.claim(10, 1000), [], 'the comment waits while the issue runs');
    outbox.complete(held(outbox, issue), { key: 'ACC-1' });
    assert.deepEqual(ids(outbox.claim(10, 1000)), [comment]);
  });

  test('a retrying effect holds back its queue until it succeeds', () => {
    const { outbox, clock } = setup();
    const issue = outbox.enqueue({ kind: 'jira.create', queue: 'jira:R1', payload: null });
    const comment = outbox.enqueue({ kind: 'jira.comment', queue: 'jira:R1', payload: null });
    outbox.claim(10, 1000);
    outbox.retryAt(held(outbox, issue), T0 + 5000, '503 Service Unavailable');
    assert.deepEqual(outbox.get(issue), { ...outbox.get(issue)!, status: 'pending', availableAt: T0 + 5000, lastError: '503 Service Unavailable', attempts: 1 });
    clock.t = T0 + 4000;
    assert.deepEqual(outbox.claim(10, 1000), [], 'the comment is due but its issue is not done');
    clock.t = T0 + 5000;
    assert.deepEqual(ids(outbox.claim(10, 1000)), [issue]);
    outbox.complete(held(outbox, issue), null);
    assert.deepEqual(ids(outbox.claim(10, 1000)), [comment]);
  });

  test('a delayed head holds back a follower that is due', () => {
    const { outbox } = setup();
    outbox.enqueue({ kind: 'k', queue: 'q', payload: null, delayMs: 60_000 });
    outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    assert.deepEqual(outbox.claim(10, 1000), []);
  });

  test('queues do not wait for each other', () => {
    const { outbox } = setup();
    const a1 = outbox.enqueue({ kind: 'k', queue: 'jira:R1', payload: null });
    outbox.enqueue({ kind: 'k', queue: 'jira:R1', payload: null });
    const b1 = outbox.enqueue({ kind: 'k', queue: 'jira:R2', payload: null });
    const c1 = outbox.enqueue({ kind: 'k', queue: 'slack:U1', payload: null });
    assert.deepEqual(ids(outbox.claim(10, 1000)), [a1, b1, c1], 'one head per queue');
  });

  test('a dead effect holds back a Jira queue until revived: the record stays in order', () => {
    const { outbox, clock } = setup();
    const create = outbox.enqueue({ kind: 'jira.create', queue: 'jira:R1', payload: null });
    const comment = outbox.enqueue({ kind: 'jira.comment', queue: 'jira:R1', payload: null });
    const other = outbox.enqueue({ kind: 'jira.create', queue: 'jira:R2', payload: null });
    assert.deepEqual(ids(outbox.claim(10, 1000)), [create, other]);
    outbox.bury(held(outbox, create), 'project not found');
    outbox.complete(held(outbox, other), null);

    clock.t = T0 + 86_400_000;
    assert.deepEqual(outbox.claim(10, 1000), [], 'the comment must not run before its issue');
    assert.equal(outbox.nextDueAt(), undefined, 'and it is not due');
    assert.deepEqual(
      outbox.dead().map((e) => [e.id, e.status, e.lastError]),
      [[create, 'dead', 'project not found']],
    );

    assert.equal(outbox.revive(create), true);
    assert.equal(outbox.get(create)?.availableAt, clock.t, 'a revived effect is due at once');
    assert.deepEqual(ids(outbox.claim(10, 1000)), [create], 'the revived head runs first');
    outbox.complete(held(outbox, create), null);
    assert.deepEqual(ids(outbox.claim(10, 1000)), [comment]);
    assert.deepEqual(outbox.dead(), []);
  });

  test('a dead effect does not hold back other queues: a failed grant does not freeze the next one', () => {
    const { outbox } = setup();
    const grant = outbox.enqueue({ kind: 'idp.grant', queue: 'idp:okta:g:u', payload: null });
    const next = outbox.enqueue({ kind: 'idp.grant', queue: 'idp:okta:g:u', payload: null });
    assert.deepEqual(ids(outbox.claim(10, 1000)), [grant]);
    outbox.bury(held(outbox, grant), 'group not found');
    assert.deepEqual(ids(outbox.claim(10, 1000)), [next]);
  });

  test('a dead effect holds back exactly the queues the queue policy names, however they are named', () => {
    const { db, clock } = setup();
    const outbox = new Outbox(new SqliteOutboxRepository(db, { holdBehindDead: ['record:', "50%'s:"] }), () => clock.t);
    // Held: the named prefixes, read literally (no LIKE wildcards, quotes are data). Not held:
    // Jira, which this policy does not name, a name that contains a prefix later on, and one
    // that would match the prefix as a LIKE pattern.
    const queues = ['record:1', "50%'s:2", 'jira:3', 'x-record:4', '50abc:5'];
    const heads = queues.map((queue) => outbox.enqueue({ kind: 'k', queue, payload: null }));
    const followers = queues.map((queue) => outbox.enqueue({ kind: 'k', queue, payload: null }));
    assert.deepEqual(ids(outbox.claim(10, 1000)), heads);
    for (const id of heads) outbox.bury(held(outbox, id), 'gone');
    clock.t += 1;
    assert.deepEqual(ids(outbox.claim(10, 1000)), followers.slice(2));
    assert.equal(outbox.nextDueAt(), undefined, 'the followers of held queues are not due');
  });

  test('a policy that holds no queue lets every queue go on behind a dead effect', () => {
    const { db } = setup();
    const policy: QueuePolicy = { holdBehindDead: [] };
    const outbox = new Outbox(new SqliteOutboxRepository(db, policy), () => T0);
    const head = outbox.enqueue({ kind: 'jira.create', queue: 'jira:R1', payload: null });
    const comment = outbox.enqueue({ kind: 'jira.comment', queue: 'jira:R1', payload: null });
    outbox.claim(10, 1000);
    outbox.bury(held(outbox, head), 'project not found');
    assert.equal(outbox.nextDueAt(), T0);
    assert.deepEqual(ids(outbox.claim(10, 1000)), [comment]);
  });

  test('only a dead effect can be revived', () => {
    const { outbox } = setup();
    const pending = outbox.enqueue({ kind: 'k', queue: 'a', payload: null });
    const done = outbox.enqueue({ kind: 'k', queue: 'b', payload: null });
    outbox.claim(10, 1000);
    outbox.complete(held(outbox, done), null);
    outbox.release(held(outbox, pending));
    assert.equal(outbox.revive(pending), false);
    assert.equal(outbox.revive(done), false);
    assert.equal(outbox.get(done)?.status, 'done');
  });
});

describe('outbox: outcomes and bookkeeping', () => {
  test('complete records the result and clears the lease and the last error', () => {
    const { outbox, db, clock } = setup();
    const id = outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    outbox.claim(1, 1000);
    outbox.retryAt(held(outbox, id), T0, 'first try failed');
    outbox.claim(1, 1000);
    clock.t = T0 + 7;
    outbox.complete(held(outbox, id), { key: 'ACC-7' });
    assert.equal(outbox.get(id)?.status, 'done');
    assert.equal(outbox.get(id)?.lastError, null);
    assert.deepEqual(raw(db, id), { lease_until: null, result: '{"key":"ACC-7"}', done_at: T0 + 7 });
  });

  test('bury sets an effect aside as dead with its cause', () => {
    const { outbox, db } = setup();
    const id = outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    outbox.claim(1, 1000);
    outbox.bury(held(outbox, id), 'project ACC not found');
    assert.equal(outbox.get(id)?.status, 'dead');
    assert.equal(outbox.get(id)?.lastError, 'project ACC not found');
    assert.equal(raw(db, id).lease_until, null);
  });

  test('release gives a lease back at once, without waiting for it to run out', () => {
    const { outbox } = setup();
    const id = outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    outbox.claim(1, 120_000);
    outbox.release(held(outbox, id));
    assert.equal(outbox.get(id)?.status, 'pending');
    assert.deepEqual(ids(outbox.claim(1, 1000)), [id]);
  });

  test('nextDueAt is the earliest time a pending effect is due, undefined when none', () => {
    const { outbox, clock } = setup();
    assert.equal(outbox.nextDueAt(), undefined);
    outbox.enqueue({ kind: 'k', queue: 'a', payload: null, delayMs: 9000 });
    const b = outbox.enqueue({ kind: 'k', queue: 'b', payload: null, delayMs: 3000 });
    assert.equal(outbox.nextDueAt(), T0 + 3000);
    clock.t = T0 + 3000;
    outbox.claim(1, 1000);
    outbox.retryAt(held(outbox, b), T0 + 12_000, 'x');
    assert.equal(outbox.nextDueAt(), T0 + 9000);
  });

  test(
    'nextDueAt ignores effects held back by their queue',
    () => {
      const { outbox, clock } = setup();
      const head = outbox.enqueue({ kind: 'k', queue: 'jira:q', payload: null });
      outbox.enqueue({ kind: 'k', queue: 'jira:q', payload: null });
      outbox.claim(10, 1000);
      outbox.retryAt(held(outbox, head), T0 + 20_000, '503');
      assert.equal(outbox.nextDueAt(), T0 + 20_000, 'the follower cannot run before its head');
      assert.deepEqual(outbox.claim(10, 1000), [], 'nothing due: the head is not, and the follower is blocked');
      clock.t = T0 + 20_000;
      outbox.claim(10, 1000);
      outbox.bury(held(outbox, head), 'gone');
      assert.equal(outbox.nextDueAt(), undefined, 'a Jira queue behind a dead effect has nothing due');
    },
  );

  test('counts reports open effects by status (done ones are not counted)', () => {
    const { outbox } = setup();
    const a = outbox.enqueue({ kind: 'k', queue: 'a', payload: null });
    const b = outbox.enqueue({ kind: 'k', queue: 'b', payload: null });
    outbox.enqueue({ kind: 'k', queue: 'c', payload: null });
    outbox.enqueue({ kind: 'k', queue: 'c', payload: null });
    outbox.claim(2, 1000);
    outbox.complete(held(outbox, a), null);
    outbox.bury(held(outbox, b), 'x');
    outbox.claim(1, 1000);
    assert.deepEqual(outbox.counts(), { pending: 1, running: 1, done: 0, dead: 1 });
  });

  test('listeners hear of an effect after the enqueuing code has finished, and can unsubscribe', async () => {
    const { outbox } = setup();
    let heard = 0;
    const off = outbox.onEnqueue(() => heard++);
    outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    assert.equal(heard, 0, 'not inside the transaction that enqueues');
    await Promise.resolve();
    assert.equal(heard, 1);
    off();
    outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    await Promise.resolve();
    assert.equal(heard, 1);
  });

  test('reviving an effect wakes the listeners', () => {
    const { outbox } = setup();
    const id = outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    outbox.claim(1, 1000);
    outbox.bury(held(outbox, id), 'x');
    let heard = 0;
    outbox.onEnqueue(() => heard++);
    outbox.revive(id);
    assert.equal(heard, 1);
  });
});

describe('backoff', () => {
  const P: BackoffPolicy = DEFAULT_BACKOFF;

  test('the delay doubles from the base, with equal jitter: between half and all of it', () => {
    const rows: [number, number][] = [
      [1, 500],
      [2, 1000],
      [3, 2000],
      [4, 4000],
      [5, 8000],
      [6, 16_000],
      [7, 20_000],
    ];
    for (const [attempt, exp] of rows) {
      assert.equal(backoffDelay(attempt, P, undefined, 0), exp / 2, `attempt ${attempt}, random 0`);
      assert.equal(backoffDelay(attempt, P, undefined, 0.5), (3 * exp) / 4, `attempt ${attempt}, random 0.5`);
    }
  });

  test('the delay is capped, so a backlog drains within a minute of recovery', () => {
    for (const attempt of [7, 10, 50, 1000, Number.MAX_SAFE_INTEGER]) {
      assert.equal(backoffDelay(attempt, P, undefined, 0.999999), P.capMs, `attempt ${attempt}`);
    }
  });

  test('Retry-After is a floor for the next attempt', () => {
    for (const hint of [0, 1000, 30_000, 10 * 60_000]) {
      for (const attempt of [1, 4, 20]) {
        for (const random of [0, 0.5, 0.999]) {
          const delay = backoffDelay(attempt, P, hint, random);
          assert.ok(delay >= hint, `hint ${hint}, attempt ${attempt}, random ${random}: ${delay} < ${hint}`);
          assert.ok(delay <= Math.max(hint + 250, P.capMs), `hint ${hint}: ${delay} is longer than hint + 250 ms spread and the cap`);
        }
      }
    }
  });

  test('a far-future rate-limit reset is capped at maxHintMs', () => {
    assert.equal(backoffDelay(1, P, 86_400_000, 0), P.maxHintMs);
  });

  test('Retry-After is read as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('120', T0), 120_000);
    assert.equal(parseRetryAfter('0', T0), 0);
    assert.equal(parseRetryAfter(new Date(T0 + 30_000).toUTCString(), T0), 30_000);
    assert.equal(parseRetryAfter(new Date(T0 - 30_000).toUTCString(), T0), 0, 'a date in the past means now');
    assert.equal(parseRetryAfter(null, T0), undefined);
    assert.equal(parseRetryAfter('', T0), undefined);
    assert.equal(parseRetryAfter('soon', T0), undefined);
  });

  test('408, 429 and 5xx are retryable; other 4xx are permanent', () => {
    assert.deepEqual(
      [400, 401, 403, 404, 408, 409, 429, 500, 502, 503].map((s) => [s, isRetryableStatus(s)]),
      [
        [400, false],
        [401, false],
        [403, false],
        [404, false],
        [408, true],
        [409, false],
        [429, true],
        [500, true],
        [502, true],
        [503, true],
      ],
    );
  });
});

// Every dispatcher test runs twice: over the SQLite outbox, and over the same outbox answering
// asynchronously (the dispatcher must work with a later Postgres store, outbox/repository.ts).
for (const overAsync of [false, true]) describe(overAsync ? 'dispatcher over an asynchronous outbox' : 'dispatcher', () => {
  const BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 8000, maxHintMs: 60_000 };

  function dispatcher(env: ReturnType<typeof setup>, handlers: Record<string, EffectHandler>, over: Partial<DispatcherOptions> = {}): Dispatcher {
    return new Dispatcher({
      outbox: overAsync ? asyncOutbox(env) : env.outbox,
      reserved: EFFECT_LANES,
      handlers,
      logger: silent,
      now: () => env.clock.t,
      random: () => 0,
      backoff: BACKOFF,
      idlePollMs: 5,
      ...over,
    });
  }

  function marks(db: Db): string[] {
    return db.prepare('SELECT what FROM marks ORDER BY rowid').pluck().all() as string[];
  }

  function withMarks() {
    const env = setup();
    env.db.exec('CREATE TABLE marks (what TEXT NOT NULL)');
    return env;
  }

  test('while foreground work waits, each lane runs at most busyConcurrency effects; all run once it clears', async () => {
    const env = setup();
    let busy = true;
    let running = 0;
    let peak = 0;
    let done = 0;
    const release: (() => void)[] = [];
    const d = dispatcher(
      env,
      {
        k: {
          run: async () => {
            running += 1;
            peak = Math.max(peak, running);
            await new Promise<void>((r) => release.push(r));
            running -= 1;
            done += 1;
          },
        },
      },
      { concurrency: 8, busyConcurrency: 2, foreground: () => busy },
    );
    for (let i = 0; i < 10; i++) env.outbox.enqueue({ kind: 'k', queue: `q${i}`, payload: null });
    d.start();
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
      assert.ok(cond());
    };
    await until(() => running === 2);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(running, 2, 'the cap holds while the foreground is busy');
    for (const r of release.splice(0)) r();
    await until(() => done === 2 && running === 2);
    assert.equal(peak, 2);
    busy = false;
    d.wake();
    await until(() => running === 8);
    for (;;) {
      for (const r of release.splice(0)) r();
      if (done === 10) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(peak, 8);
    await d.stop();
  });

  test('while the foreground holds, no effect starts, in the identity-provider lane either; woken after the hold, each lane runs busyConcurrency', async () => {
    const env = setup();
    let held = true;
    let started = 0;
    const release: (() => void)[] = [];
    const d = dispatcher(
      env,
      {
        k: {
          run: async () => {
            started += 1;
            await new Promise<void>((r) => release.push(r));
          },
        },
      },
      { concurrency: 8, busyConcurrency: 2, foreground: () => true, held: () => held },
    );
    for (let i = 0; i < 3; i++) env.outbox.enqueue({ kind: 'k', queue: `jira:R${i}`, payload: null });
    for (let i = 0; i < 3; i++) env.outbox.enqueue({ kind: 'k', queue: `idp:okta:G:U${i}`, payload: null });
    d.start();
    // Several of the dispatcher's idle looks (idlePollMs is 5 here).
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(started, 0, 'nothing starts while held');
    held = false;
    d.wake();
    for (let i = 0; i < 500 && started < 4; i++) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(started, 4, 'two in the idp: lane, two in the shared slots');
    for (;;) {
      for (const r of release.splice(0)) r();
      if (started === 6 && env.outbox.counts().running === 0) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    await d.stop();
  });

  test('a handler runs once and its result is recorded with onDone in the same transaction', async () => {
    const env = withMarks();
    const seen: string[] = [];
    const d = dispatcher(env, {
      'jira.create': {
        run: async (e) => ({ key: `ACC-${e.id}` }),
        onDone: (e, result) => {
          seen.push(`${env.outbox.get(e.id)?.status} ${JSON.stringify(result)}`);
          env.db.prepare('INSERT INTO marks (what) VALUES (?)').run('issue recorded');
        },
      },
    });
    const id = env.outbox.enqueue({ kind: 'jira.create', queue: 'q', payload: null });
    d.start();
    await d.idle(2000);
    await d.stop(100);
    assert.deepEqual(seen, [`done {"key":"ACC-${id}"}`], 'onDone sees the effect already done, in its transaction');
    assert.deepEqual(marks(env.db), ['issue recorded']);
    assert.equal(env.outbox.get(id)?.status, 'done');
    assert.deepEqual(d.stats, { succeeded: 1, retried: 0, dead: 0, byKind: { 'jira.create': { ok: 1, retry: 0, dead: 0 } } });
  });

  test('when onDone fails, the effect is not done and its follow-up writes are rolled back', async () => {
    const env = withMarks();
    const d = dispatcher(env, {
      k: {
        run: async () => 'ok',
        onDone: () => {
          env.db.prepare('INSERT INTO marks (what) VALUES (?)').run('half-recorded');
          throw new Error('disk full');
        },
      },
    });
    const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    d.start();
    await d.idle(2000);
    await d.stop(100);
    assert.deepEqual(marks(env.db), []);
    const e = env.outbox.get(id);
    assert.equal(e?.status, 'pending');
    assert.equal(e?.lastError, 'recording the outcome failed: disk full');
    assert.equal(e?.availableAt, T0 + 500, 'retried with backoff (attempt 1, base 1000, random 0)');
  });

  test('a retryable failure is retried with backoff', async () => {
    const env = setup();
    const d = dispatcher(env, {
      k: {
        run: async () => {
          throw new RetryableError('503 from Jira');
        },
      },
    });
    const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    d.start();
    await d.idle(2000);
    await d.stop(100);
    const e = env.outbox.get(id);
    assert.equal(e?.status, 'pending');
    assert.equal(e?.lastError, '503 from Jira');
    assert.equal(e?.availableAt, T0 + 500);
    assert.equal(e?.attempts, 1);
    assert.equal(d.stats.retried, 1);
  });

  test('an unexpected error is retried, never dropped', async () => {
    const env = setup();
    const d = dispatcher(env, {
      k: {
        run: async () => {
          throw new TypeError('cannot read properties of undefined');
        },
      },
    });
    const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    d.start();
    await d.idle(2000);
    await d.stop(100);
    assert.equal(env.outbox.get(id)?.status, 'pending');
    assert.equal(env.outbox.get(id)?.lastError, 'cannot read properties of undefined');
  });

  test('Retry-After is a floor for the next attempt', async () => {
    for (const random of [0, 0.5, 0.999]) {
      const env = setup();
      const d = dispatcher(
        env,
        {
          k: {
            run: async () => {
              throw new RetryableError('429 Too Many Requests', 30_000);
            },
          },
        },
        { random: () => random },
      );
      const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
      d.start();
      await d.idle(2000);
      await d.stop(100);
      const wait = env.outbox.get(id)!.availableAt - T0;
      assert.ok(wait >= 30_000 && wait <= 30_250, `random ${random}: next attempt after ${wait} ms, expected 30000..30250`);
    }
  });

  test('a permanent failure is dead at once, and onDead runs in the same transaction', async () => {
    const env = withMarks();
    const deadSeen: string[] = [];
    let runs = 0;
    const d = dispatcher(env, {
      'idp.grant': {
        run: async () => {
          runs++;
          throw new PermanentError('group 00g1 not found');
        },
        onDead: (e, err) => {
          deadSeen.push(`${env.outbox.get(e.id)?.status}: ${err.message}`);
          env.db.prepare('INSERT INTO marks (what) VALUES (?)').run('request failed');
        },
      },
    });
    const id = env.outbox.enqueue({ kind: 'idp.grant', queue: 'q', payload: null });
    d.start();
    await d.idle(2000);
    await d.stop(100);
    assert.equal(runs, 1);
    assert.deepEqual(deadSeen, ['dead: group 00g1 not found']);
    assert.deepEqual(marks(env.db), ['request failed']);
    assert.equal(env.outbox.get(id)?.lastError, 'group 00g1 not found');
    assert.deepEqual(d.stats, { succeeded: 0, retried: 0, dead: 1, byKind: { 'idp.grant': { ok: 0, retry: 0, dead: 1 } } });
  });

  test('onDone and onDead write through the handle of the transaction that records the outcome', async () => {
    const handle = { transaction: 'the one recording the outcome' };
    const env = setup(':memory:', () => handle);
    const given: [string, unknown][] = [];
    const d = dispatcher(env, {
      ok: { run: async () => 'done', onDone: (_e, _result, tx) => void given.push(['onDone', tx]) },
      gone: {
        run: async () => {
          throw new PermanentError('group not found');
        },
        onDead: (_e, _err, tx) => void given.push(['onDead', tx]),
      },
    });
    env.outbox.enqueue({ kind: 'ok', queue: 'a', payload: null });
    env.outbox.enqueue({ kind: 'gone', queue: 'b', payload: null });
    d.start();
    await d.idle(2000);
    await d.stop(100);
    assert.deepEqual(given.sort(([a], [b]) => a.localeCompare(b)), [['onDead', handle], ['onDone', handle]]);
    assert.ok(given.every(([, tx]) => tx === handle), 'the very handle the repository was given, not a copy');
  });

  test('an effect of an unknown kind is dead at once', async () => {
    const env = setup();
    const d = dispatcher(env, {});
    const id = env.outbox.enqueue({ kind: 'nobody.handles.this', queue: 'q', payload: null });
    d.start();
    await d.idle(2000);
    await d.stop(100);
    assert.equal(env.outbox.get(id)?.status, 'dead');
    assert.equal(env.outbox.get(id)?.lastError, 'no handler for effect kind "nobody.handles.this"');
    assert.equal(d.stats.dead, 1);
  });

  test('an effect still failing after the max retry age is given up as dead', async () => {
    const env = setup();
    const errors: Error[] = [];
    const d = dispatcher(
      env,
      {
        k: {
          run: async () => {
            throw new RetryableError('503');
          },
          onDead: (_e, err) => errors.push(err),
        },
      },
      { maxRetryAgeMs: 60_000 },
    );
    const young = env.outbox.enqueue({ kind: 'k', queue: 'young', payload: null });
    env.clock.t = T0 - 60_001;
    const old = env.outbox.enqueue({ kind: 'k', queue: 'old', payload: null });
    env.clock.t = T0 - 60_000;
    const justInTime = env.outbox.enqueue({ kind: 'k', queue: 'edge', payload: null });
    env.clock.t = T0;
    d.start();
    await d.idle(2000);
    await d.stop(100);
    assert.equal(env.outbox.get(young)?.status, 'pending');
    assert.equal(env.outbox.get(justInTime)?.status, 'pending', 'exactly the max age is still retried');
    assert.equal(env.outbox.get(old)?.status, 'dead');
    assert.equal(env.outbox.get(old)?.lastError, 'gave up after 1 attempts: 503');
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof PermanentError);
  });

  test(
    'a revived effect is retried again, not buried at its first transient failure',
    async () => {
      const env = setup();
      const d = dispatcher(
        env,
        {
          k: {
            run: async () => {
              throw new RetryableError('503');
            },
          },
        },
        { maxRetryAgeMs: 60_000 },
      );
      const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
      env.outbox.claim(1, 1000);
      env.outbox.bury(held(env.outbox, id), 'gave up after 40 attempts: 503'); // as it was after a long outage
      env.clock.t = T0 + 3_600_000; // an admin fixes the cause and retries it an hour later
      assert.equal(env.outbox.revive(id), true);
      d.start();
      await d.idle(2000);
      await d.stop(100);
      assert.equal(env.outbox.get(id)?.status, 'pending', 'one 503 after revival is retried with backoff');
    },
  );

  test('a comment never runs before its issue (same queue), even when the issue is retried', async () => {
    const env = setup();
    const order: string[] = [];
    let issueTries = 0;
    const d = dispatcher(env, {
      'jira.create': {
        run: async () => {
          issueTries++;
          order.push(`create#${issueTries}`);
          if (issueTries === 1) throw new RetryableError('503');
          return { key: 'ACC-1' };
        },
      },
      'jira.comment': {
        run: async () => {
          order.push('comment');
        },
      },
    });
    const issue = env.outbox.enqueue({ kind: 'jira.create', queue: 'jira:R1', payload: null });
    env.outbox.enqueue({ kind: 'jira.comment', queue: 'jira:R1', payload: null });
    d.start();
    // Not idle(): the comment behind the dead issue is blocked, not due; drive the claim directly.
    await waitFor('the first try to be retried', () => env.outbox.get(issue)?.lastError === '503');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(order, ['create#1'], 'the comment waits behind the retrying issue');
    env.clock.t = env.outbox.get(issue)!.availableAt;
    d.wake();
    await waitFor('the comment', () => order.length === 3);
    await d.stop(100);
    assert.deepEqual(order, ['create#1', 'create#2', 'comment']);
  });

  test('effects of one queue run one at a time, in order; other queues run alongside', async () => {
    const env = setup();
    const running = new Map<string, number>();
    let overlapInQueue = false;
    let maxParallel = 0;
    const order: string[] = [];
    const d = dispatcher(env, {
      k: {
        run: async (e) => {
          const p = e.payload as { q: string; n: number };
          const now = (running.get(p.q) ?? 0) + 1;
          running.set(p.q, now);
          if (now > 1) overlapInQueue = true;
          maxParallel = Math.max(maxParallel, [...running.values()].reduce((a, b) => a + b, 0));
          await new Promise((r) => setTimeout(r, 3));
          order.push(`${p.q}${p.n}`);
          running.set(p.q, (running.get(p.q) ?? 1) - 1);
        },
      },
    });
    for (let n = 1; n <= 3; n++) {
      env.outbox.enqueue({ kind: 'k', queue: 'a', payload: { q: 'a', n } });
      env.outbox.enqueue({ kind: 'k', queue: 'b', payload: { q: 'b', n } });
    }
    d.start();
    await waitFor('all six effects', () => order.length === 6);
    await d.stop(100);
    assert.equal(overlapInQueue, false);
    assert.deepEqual(
      order.filter((x) => x.startsWith('a')),
      ['a1', 'a2', 'a3'],
    );
    assert.deepEqual(
      order.filter((x) => x.startsWith('b')),
      ['b1', 'b2', 'b3'],
    );
    assert.equal(maxParallel, 2, 'the two queues ran side by side');
  });

  test('a stale worker whose lease ran out cannot complete, retry or bury: its onDone does not run', async () => {
    const env = withMarks();
    const LEASE = 60_000; // renewed every 20 s of real time: never within this test
    let finish: (how: 'ok' | 'retry' | 'dead') => void = () => undefined;
    let started = false;
    const d = dispatcher(
      env,
      {
        k: {
          run: () =>
            new Promise((resolve, reject) => {
              started = true;
              finish = (how) => (how === 'ok' ? resolve('stale') : reject(how === 'retry' ? new RetryableError('503') : new PermanentError('gone')));
            }),
          onDone: () => void env.db.prepare('INSERT INTO marks (what) VALUES (?)').run('onDone'),
          onDead: () => void env.db.prepare('INSERT INTO marks (what) VALUES (?)').run('onDead'),
        },
      },
      { leaseMs: LEASE },
    );
    for (const how of ['ok', 'retry', 'dead'] as const) {
      started = false;
      const id = env.outbox.enqueue({ kind: 'k', queue: `q-${how}`, payload: null });
      d.start();
      await waitFor('the handler to start', () => started);
      // The worker stalls past its lease; another worker claims the effect.
      env.clock.t += LEASE;
      const [second] = env.outbox.claim(1, LEASE, `q-${how}`);
      assert.equal(second?.id, id);
      finish(how);
      await d.stop(1000);
      assert.equal(env.outbox.get(id)?.status, 'running', `${how}: the stale outcome was refused`);
      assert.equal(env.outbox.get(id)?.attempts, 2);
      assert.deepEqual(marks(env.db), [], `${how}: no follow-up from the stale run`);
      // The current holder records the outcome.
      assert.equal(env.outbox.complete(second, 'fresh'), true);
      assert.equal(env.outbox.get(id)?.status, 'done');
    }
    assert.deepEqual(d.stats.byKind.k ?? { ok: 0, retry: 0, dead: 0 }, { ok: 0, retry: 0, dead: 0 });
  });

  test('a slow handler running longer than leaseMs keeps its lease: no other worker claims it, it runs once', async () => {
    const env = setup();
    const LEASE = 90; // renewed every 30 ms
    let finish: () => void = () => undefined;
    let runs = 0;
    const d = dispatcher(env, { k: { run: () => new Promise<void>((resolve) => ((runs += 1), (finish = resolve))) } }, { leaseMs: LEASE });
    const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    d.start();
    await waitFor('the handler to start', () => runs === 1);
    // Three leases' worth of (test-clock) time, each step shorter than a lease, with a renewal in each.
    for (let i = 0; i < 5; i++) {
      env.clock.t += LEASE * 0.6;
      await waitFor('the lease to be renewed', () => raw(env.db, id).lease_until === env.clock.t + LEASE);
      assert.deepEqual(env.outbox.claim(1, LEASE), [], 'another worker finds the effect leased');
    }
    finish();
    await d.idle(2000);
    await d.stop(100);
    assert.equal(env.outbox.get(id)?.status, 'done');
    assert.equal(env.outbox.get(id)?.attempts, 1);
    assert.equal(runs, 1);
  });

  test('an effect left running by a crashed process is run again when the dispatcher starts', async () => {
    const env = setup();
    const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    env.outbox.claim(1, 120_000); // the previous process leased it and died
    let runs = 0;
    const d = dispatcher(env, {
      k: {
        run: async () => {
          runs++;
        },
      },
    });
    d.start();
    await d.idle(2000);
    await d.stop(100);
    assert.equal(runs, 1);
    assert.equal(env.outbox.get(id)?.status, 'done');
    assert.equal(env.outbox.get(id)?.attempts, 2);
  });

  test('an effect enqueued while running is picked up without waiting for the poll', async () => {
    const env = setup();
    let runs = 0;
    const d = dispatcher(env, { k: { run: async () => void runs++ } }, { idlePollMs: 60_000 });
    d.start();
    await new Promise((r) => setTimeout(r, 5));
    env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    await waitFor('the enqueued effect', () => runs === 1, 1000);
    await d.stop(100);
  });

  test('stop() gives back the leases of effects still in flight', async () => {
    const env = setup();
    let finish: () => void = () => undefined;
    let started = false;
    const d = dispatcher(env, {
      k: {
        run: () =>
          new Promise<void>((resolve) => {
            started = true;
            finish = resolve;
          }),
      },
    });
    const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    // The hung handler holds no timer or socket; stand in for the HTTP server that keeps a real process alive.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      d.start();
      await waitFor('the handler to start', () => started);
      assert.equal(env.outbox.get(id)?.status, 'running');
      await d.stop(20);
      assert.equal(d.isRunning, false);
      assert.equal(env.outbox.get(id)?.status, 'pending', 'the next process may claim it at once');
      assert.equal(raw(env.db, id).lease_until, null);
    } finally {
      finish();
      clearInterval(keepAlive);
    }
  });

  test('stop() waits for effects that finish within the grace period', async () => {
    const env = setup();
    const d = dispatcher(env, { k: { run: () => new Promise((r) => setTimeout(() => r('late but fine'), 15)) } });
    const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    d.start();
    await waitFor('the handler to start', () => env.outbox.get(id)?.status === 'running');
    await d.stop(1000);
    assert.equal(env.outbox.get(id)?.status, 'done');
  });

  test('a stopped dispatcher claims nothing more', async () => {
    const env = setup();
    let runs = 0;
    const d = dispatcher(env, { k: { run: async () => void runs++ } });
    d.start();
    await d.stop(100);
    env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(runs, 0);
  });

  test(
    'idle() resolves while a dead effect holds back its queue',
    async () => {
      const env = setup();
      let followerRan = false;
      const d = dispatcher(env, {
        head: {
          run: async () => {
            throw new PermanentError('gone');
          },
        },
        follower: { run: async () => void (followerRan = true) },
      });
      env.outbox.enqueue({ kind: 'head', queue: 'jira:q', payload: null });
      env.outbox.enqueue({ kind: 'follower', queue: 'jira:q', payload: null });
      d.start();
      try {
        await d.idle(300);
        assert.equal(followerRan, false);
      } finally {
        await d.stop(50);
      }
    },
  );
});

describe('dispatcher over an asynchronous outbox: shutdown', () => {
  test('stop() waits for a claim still unanswered: what it took runs within the grace, nothing after', async () => {
    const env = setup();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let claims = 0;
    const base = asyncOutbox(env);
    const outbox: DispatcherOutbox = {
      ...base,
      claimEach: async (parts, leaseMs) => {
        claims += 1;
        await gate;
        return base.claimEach(parts, leaseMs);
      },
    };
    let stopped = false;
    const runs: boolean[] = [];
    const d = new Dispatcher({ outbox, handlers: { k: { run: async () => void runs.push(stopped) } }, logger: silent, now: () => env.clock.t, idlePollMs: 5 });
    const id = env.outbox.enqueue({ kind: 'k', queue: 'q', payload: null });
    d.start();
    await waitFor('the claim to be asked', () => claims === 1);
    const stopping = d.stop(1000);
    open();
    await stopping;
    stopped = true;
    assert.deepEqual(runs, [false], 'the effect the claim took ran before stop() returned');
    assert.equal(env.outbox.get(id)?.status, 'done');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(runs, [false], 'and nothing ran after');
  });
});
