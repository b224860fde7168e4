import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmulatorServer, stopAll } from '../emulators/base.js';
import { OktaEmulator } from '../emulators/okta.js';

async function started(name: string): Promise<EmulatorServer> {
  const emu = new EmulatorServer(name).route('GET', '/things/:id', (req) => (req.params['id'] === 'known' ? { body: { id: 'known' } } : { status: 404, body: { error: 'no such thing' } }));
  await emu.start();
  return emu;
}

test('a request no route expects fails the emulator on stop, naming its method and path', async () => {
  const emu = await started('things');
  const res = await fetch(`${emu.url}/nothing/here?x=1`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 404, 'the client still gets the 404');
  assert.deepEqual(emu.unexpected, [{ method: 'POST', path: '/nothing/here' }]);
  await assert.rejects(emu.stop(), /emulator things: 1 request\(s\) no route expects: POST \/nothing\/here/);
});

test('a 404 a route answers on purpose is not an unexpected request', async () => {
  const emu = await started('things');
  assert.equal((await fetch(`${emu.url}/things/known`)).status, 200);
  assert.equal((await fetch(`${emu.url}/things/missing`)).status, 404);
  assert.deepEqual(emu.unexpected, []);
  await emu.stop();
});

test("Okta's 404 for an unknown user is a route, not an unexpected request", async () => {
  const okta = new OktaEmulator({ token: 'okta-token-0123456789' });
  await okta.start();
  const res = await fetch(`${okta.url}/api/v1/users/00unobody`, { headers: { authorization: 'SSWS okta-token-0123456789', accept: 'application/json' } });
  assert.equal(res.status, 404);
  await okta.stop();
});

test('a request no route expects is recorded even when an injected fault answers it', async () => {
  const emu = await started('things');
  emu.inject({ status: 503 });
  assert.equal((await fetch(`${emu.url}/other`)).status, 503);
  await assert.rejects(emu.stop(), /GET \/other/);
});

test('a path served for one method is unexpected for another', async () => {
  const emu = await started('things');
  assert.equal((await fetch(`${emu.url}/things/known`, { method: 'DELETE' })).status, 404);
  await assert.rejects(emu.stop(), /DELETE \/things\/known/);
});

test('stopAll stops every emulator and reports what each one did not expect', async () => {
  const a = await started('first');
  const b = await started('second');
  const c = await started('third');
  await fetch(`${a.url}/a`);
  await fetch(`${c.url}/c`);
  const err = await stopAll([a, undefined, b, c]).then(
    () => assert.fail('stopAll resolved'),
    (e: unknown) => e as Error,
  );
  assert.match(err.message, /emulator first: .*GET \/a/);
  assert.match(err.message, /emulator third: .*GET \/c/);
  for (const emu of [a, b, c]) await assert.rejects(fetch(`${emu.url}/things/known`), 'every emulator stopped listening');
});
