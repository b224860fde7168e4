/**
 * The App Home's Block Kit: however long the lists, the view stays within a Home tab's 100 blocks
 * (checked by the Slack emulator's validator, which cites Slack's limits) and says how many more
 * there are; block ids are unique; outside text is escaped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HomeList, HomeModel } from '../../src/app/home.js';
import type { RequestRecord } from '../../src/app/ports/store.js';
import { homeView } from '../../src/adapters/slack/homeView.js';
import { checkView, type Problem } from '../emulators/slack/blockKit.js';

function request(i: number): RequestRecord {
  return { id: `req_home${String(i).padStart(6, '0')}`, appName: 'Okta admin console', roleName: 'Read-only', state: 'active' } as RequestRecord;
}

function longList(n: number, from: number, text = (i: number) => `ACC-${i}: a request`): HomeList {
  return { items: Array.from({ length: Math.min(n, 50) }, (_, k) => ({ request: request(from + k), text: text(from + k) })), total: n };
}

function model(n: number): HomeModel {
  const active = longList(n, 2000);
  const ids = new Set(active.items.map((i) => i.request.id));
  return {
    waitingForMe: longList(n, 1000),
    pending: longList(n, 3000),
    active: { ...active, revocable: ids, extendable: ids },
    approvedByMe: longList(n, 4000),
    ended: longList(n, 5000),
    forOthers: longList(n, 6000),
  };
}

test('a Home with long lists stays within 100 blocks and says how many more there are', () => {
  const view = homeView(model(500));
  const problems: Problem[] = [];
  checkView(view, 'home', 'access-bot', problems);
  assert.deepEqual(problems, []);
  assert.ok(view.blocks.length <= 100, `${view.blocks.length} blocks`);
  const text = JSON.stringify(view.blocks);
  assert.match(text, /…and 488 more/, 'waiting for me: 12 shown');
  assert.match(text, /…and 488 more/, 'pending: 12 shown');
  assert.match(text, /…and 490 more/, 'active, approved by me, ended: 10 shown');
  assert.match(text, /…and 494 more/, 'requests made for others: 6 shown');
  const ids = view.blocks.map((b) => b.block_id).filter((id): id is string => id !== undefined);
  assert.equal(new Set(ids).size, ids.length, 'block ids are unique');
});

test('an empty Home says so in each list and offers Request access', () => {
  const empty: HomeList = { items: [], total: 0 };
  const view = homeView({ waitingForMe: empty, pending: empty, active: { ...empty, revocable: new Set(), extendable: new Set() }, approvedByMe: empty, ended: empty, forOthers: empty });
  const text = JSON.stringify(view.blocks);
  assert.match(text, /Nothing is waiting for your decision/);
  assert.match(text, /You have no pending requests/);
  assert.ok(!text.includes('Requests you made for others'), 'that list shows only for someone who made one');
  assert.match(text, /"action_id":"home_request_access"/);
});

test("the Home escapes outside text: a requester's name never pings or links", () => {
  const m = model(1);
  m.waitingForMe = longList(1, 1, () => 'ACC-1: <!channel> requests <https://evil|x>');
  const text = JSON.stringify(homeView(m).blocks);
  assert.ok(!text.includes('<!channel>'));
  assert.match(text, /&lt;!channel&gt; requests &lt;https:\/\/evil\|x&gt;/);
});
