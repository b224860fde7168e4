/**
 * How the emulated Web API checks the caller, and the methods that only answer who it is:
 * the bot token (bearer header or `token` parameter), the scope each method needs, `api.test`
 * and `auth.test`.
 */
import type { EmuRequest, EmuResponse } from '../base.js';
import type { SlackWorkspace } from './workspace.js';
import { ok, type Args, type SlackMethods } from './wire.js';

// Scope each served method needs with a bot token (the methods' reference pages,
// https://docs.slack.dev/reference/methods/<method>). views.* and auth.test need none.
const NEEDED_SCOPE: Record<string, string> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'users.info': 'users:read',
  'users.lookupByEmail': 'users:read.email',
  'conversations.open': 'im:write',
  'usergroups.list': 'usergroups:read',
  'usergroups.users.list': 'usergroups:read',
};

/**
 * Checks the token and the method's scope. `headers` are the scope headers Slack puts on every
 * answer; `refusal` is set when the call may not go on.
 */
export function authorize(ws: SlackWorkspace, method: string, req: EmuRequest, args: Args): { refusal?: EmuResponse; headers: Record<string, string> } {
  // https://docs.slack.dev/authentication/tokens : bearer header, or `token` as a POST parameter.
  const auth = req.headers.authorization;
  const bearer = typeof auth === 'string' && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
  const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
  // Slack reports granted scopes on every answer, and the scope the method accepts when it has one.
  const headers: Record<string, string> = { 'x-oauth-scopes': ws.scopes.join(',') };
  if (NEEDED_SCOPE[method]) headers['x-accepted-oauth-scopes'] = NEEDED_SCOPE[method];
  if (!token) return { refusal: { status: 200, body: { ok: false, error: 'not_authed' } }, headers };
  if (token !== ws.botToken) return { refusal: { status: 200, body: { ok: false, error: 'invalid_auth' } }, headers };

  const needed = NEEDED_SCOPE[method];
  if (needed && !ws.scopes.includes(needed)) {
    return { refusal: { status: 200, headers, body: { ok: false, error: 'missing_scope', needed, provided: ws.scopes.join(',') } }, headers };
  }
  return { headers };
}

export function authMethods(ws: SlackWorkspace): SlackMethods {
  return {
    'api.test': (a) => ok({ args: a }),
    'auth.test': () =>
      ok({
        url: `https://${ws.teamDomain}.slack.com/`,
        team: ws.teamName,
        user: ws.appName,
        team_id: ws.teamId,
        user_id: ws.botUserId,
        bot_id: ws.botId,
        is_enterprise_install: false,
      }),
  };
}
