import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JiraEmulator } from '../emulators/jira.js';
import { OktaEmulator } from '../emulators/okta.js';
import { SlackEmulator } from '../emulators/slack.js';
import { BOT_TOKEN, DEFAULT_CATALOG, JIRA_TOKEN, OKTA_TOKEN, SIGNING_SECRET } from '../support/harness.js';

function run(env: Record<string, string>, opts: { until?: RegExp; timeoutMs?: number } = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${out}`)), opts.timeoutMs ?? 20_000);
    child.stdout.on('data', () => {
      if (opts.until?.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => clearTimeout(timer));
  });
  return { child, exited, ready, output: () => out };
}

describe('the process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-proc-'));
  const slack = new SlackEmulator({ botToken: BOT_TOKEN });
  const jira = new JiraEmulator({ apiToken: JIRA_TOKEN });
  const okta = new OktaEmulator({ token: OKTA_TOKEN });
  let env: Record<string, string>;

  before(async () => {
    await Promise.all([slack.start(), jira.start(), okta.start()]);
    writeFileSync(join(dir, 'catalog.yaml'), DEFAULT_CATALOG);
    env = {
      PORT: '0',
      DATABASE_PATH: join(dir, 'bot.db'),
      ACCESS_CATALOG: join(dir, 'catalog.yaml'),
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `${slack.url}/api/`,
      JIRA_HOST: jira.url,
      JIRA_EMAIL: 'access-bot@example.com',
      JIRA_API_TOKEN: JIRA_TOKEN,
      OKTA_ORG_URL: okta.url,
      OKTA_API_TOKEN: OKTA_TOKEN,
    };
  });
  after(async () => {
    await Promise.all([slack.stop(), jira.stop(), okta.stop()]);
  });

  test('start-up fails fast with one line per problem', async () => {
    const { SLACK_BOT_TOKEN: _a, JIRA_HOST: _b, ...rest } = env;
    const p = run({ ...rest, PORT: 'abc' });
    const { code, out } = await p.exited;
    assert.equal(code, 1);
    const lines = out.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(':').slice(0, 2).join(':')).sort(), ['config error: JIRA_HOST', 'config error: PORT', 'config error: SLACK_BOT_TOKEN']);
  });

  test('a bad catalog entry is named by its path; no secret is printed', async () => {
    writeFileSync(join(dir, 'bad.yaml'), DEFAULT_CATALOG.replace('durations: [30m, 1h]', 'durations: [30m, 5x]').replace('connector: okta, group: 00g1readonly', 'connector: entra, group: 00g1readonly'));
    const p = run({ ...env, ACCESS_CATALOG: join(dir, 'bad.yaml') });
    const { code, out } = await p.exited;
    assert.equal(code, 1);
    assert.match(out, /catalog error: applications\[0\]\.roles\[1\]\.durations\[1\]: "5x" is not a duration/);
    assert.match(out, /catalog error: applications\[0\]\.roles\[0\]\.grant\.connector: "entra" is not configured/);
    for (const s of [BOT_TOKEN, SIGNING_SECRET, OKTA_TOKEN, JIRA_TOKEN]) assert.ok(!out.includes(s));
  });

  test('one process per database: a second bot on the same database refuses to start, naming the database and the holder\'s pid', async () => {
    const db = join(dir, 'locked', 'bot.db');
    const first = run({ ...env, DATABASE_PATH: db }, { until: /access-bot ready/ });
    try {
      await first.ready;
      const second = run({ ...env, DATABASE_PATH: db });
      const { code, out } = await second.exited;
      assert.equal(code, 1);
      assert.equal(out.trim().split('\n').length, 1, `one line: ${out}`);
      assert.match(out.trim(), new RegExp(`^access-bot failed to start: database ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another access-bot process \\(pid ${first.child.pid}\\)`));
      // The first one is untouched and still serving.
      const port = /"port":(\d+)/.exec(first.output())![1];
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
    // The lock goes with its process: the next one starts.
    const third = run({ ...env, DATABASE_PATH: db }, { until: /access-bot ready/ });
    await third.ready;
    third.child.kill('SIGTERM');
    assert.equal((await third.exited).code, 0);
  });

  test('the database, its -wal and -shm, and its lock file are created readable by the owner only (0600)', async () => {
    const sub = join(dir, 'modes');
    mkdirSync(sub);
    const db = join(sub, 'bot.db');
    const p = run({ ...env, DATABASE_PATH: db }, { until: /access-bot ready/ });
    try {
      await p.ready;
      for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.lock`]) assert.equal((statSync(f).mode & 0o777).toString(8), '600', f);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  test('start-up warms up the Slack request path before /healthz answers: nothing reaches Slack, Jira or Okta, nothing is written, nothing is logged', async () => {
    const db = join(dir, 'warm-up', 'bot.db');
    const calls = () => slack.calls.length + jira.calls.length + okta.calls.length;
    const before = calls();
    const p = run({ ...env, DATABASE_PATH: db, LOG_LEVEL: 'debug' }, { until: /access-bot ready/ });
    try {
      await p.ready;
      const ready = p.output().split('\n').find((l) => l.includes('access-bot ready'))!;
      const warmUpMs = (JSON.parse(ready) as { warmUpMs?: unknown }).warmUpMs;
      assert.ok(typeof warmUpMs === 'number' && warmUpMs > 0, `the ready line says how long the warm-up took: ${ready}`);
      assert.equal(calls(), before, 'no call to a service');
      const lines = p.output().trim().split('\n');
      assert.deepEqual(lines.filter((l) => /"level":(?:[4-9]\d)/.test(l) || /ssl_check|warm/i.test(l.replace(/"warmUpMs":\d+/, ''))), [], 'no warning, and no line about the warm-up requests');
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    const conn = new Database(db, { readonly: true });
    try {
      for (const table of ['requests', 'audit_events', 'outbox', 'inbound_seen']) assert.equal(conn.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get(), 0, table);
    } finally {
      conn.close();
    }
  });

  test('/metrics needs Authorization: Bearer $METRICS_TOKEN when it is set (401 with a Bearer challenge otherwise); /healthz stays open; the token is never logged', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const p = run({ ...env, DATABASE_PATH: join(dir, 'metrics-token.db'), METRICS_TOKEN: token }, { until: /access-bot ready/ });
    try {
      await p.ready;
      const base = `http://127.0.0.1:${/"port":(\d+)/.exec(p.output())![1]}`;
      const metrics = (authorization?: string) => fetch(`${base}/metrics`, { headers: authorization === undefined ? {} : { authorization } });
      const refused: [string, string | undefined, RegExp][] = [
        ['no Authorization header', undefined, /^Bearer realm="access-bot"$/],
        ['a wrong token of the same length', `Bearer ${'x'.repeat(token.length)}`, /^Bearer realm="access-bot", error="invalid_token"$/],
        ['the token with one more character', `Bearer ${token}0`, /error="invalid_token"/],
        ['the token cut short', `Bearer ${token.slice(0, -1)}`, /error="invalid_token"/],
        ['the token under another scheme', `Basic ${Buffer.from(`metrics:${token}`).toString('base64')}`, /error="invalid_token"/],
        ['the token without a scheme', token, /error="invalid_token"/],
      ];
      for (const [name, authorization, challenge] of refused) {
        const r = await metrics(authorization);
        assert.equal(r.status, 401, name);
        assert.match(r.headers.get('www-authenticate') ?? '', challenge, name);
        assert.doesNotMatch(await r.text(), /access_bot_/, name);
      }
      for (const authorization of [`Bearer ${token}`, `bearer ${token}`]) {
        const r = await metrics(authorization);
        assert.equal(r.status, 200, authorization);
        assert.match(await r.text(), /# TYPE access_bot_outbox_effects gauge/);
      }
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    assert.match(p.output(), /refused a request without the bearer token/);
    assert.ok(!p.output().includes(token), 'the metrics token is never logged');
  });

  test('METRICS_PORT serves /metrics on that port only, still behind the token; PORT answers 404 for it and keeps /healthz open', async () => {
    const token = 'metrics-token-from-a-file-4242';
    const tokenFile = join(dir, 'metrics-token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const p = run({ ...env, DATABASE_PATH: join(dir, 'metrics-port.db'), METRICS_PORT: '0', METRICS_TOKEN_FILE: tokenFile }, { until: /access-bot ready/ });
    try {
      await p.ready;
      const main = `http://127.0.0.1:${/"port":(\d+)/.exec(p.output())![1]}`;
      const metricsPort = /"metricsPort":(\d+)/.exec(p.output())?.[1];
      assert.ok(metricsPort, `the ready line names the metrics port: ${p.output()}`);
      const side = `http://127.0.0.1:${metricsPort}`;
      assert.notEqual(side, main);
      const bearer = { authorization: `Bearer ${token}` };
      assert.equal((await fetch(`${main}/metrics`, { headers: bearer })).status, 404, 'not on PORT');
      assert.equal((await fetch(`${main}/healthz`)).status, 200, '/healthz stays on PORT, open');
      const open = await fetch(`${side}/metrics`);
      assert.equal(open.status, 401);
      assert.match(open.headers.get('www-authenticate') ?? '', /^Bearer /);
      const ok = await fetch(`${side}/metrics`, { headers: bearer });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /# TYPE access_bot_outbox_effects gauge/);
      assert.equal((await fetch(`${side}/healthz`)).status, 404, 'the metrics port serves /metrics and nothing else');
      assert.equal((await fetch(`${side}/metrics`, { method: 'POST', headers: bearer, body: 'x' })).status, 405);
    } finally {
      p.child.kill('SIGTERM');
      assert.equal((await p.exited).code, 0);
    }
    assert.ok(!p.output().includes(token), 'the metrics token is never logged');
  });

  test('SIGHUP reloads the catalog: a good file is in force at once, a bad one is refused and the last good one stays', async () => {
    // The catalog is a symlink into another directory, where the file watch sees no change:
    // SIGHUP is how the operator says "read it again".
    const real = join(mkdtempSync(join(tmpdir(), 'access-bot-catalog-')), 'catalog.yaml');
    writeFileSync(real, DEFAULT_CATALOG);
    const link = join(dir, 'sighup', 'catalog.yaml');
    mkdirSync(join(dir, 'sighup'));
    symlinkSync(real, link);
    const p = run({ ...env, DATABASE_PATH: join(dir, 'sighup', 'bot.db'), ACCESS_CATALOG: link }, { until: /access-bot ready/ });
    try {
      await p.ready;
      const logged = (re: RegExp) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${re} in: ${p.output()}`)), 10_000);
          const check = () => {
            if (!re.test(p.output())) return;
            clearTimeout(timer);
            p.child.stdout.off('data', check);
            resolve();
          };
          p.child.stdout.on('data', check);
          check();
        });
      writeFileSync(real, DEFAULT_CATALOG.replace('id: okta-console', 'id: okta-admin'));
      p.child.kill('SIGHUP');
      await logged(/"reason":"SIGHUP".*"applications":\["okta-admin"\].*"msg":"catalog reloaded"/);
      writeFileSync(real, DEFAULT_CATALOG.replace('durations: [30m, 1h]', 'durations: [30m, 5x]'));
      p.child.kill('SIGHUP');
      await logged(/"reason":"SIGHUP".*applications\[0\]\.roles\[1\]\.durations\[1\]: \\"5x\\" is not a duration.*"msg":"catalog edit refused; keeping the last good catalog"/);
      const port = /"port":(\d+)/.exec(p.output())![1];
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'still serving');
    } finally {
      p.child.kill('SIGTERM');
      assert.equal((await p.exited).code, 0);
    }
  });

  test('/healthz answers once ready, /metrics speaks Prometheus text, SIGTERM exits 0 within 10 s', async () => {
    const p = run(env, { until: /access-bot ready/ });
    await p.ready;
    const port = /"port":(\d+)/.exec(p.output())![1];
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    // Idle connections are kept longer than a proxy's usual 60 s, so the server never closes
    // one that a client (Slack, a load balancer) is about to reuse; SIGTERM still exits at once.
    assert.equal(health.headers.get('keep-alive'), 'timeout=65');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /# TYPE access_bot_outbox_effects gauge/);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 10_000);
    assert.match(p.output(), /"msg":"access-bot stopped"/);
    for (const s of [BOT_TOKEN, SIGNING_SECRET, OKTA_TOKEN, JIRA_TOKEN]) assert.ok(!p.output().includes(s), 'no secret in logs');
  });
});
