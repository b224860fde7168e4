/**
 * Runs a suite written for the default store on Postgres: sets STORE=postgres before the suite's
 * module (and the harness it builds) is loaded, and checks a bot really came up on Postgres.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

export async function onPostgres(load: () => Promise<unknown>): Promise<void> {
  process.env.STORE = 'postgres';
  const { defaultStore } = await import('../../support/harness.js');
  test('this file runs its suite on Postgres', () => assert.equal(defaultStore(), 'postgres'));
  await load();
}
