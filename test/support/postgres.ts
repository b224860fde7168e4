/**
 * A real Postgres server for the tests (never a mock). `TEST_DATABASE_URL` names one when set (CI
 * starts Debian's package, .ci/run); otherwise a throwaway cluster is created in a temp dir
 * (initdb + pg_ctl on a free port) once per test process and stopped when the process exits.
 * When neither is possible, `createTestDatabase` throws saying why: the Postgres tests fail, they
 * are never skipped.
 *
 * Each caller gets a database of its own (`CREATE DATABASE` on the server), so tests never see
 * each other's rows.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { SyncPg } from '../../src/adapters/postgres/bridge.js';

const PG_BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/14/bin'];

let server: string | undefined;
let counter = 0;

/** The server's admin URL (its `postgres` database), starting a throwaway cluster if needed. */
export function testServerUrl(): string {
  server ??= process.env.TEST_DATABASE_URL || startCluster();
  return server;
}

/** A new, empty database on the test server; returns its URL. */
export function createTestDatabase(prefix = 'ab'): string {
  const admin = testServerUrl();
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const pg = new SyncPg(admin, { timeoutMs: 30_000 });
  try {
    pg.query(`CREATE DATABASE ${name}`);
  } finally {
    pg.close();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by `createTestDatabase` (connections still open to it are ended). */
export function dropTestDatabase(url: string): void {
  // KEEP_TEST_DATABASES=1 keeps them for a look afterwards (with TEST_DATABASE_URL: a throwaway cluster goes anyway).
  if (process.env.KEEP_TEST_DATABASES === '1') return;
  const name = new URL(url).pathname.slice(1);
  const pg = new SyncPg(testServerUrl(), { timeoutMs: 30_000 });
  try {
    // Our own connections are ended first; then a plain DROP, which makes an autovacuum worker on
    // the database leave by itself. `WITH (FORCE)` would instead try to end that worker too and
    // fail without pg_signal_backend ("must be a member of the role whose process is being
    // terminated"): a fresh-clone CI run met exactly that.
    pg.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()', [name]);
    pg.query(`DROP DATABASE IF EXISTS ${name}`);
  } finally {
    pg.close();
  }
}

function pgBin(): string {
  const dir = PG_BIN_DIRS.find((d) => existsSync(join(d, 'initdb')));
  if (!dir) {
    throw new Error(
      'Postgres tests need a server: set TEST_DATABASE_URL=postgres://user:pass@host:port/db, or install PostgreSQL (apt-get install postgresql) so a throwaway cluster can be started; initdb was not found in ' +
        PG_BIN_DIRS.join(', '),
    );
  }
  return dir;
}

/** Runs a command as the `postgres` user when we are root (initdb refuses root). */
function asServerUser(cmd: string[]): { status: number | null; output: string } {
  const root = userInfo().uid === 0;
  const r = root
    ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')], { encoding: 'utf8' })
    : spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function freePort(): number {
  const r = spawnSync(process.execPath, ['-e', "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"], { encoding: 'utf8' });
  const port = Number(r.stdout.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not find a free port: ${r.stderr}`);
  return port;
}

function startCluster(): string {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-pg-'));
  const data = join(dir, 'data');
  if (userInfo().uid === 0) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error('running as root, Postgres tests need a `postgres` user to run the throwaway cluster (or set TEST_DATABASE_URL)');
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  const init = asServerUser([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  if (init.status !== 0) throw new Error(`initdb failed, so no throwaway Postgres cluster for the tests (set TEST_DATABASE_URL instead):\n${init.output}`);
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    const start = asServerUser([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '30', 'start']);
    if (start.status === 0) {
      let stopped = false;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        asServerUser([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']);
        rmSync(dir, { recursive: true, force: true });
      };
      process.on('exit', stop);
      // A test process ended by a signal (the runner's timeout) stops its cluster too, then dies of it.
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
        process.once(sig, () => {
          stop();
          process.kill(process.pid, sig);
        });
      }
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    }
    lastError = start.output;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start a throwaway Postgres cluster (set TEST_DATABASE_URL instead):\n${lastError}`);
}
