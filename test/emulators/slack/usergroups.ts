/**
 * usergroups.list and usergroups.users.list: the workspace's user groups (the `@handle` groups a
 * catalog may name as approvers) and their members.
 */
import type { SlackWorkspace } from './workspace.js';
import { bool, fail, ok, str, type Args, type MethodResult, type Obj, type SlackMethods } from './wire.js';

export function usergroupsMethods(ws: SlackWorkspace): SlackMethods {
  return {
    'usergroups.list': (a) => usergroupsList(ws, a),
    'usergroups.users.list': (a) => usergroupsUsersList(ws, a),
  };
}

function usergroupsList(ws: SlackWorkspace, a: Args): MethodResult {
  const includeUsers = bool(a.include_users);
  return ok({
    usergroups: [...ws.groups.values()].map((g) => {
      const out: Obj = {
        id: g.id,
        team_id: ws.teamId,
        is_usergroup: true,
        name: g.name,
        handle: g.handle,
        description: '',
        date_delete: 0,
        user_count: g.users.length,
      };
      if (includeUsers) out.users = [...g.users];
      return out;
    }),
  });
}

function usergroupsUsersList(ws: SlackWorkspace, a: Args): MethodResult {
  const g = ws.groups.get(str(a.usergroup));
  if (!g) return fail('no_such_subteam');
  return ok({ users: [...g.users] });
}
