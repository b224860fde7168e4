import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessHelp, parseAccessCommand, parseRequestName } from '../../src/domain/command.js';
import { describeLeft } from '../../src/app/requestView.js';

test('/access subcommands parse; anything else is the help naming what was typed', () => {
  assert.deepEqual(parseAccessCommand(''), { kind: 'modal' });
  assert.deepEqual(parseAccessCommand('  request '), { kind: 'modal' });
  assert.deepEqual(parseAccessCommand('HELP'), { kind: 'help' });
  assert.deepEqual(parseAccessCommand('remove'), { kind: 'removal_modal' });
  assert.deepEqual(parseAccessCommand(' Change '), { kind: 'change_modal' });
  assert.deepEqual(parseAccessCommand('remove ACC-3'), { kind: 'help', notUnderstood: 'remove ACC-3' });
  assert.deepEqual(parseAccessCommand('list'), { kind: 'list' });
  assert.deepEqual(parseAccessCommand('status acc-12'), { kind: 'status', request: { jiraKey: 'ACC-12' } });
  assert.deepEqual(parseAccessCommand('cancel req_abcdef12'), { kind: 'cancel', request: { requestId: 'req_abcdef12' } });
  assert.deepEqual(parseAccessCommand('status <https://x.atlassian.net/browse/ACC-7|ACC-7>'), { kind: 'status', request: { jiraKey: 'ACC-7' } });
  assert.deepEqual(parseAccessCommand('extend ACC-12 4h'), { kind: 'extend', request: { jiraKey: 'ACC-12' }, duration: { token: '4h', ms: 4 * 3_600_000 } });
  for (const text of ['extend ACC-12 permanent', 'extend ACC-12', 'extend ACC-12 4x', 'cancel', 'cancel ACC-12 now', 'status ACC', 'list all', 'request now', 'frobnicate']) {
    assert.deepEqual(parseAccessCommand(text), { kind: 'help', notUnderstood: text }, text);
  }
  assert.equal(parseRequestName('ACC-0'), undefined);
  assert.match(accessHelp('zz'), /^access-bot did not understand "zz"\./);
});

test('time left reads in its two largest units', () => {
  assert.equal(describeLeft(0), '0 seconds');
  assert.equal(describeLeft(40_000), '40 seconds');
  assert.equal(describeLeft(3_600_000 + 10 * 60_000 + 5000), '1 hour 10 minutes');
  assert.equal(describeLeft(2 * 86_400_000 + 5000), '2 days');
  assert.equal(describeLeft(90_000), '1 minute 30 seconds');
});
