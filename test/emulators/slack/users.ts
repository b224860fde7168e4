/**
 * users.info and users.lookupByEmail: the user object as Slack returns it, with the account facts
 * (guest, app user, Slack Connect, email confirmation) and the email only under users:read.email.
 */
import type { SlackWorkspace, StoredUser } from './workspace.js';
import { fail, ok, str, type Args, type MethodResult, type Obj, type SlackMethods } from './wire.js';

export function usersMethods(ws: SlackWorkspace): SlackMethods {
  return {
    'users.info': (a) => usersInfo(ws, a),
    'users.lookupByEmail': (a) => usersLookupByEmail(ws, a),
  };
}

function usersInfo(ws: SlackWorkspace, a: Args): MethodResult {
  const user = ws.users.get(str(a.user));
  if (!user) return fail('user_not_found');
  return ok({ user: userObject(ws, user) });
}

function usersLookupByEmail(ws: SlackWorkspace, a: Args): MethodResult {
  const email = str(a.email).toLowerCase();
  // Deactivated accounts are not found by email (unverified against Slack; documented error is users_not_found).
  const user = [...ws.users.values()].find((u) => u.email.toLowerCase() === email && email !== '' && !u.deleted);
  if (!user) return fail('users_not_found');
  return ok({ user: userObject(ws, user) });
}

/** The user object as users.info (and the user_change event) carries it. */
export function userObject(ws: SlackWorkspace, u: StoredUser): Obj {
  // Email is only in the profile with users:read.email. https://docs.slack.dev/reference/methods/users.info
  const profile: Obj = {
    real_name: u.realName,
    real_name_normalized: u.realName,
    display_name: u.displayName,
    display_name_normalized: u.displayName,
    team: ws.teamId,
  };
  if (ws.scopes.includes('users:read.email') && u.email) profile.email = u.email;
  if (u.isBot) profile.bot_id = u.id === ws.botUserId ? ws.botId : undefined;
  const a = u.account ?? {};
  // Account fields as a recorded users.info answer carries them (is_restricted, is_ultra_restricted,
  // is_email_confirmed, is_stranger): slackapi/java-slack-sdk json-logs/samples/api/users.info.json.
  // A single-channel guest is restricted too. Bots carry no is_email_confirmed.
  return {
    id: u.id,
    team_id: a.teamId ?? ws.teamId,
    name: u.name,
    deleted: u.deleted,
    real_name: u.realName,
    tz: 'Etc/UTC',
    tz_offset: 0,
    is_admin: false,
    is_owner: false,
    is_restricted: a.guest !== undefined,
    is_ultra_restricted: a.guest === 'single-channel',
    is_bot: u.isBot,
    is_app_user: a.isAppUser ?? false,
    updated: Math.floor(ws.now() / 1000),
    ...(u.isBot ? {} : { is_email_confirmed: a.emailConfirmed ?? true }),
    is_stranger: a.stranger ?? false,
    profile,
  };
}
