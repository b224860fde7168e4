/** Awaits `p`, which must reject with an instance of `type`; resolves that error for further checks. */
import assert from 'node:assert/strict';

export async function rejectsWith<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${type.name}, but it resolved`);
}
