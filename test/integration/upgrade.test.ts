/**
 * A database written before people existed (schema 006: requests and approvers keyed by Slack
 * id, messages in request columns) keeps working after the upgrade: the old pending request is
 * approved by its approver's click on the card they got before it, and that card is the one
 * updated.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { seedIssue } from '../../bench/seed.js';
import { openDatabase } from '../../src/adapters/sqlite/db.js';
import { migrate, readMigrations } from '../../src/adapters/sqlite/migrate.js';
import { parseCatalog } from '../../src/config/catalog.js';
import { DEFAULT_CATALOG, GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { bob, dave } = PEOPLE;
const SHIPPED = fileURLToPath(new URL('../../migrations', import.meta.url));
const OLD = 'req_oldpending0001';

describe('upgrade to people: a request written by schema 006 is decided after the upgrade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-upgrade-'));
  const path = join(dir, 'bot.db');
  const h = new Harness({ env: { DATABASE_PATH: path } });
  let card: ReturnType<typeof h.slack.addMessage>;

  before(async () => {
    // Bob's card as the bot posted it before the upgrade.
    card = h.slack.addMessage({
      channel: h.slack.imChannelFor(bob.slackId),
      user: h.slack.botUserId,
      text: 'Access request',
      blocks: [
        { type: 'section', block_id: `request:${OLD}`, text: { type: 'mrkdwn', text: 'Dave requests Okta admin console / Read-only' } },
        { type: 'actions', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: OLD }] },
      ],
    });
    const cat = parseCatalog(DEFAULT_CATALOG, { configuredConnectors: ['okta'] });
    assert.ok(cat.ok);
    const role = cat.catalog.applications.find((a) => a.id === 'okta-console')!.roles.find((r) => r.id === 'read-only')!;
    const db = openDatabase(path);
    migrate(db, readMigrations(SHIPPED).slice(0, 6));
    const t = Date.now() - 60_000;
    db.prepare(
      `INSERT INTO requests (id, submission_key, state, app_id, role_id, app_name, role_name, connector, group_id, duration_token, duration_ms,
        reason, policy_json, requester_slack_id, requester_email, requester_name, stage, jira_key, requester_dm_channel, requester_dm_ts,
        created_at, updated_at, stage_started_at)
       VALUES (?, 'V_OLD', 'pending', 'okta-console', 'read-only', 'Okta admin console', 'Read-only', 'okta', ?, '4h', 14400000,
        'Written before the upgrade', ?, ?, ?, ?, 0, 'ACC-1', 'D0DAVEOLD', '1.000001', ?, ?, ?)`,
    ).run(OLD, GROUPS.readOnly, JSON.stringify(role.approval), dave.slackId, dave.email, dave.name, t, t, t);
    db.prepare(`INSERT INTO approvers (request_id, stage, slack_id, email, name, asked_at, via, dm_channel, dm_ts) VALUES (?, 0, ?, ?, ?, ?, 'owners', ?, ?)`).run(
      OLD,
      bob.slackId,
      bob.email,
      bob.name,
      t,
      card.channel,
      card.ts,
    );
    db.close();
    await h.start();
    seedIssue(h.jira, 1, OLD, 'To Do');
  });
  after(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the old pending request is approved by its approver clicking the card posted before the upgrade, and the requester gets the access', async () => {
    const before = h.bot.store.getRequest(OLD);
    assert.equal(before?.requesterSlackId, dave.slackId, 'the requester became a person who keeps their Slack id');
    const res = await h.driver.clickButton(bob.slackId, card, 'approve');
    assert.equal(res.status, 200);
    await waitUntil(() => h.bot.store.getRequest(OLD)?.state === 'active', 10_000, 'granted');
    assert.ok(h.okta.isMember(GROUPS.readOnly, dave.oktaId), 'Dave is in the group');
    const [approver] = h.bot.store.approversOf(OLD);
    assert.deepEqual([approver?.slackId, approver?.email, approver?.decision], [bob.slackId, bob.email, 'approve']);
    // The card recorded before the upgrade (now a surface reference) is the one updated.
    await waitUntil(() => !JSON.stringify(h.slack.findMessage(card.channel, card.ts)?.blocks).includes('"action_id":"approve"'), 5000, 'card updated');
    assert.ok(h.jira.issues.get('ACC-1')?.comments.some((c) => JSON.stringify(c).includes(`Approved by ${bob.name}`)), 'the approval is on the issue');
  });
});
