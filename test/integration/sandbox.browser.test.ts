/**
 * The sandbox page in a real browser: headless Chromium (Debian's `chromium` package) driven by
 * playwright-core. A person's clicks go from the page to the sandbox server, which signs them as
 * Slack would; the test checks the grant lands in Okta and the steps on the Jira issue, that the
 * App Home tab shows what the bot published and its buttons work, and that a manager can request
 * for a report through the modal's users_select.
 * Skips when /usr/bin/chromium is missing (Playwright's own browser download is not used).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSandbox } from '../../demo/sandbox.js';

// Debian's package; CHROMIUM_PATH only to try the skip path or another build.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('sandbox: Alice requests through the modal, Bob approves, the grant shows in Okta and Jira; Alice revokes it from her App Home; Bob requests for Alice', { timeout: 90_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip('chromium not installed');
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-sandbox-'));
  const sb = await startSandbox({ port: 0, world: { databasePath: join(dir, 'sandbox.db'), logFile: null } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(10_000);
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(sb.url);

    // Alice opens /access and fills in the modal.
    await page.click('[data-person="alice"]');
    await page.fill('#composer-text', '/access');
    await page.click('#composer button[type="submit"]');
    const modal = page.locator('#modal');
    await modal.getByText('Request access').waitFor();
    assert.doesNotMatch(await modal.innerText(), /\bnull\b/, 'nothing empty is shown as text');
    await modal.locator('[data-block-id="application"] select').selectOption('okta-console');

    // Role and duration are external_selects: their options come from the bot (block_suggestion).
    await modal.locator('[data-block-id="role"] .ext-toggle').click();
    await modal.locator('[data-block-id="role"] .ext-menu button[data-value="super-admin"]').click();
    await modal.locator('[data-block-id="role"] .ext-toggle', { hasText: 'Super admin' }).waitFor();
    await modal.locator('[data-block-id="duration"] .ext-toggle').click();
    const options = await modal.locator('[data-block-id="duration"] .ext-menu button[role="option"]').allTextContents();
    assert.deepEqual(options, ['10 seconds', '1 hour', '4 hours']);
    await modal.locator('[data-block-id="duration"] .ext-menu button[data-value="1h"]').click();
    await modal.locator('[data-block-id="duration"] .ext-toggle', { hasText: '1 hour' }).waitFor();
    await modal.locator('[data-block-id="reason"] textarea').fill('Rotate the SCIM token for the HR integration');
    await modal.locator('.sk-submit').click();
    await page.locator('#modal-layer').waitFor({ state: 'hidden' });
    await page.locator('#conversation .msg', { hasText: 'was submitted' }).waitFor();

    // Bob, Alice's manager in Okta, approves from his DM.
    await page.click('[data-person="bob"]');
    const card = page.locator('#conversation .msg', { hasText: 'Alice Smith requests' });
    await card.locator('button[data-action-id="approve"]').click();
    await card.getByText('Approved by Bob Jones').waitFor();

    // Okta shows the membership; Jira shows each step in order.
    await page.locator('#okta [data-group-id="00g1superadm"] [data-okta-id="00u1alice"]').waitFor();
    const issue = page.locator('#jira .issue[data-key="ACC-1"]');
    await issue.locator('.comments li', { hasText: 'Access granted' }).waitFor();
    await issue.locator('.status', { hasText: 'Active' }).waitFor();
    const comments = await issue.locator('.comments li').allTextContents();
    const steps = ['Requested by Alice Smith', 'Approval requested from Bob Jones', 'Approved by Bob Jones', 'Access granted: okta group 00g1superadm for 00u1alice'];
    assert.equal(comments.length, steps.length, comments.join('\n'));
    steps.forEach((s, i) => assert.ok(comments[i]!.includes(s), `comment ${i + 1} should say "${s}": ${comments[i]}`));

    assert.equal(sb.world.okta.isMember('00g1superadm', '00u1alice'), true);

    // Alice's App Home: opening the tab sends app_home_opened and shows the Home the bot
    // published (views.publish); its Revoke now asks to confirm, as in Slack, and works as the DM's.
    await page.click('[data-person="alice"]');
    await page.click('#tabs button[data-tab="home"]');
    const home = page.locator('#conversation .home');
    await home.locator('.block', { hasText: 'ACC-1: Okta admin console / Super admin, 1 hour: active until' }).waitFor();
    await home.locator('.block.header', { hasText: 'Your access' }).waitFor();
    await page.locator('#composer').waitFor({ state: 'hidden' });
    await home.locator('button[data-action-id="revoke_access"]').click();
    await page.locator('.confirm .sk-submit', { hasText: 'Revoke' }).click();
    await page.locator('#okta [data-group-id="00g1superadm"] [data-okta-id="00u1alice"]').waitFor({ state: 'detached' });
    await issue.locator('.comments li', { hasText: 'Access revoked (by Alice Smith' }).waitFor();
    await home.locator('.block', { hasText: /ACC-1: Okta admin console \/ Super admin, 1 hour: ended .+ \(revoked by Alice Smith/ }).waitFor();
    assert.equal(sb.world.okta.isMember('00g1superadm', '00u1alice'), false);

    // Bob, Alice's manager, asks for access on her behalf ("For someone else", a users_select).
    await page.click('[data-person="bob"]');
    await page.click('#tabs button[data-tab="messages"]');
    await page.fill('#composer-text', '/access');
    await page.click('#composer button[type="submit"]');
    await modal.getByText('Request access').waitFor();
    await modal.locator('[data-block-id="application"] select').selectOption('aws-prod');
    await modal.locator('[data-block-id="role"] .ext-toggle').click();
    await modal.locator('[data-block-id="role"] .ext-menu button[data-value="read-only"]').click();
    await modal.locator('[data-block-id="role"] .ext-toggle', { hasText: 'Read-only' }).waitFor();
    await modal.locator('[data-block-id="duration"] .ext-toggle').click();
    await modal.locator('[data-block-id="duration"] .ext-menu button[data-value="8h"]').click();
    await modal.locator('[data-block-id="duration"] .ext-toggle', { hasText: '8 hours' }).waitFor();
    await modal.locator('[data-block-id="reason"] textarea').fill('Joins the on-call rota for AWS production');
    await modal.locator('[data-block-id="on_behalf"] select').selectOption({ label: 'Alice Smith' });
    await modal.locator('.sk-submit').click();
    await page.locator('#modal-layer').waitFor({ state: 'hidden' });
    await page.locator('#conversation .msg', { hasText: 'You asked for AWS production / Read-only for 8 hours on behalf of Alice Smith' }).waitFor();
    await page.locator('#jira .issue[data-key="ACC-2"] .comments li', { hasText: 'Requested by Bob Jones (bob@example.com) on behalf of Alice Smith (alice@example.com), as their manager' }).waitFor();

    // What the page shows is what happened.
    assert.deepEqual(problems, []);
    if (process.env.SANDBOX_SCREENSHOT) await page.screenshot({ path: process.env.SANDBOX_SCREENSHOT });
  } finally {
    await browser.close();
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
