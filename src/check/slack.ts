/** Slack: the bot token and its scopes, the app token, user groups, approvers' accounts and alert channels. */
import { LogLevel, WebClient, type WebAPICallResult } from '@slack/web-api';
import { DEFAULTS } from '../config/env.js';
import type { Config } from '../config/types.js';
import { joinAnd } from '../config/values.js';
import type { Catalog } from '../domain/catalog.js';
import { approverUses, rolesUsing } from './config.js';
import { item, listShort, type CheckItem } from './report.js';

/**
 * The bot token scopes the code uses, and why; `slack-manifest.json` requests exactly these (a
 * test keeps the two equal). Not requested: `im:write` (DMs are posted with the user id as
 * channel, which needs only chat:write; no conversations.open) and `chat:write.public` (the bot
 * is invited to the alert channels instead, which private channels need anyway).
 */
export const REQUIRED_BOT_SCOPES: Readonly<Record<string, string>> = {
  commands: 'the /access slash command',
  'chat:write': 'DMs to approvers and requesters, alerts, updating decided messages, ephemeral replies',
  'users:read': 'users.info: the requester’s name and whether an account is deactivated; the user_change event (offboarding)',
  'users:read.email': 'users.lookupByEmail and emails in users.info: people are matched to the IdP and the catalog by email',
  'usergroups:read': 'usergroups.list and usergroups.users.list: slack-group:<handle> approvers',
};

/** Lookups of approver emails beyond this are skipped (Slack's users.lookupByEmail is Tier 3). */
const MAX_EMAIL_LOOKUPS = 50;

export async function checkSlack(config: Config, catalog: Catalog | undefined, timeoutMs: number): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const client = slackClient(config.slack.botToken, config.slack.apiUrl, timeoutMs);
  let auth: WebAPICallResult & Record<string, unknown>;
  try {
    auth = (await client.auth.test()) as WebAPICallResult & Record<string, unknown>;
  } catch (err) {
    items.push(slackFailure('slack token', err, config));
    return items;
  }
  const botId = str(auth['bot_id']);
  const who = `@${str(auth['user']) ?? '?'} (${str(auth['user_id']) ?? '?'}) in ${str(auth['team']) ? `“${str(auth['team'])}”` : 'the workspace'} (${str(auth['team_id']) ?? '?'})`;
  if (!botId) {
    items.push(item('slack', 'slack token', 'fail', `valid, but it is not a bot token (${who})`, 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions, not a user token'));
    return items;
  }
  items.push(item('slack', 'slack token', 'pass', `bot ${who}`));

  // Scopes: Slack reports what the token was granted in x-oauth-scopes on every answer.
  const granted = auth.response_metadata?.scopes;
  const usesGroups = catalog ? rolesUsing(catalog, (r) => r.kind === 'slackGroup').length > 0 : true;
  if (!granted) {
    items.push(item('slack', 'slack scopes', 'warn', 'Slack did not report the granted scopes (no x-oauth-scopes header)', 'compare OAuth & Permissions → Bot Token Scopes with slack-manifest.json'));
  } else {
    const required = Object.keys(REQUIRED_BOT_SCOPES);
    const missing = required.filter((s) => !granted.includes(s));
    // usergroups:read only matters when the catalog names a Slack user group.
    const blocking = missing.filter((s) => s !== 'usergroups:read' || usesGroups);
    if (blocking.length > 0) {
      const why = blocking.map((s) => `${s} (${REQUIRED_BOT_SCOPES[s]})`).join('; ');
      items.push(
        item('slack', 'slack scopes', 'fail', `missing ${blocking.join(', ')}`, `add ${joinAnd(blocking)} in OAuth & Permissions → Bot Token Scopes (or update the app from slack-manifest.json), reinstall the app to the workspace, and set SLACK_BOT_TOKEN again if it changed. Needed for: ${why}`),
      );
    } else {
      items.push(item('slack', 'slack scopes', 'pass', required.filter((s) => granted.includes(s)).join(', ')));
    }
    if (missing.length > blocking.length) {
      items.push(item('slack', 'slack scope usergroups:read', 'warn', 'not granted; needed only once the catalog names slack-group: approvers'));
    }
    const extra = granted.filter((s) => !required.includes(s));
    if (extra.length > 0) {
      items.push(item('slack', 'slack scopes not used', 'warn', extra.join(', '), 'access-bot does not need them: remove them in OAuth & Permissions and reinstall (least privilege)'));
    }
  }

  if (config.slack.appToken) items.push(await checkAppToken(config, timeoutMs));
  items.push(item('slack', 'slack signing secret', 'skip', 'cannot be tested from here; if /access answers “dispatch_failed”, compare SLACK_SIGNING_SECRET with Basic Information → App Credentials'));

  if (catalog) {
    items.push(...(await checkUserGroups(client, catalog)));
    items.push(...(await checkApproverEmails(client, catalog)));
    items.push(...channelItems(config, catalog));
  }
  return items;
}

/**
 * Like the bot's client (createWebClient: no retries, 429s returned), but quiet: the WebClient
 * logs failed requests as warnings, and here each failure is already an item on the checklist.
 */
function slackClient(token: string, apiUrl: string, timeoutMs: number): WebClient {
  return new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: timeoutMs, logLevel: LogLevel.ERROR });
}

function slackFailure(name: string, err: unknown, config: Config): CheckItem {
  const e = err as { code?: string; data?: { error?: string }; message?: string; statusCode?: number };
  const code = e.data?.error;
  if (code === 'invalid_auth' || code === 'not_authed' || code === 'token_revoked' || code === 'token_expired' || code === 'account_inactive') {
    return item('slack', name, 'fail', `Slack refused SLACK_BOT_TOKEN (${code})`, 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions of the installed app; reinstall the app if the token was revoked');
  }
  if (code) return item('slack', name, 'fail', `Slack answered ${code}`, `see https://api.slack.com/methods/auth.test for “${code}”`);
  const status = e.statusCode ? `HTTP ${e.statusCode}` : (e.message ?? String(err));
  return item(
    'slack',
    name,
    'fail',
    `could not reach Slack at ${config.slack.apiUrl} (${status})`,
    config.slack.apiUrl === DEFAULTS.slackApiUrl ? 'check outbound HTTPS to slack.com (proxy, firewall)' : `check SLACK_API_URL (${config.slack.apiUrl}); unset it to use ${DEFAULTS.slackApiUrl}`,
  );
}

/** Socket Mode: the app-level token must open a connection (creates a URL; no socket is opened). */
async function checkAppToken(config: Config, timeoutMs: number): Promise<CheckItem> {
  const client = slackClient(config.slack.appToken!, config.slack.apiUrl, timeoutMs);
  try {
    await client.apps.connections.open();
    return item('slack', 'slack app token', 'pass', 'Socket Mode connection can be opened');
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code === 'unknown_method') return item('slack', 'slack app token', 'warn', 'this Slack API does not offer apps.connections.open; not tested');
    return item(
      'slack',
      'slack app token',
      'fail',
      code ? `Slack refused SLACK_APP_TOKEN (${code})` : `could not reach Slack (${(err as Error).message})`,
      'turn on Socket Mode in the app settings and set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write from Basic Information → App-Level Tokens; or unset it for HTTP mode',
    );
  }
}

async function checkUserGroups(client: WebClient, catalog: Catalog): Promise<CheckItem[]> {
  const wanted = new Map<string, string[]>();
  for (const use of approverUses(catalog)) {
    if (use.ref.kind !== 'slackGroup') continue;
    const key = use.ref.group;
    wanted.set(key, [...(wanted.get(key) ?? []), use.where]);
  }
  if (wanted.size === 0) return [];
  let groups: { id?: string; handle?: string; date_delete?: number }[];
  try {
    const r = await client.usergroups.list({ include_disabled: false });
    groups = r.usergroups ?? [];
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code === 'missing_scope') return []; // reported by the scope check
    if (code === 'paid_teams_only' || code === 'plan_upgrade_required') {
      return [item('slack', 'slack user groups', 'fail', 'this workspace’s plan has no user groups', 'replace the slack-group: approvers in the catalog with emails')];
    }
    return [item('slack', 'slack user groups', 'warn', `could not list user groups (${code ?? (err as Error).message})`)];
  }
  const out: CheckItem[] = [];
  for (const [ref, where] of wanted) {
    const handle = ref.replace(/^@/, '');
    const g = groups.find((x) => x.id === ref || x.handle === handle);
    if (g) out.push(item('slack', `slack user group ${ref}`, 'pass', `${g.handle ? `@${g.handle}` : ''} ${g.id ?? ''}`.trim()));
    else out.push(item('slack', `slack user group ${ref}`, 'fail', `no enabled user group with this handle or id (used by ${listShort(where)})`, `create the user group @${handle} in Slack, or fix "slack-group:${ref}" in the catalog to an existing handle or id`));
  }
  return out;
}

/** Approvers named by email must have a Slack account, or their stage falls back or fails. */
async function checkApproverEmails(client: WebClient, catalog: Catalog): Promise<CheckItem[]> {
  const emails = new Map<string, string[]>();
  for (const use of approverUses(catalog)) {
    if (use.ref.kind === 'email') emails.set(use.ref.email, [...(emails.get(use.ref.email) ?? []), use.where]);
    if (use.ref.kind === 'owners') for (const o of use.owners) emails.set(o, [...(emails.get(o) ?? []), use.where]);
  }
  if (emails.size === 0) return [];
  const list = [...emails.keys()].slice(0, MAX_EMAIL_LOOKUPS);
  const missing: string[] = [];
  for (const email of list) {
    try {
      await client.users.lookupByEmail({ email });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code === 'users_not_found') missing.push(email);
      else if (code === 'missing_scope') return []; // reported by the scope check
      else return [item('slack', 'approvers in Slack', 'warn', `could not look approvers up (${code ?? (err as Error).message})`)];
    }
  }
  const out: CheckItem[] = [];
  const skipped = emails.size - list.length;
  const found = list.length - missing.length;
  out.push(item('slack', 'approvers in Slack', missing.length === 0 ? 'pass' : 'warn', `${found} of ${list.length} approver emails found${skipped ? `; ${skipped} more not looked up` : ''}`));
  for (const email of missing) {
    out.push(item('slack', `approver ${email}`, 'warn', `no active Slack user has this email (used by ${listShort(emails.get(email) ?? [])})`, 'fix the email in the catalog, or expect that stage to use its fallback'));
  }
  return out;
}

/** Alert channels cannot be checked without channel-reading scopes the bot does not otherwise need. */
function channelItems(config: Config, catalog: Catalog): CheckItem[] {
  const channels = new Map<string, string[]>();
  if (config.adminChannel) channels.set(config.adminChannel, ['ADMIN_CHANNEL']);
  for (const app of catalog.applications) {
    for (const role of app.roles) {
      if (role.breakGlass) channels.set(role.breakGlass.notify, [...(channels.get(role.breakGlass.notify) ?? []), `${app.id}/${role.id} break-glass`]);
    }
  }
  return [...channels].map(([ch, uses]) => {
    const where = /^[CG][A-Z0-9]{6,}$/.test(ch) ? `the channel ${ch}` : ch.startsWith('#') ? ch : `#${ch}`;
    return item('slack', `slack channel ${ch}`, 'warn', `not tested (alerts for ${listShort(uses)})`, `invite the bot: type /invite @access-bot in ${where}; without it alerts there fail with not_in_channel`);
  });
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
