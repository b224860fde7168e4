/** Jira: the credentials, the catalog's project, issue type and permissions, its transitions, the statuses of `jira.statuses` (statuses.ts), and intake (intake.ts). */
import { Buffer } from 'node:buffer';
import { JiraIntakeSite } from '../adapters/jira/intakeSetup.js';
import type { HealthReport } from '../app/ports/idp.js';
import { jiraRecord } from '../compose.js';
import type { Config } from '../config/types.js';
import type { Catalog } from '../domain/catalog.js';
import { guard, NETWORK_RE } from './connection.js';
import { checkIntake } from './intake.js';
import { item, type CheckItem } from './report.js';
import { checkStatuses } from './statuses.js';

export async function checkJira(config: Config, catalog: Catalog | undefined, timeoutMs: number): Promise<CheckItem[]> {
  if (!catalog) {
    // Without a catalog there is no project to look at; the credentials can still be tested.
    const record = jiraRecord(config, { timeoutMs });
    const h = await guard('jira credentials', () => record.checkHealth('', '', []), timeoutMs * 3, config.jira.host);
    const cred = h.checks.find((c) => c.name === 'jira credentials') ?? h.checks[0];
    return [
      ...(cred ? [jiraItem(cred, config, undefined, '')] : []),
      item('jira', 'jira project', 'skip', 'tested once the catalog is valid'),
    ];
  }
  const { project, issueType } = catalog.jira;
  const names = [...new Set(Object.values(catalog.jira.transitions).filter((n): n is string => typeof n === 'string'))];
  const record = jiraRecord(config, { timeoutMs });
  const health = await guard('jira', () => record.checkHealth(project, issueType, names), timeoutMs * 4, config.jira.host);
  const items: CheckItem[] = [];
  for (const c of health.checks) {
    // The record defers transitions to first use; they are looked for on existing issues below.
    if (c.name === 'jira transitions' && c.ok) continue;
    items.push(jiraItem(c, config, catalog, config.catalogPath));
  }
  const passed = (name: string): boolean => health.checks.some((c) => c.name === name && c.ok);
  if (names.length > 0 && passed(`jira project ${project}`) && passed(`jira permissions in ${project}`)) {
    items.push(...(await checkTransitions(config, catalog, timeoutMs)));
  }
  const site = new JiraIntakeSite(record);
  if (catalog.jira.statuses && passed(`jira project ${project}`)) items.push(...(await checkStatuses(config, catalog, site)));
  if (catalog.jira.intake && passed(`jira project ${project}`)) items.push(...(await checkIntake(config, catalog, site)));
  return items;
}

function jiraItem(c: HealthReport['checks'][number], config: Config, catalog: Catalog | undefined, file: string): CheckItem {
  const name = c.name;
  if (c.ok) return item('jira', name, 'pass', c.detail);
  const detail = c.detail ?? 'failed';
  if (NETWORK_RE.test(detail) && !/\b[1-5][0-9]{2}\b/.test(detail.replace(/\d+ ms/g, ''))) {
    return item('jira', name, 'fail', detail, `check JIRA_HOST (${config.jira.host}) is your Jira Cloud site and reachable from here`);
  }
  if (/\b401\b|credentials rejected/.test(detail)) {
    return item('jira', name, 'fail', detail, `create an API token at https://id.atlassian.com/manage-profile/security/api-tokens while signed in as JIRA_EMAIL (${config.jira.email}) and set JIRA_API_TOKEN to it`);
  }
  const project = catalog?.jira.project ?? '';
  if (name === `jira project ${project}`) {
    return item('jira', name, 'fail', detail, `set jira.project in ${file} to an existing project key, or give ${config.jira.email} the Browse projects permission in ${project}`);
  }
  if (name.startsWith('jira issue type')) {
    const available = /available: (.*)$/.exec(detail)?.[1];
    return item('jira', name, 'fail', detail, `set jira.issueType in ${file} to ${available ? `one of: ${available}` : 'an issue type of the project'}, or add it to ${project}’s issue type scheme`);
  }
  if (name.startsWith('jira permissions')) {
    const missing = /missing: (.*)$/.exec(detail)?.[1] ?? 'the missing permissions';
    return item('jira', name, 'fail', detail, `grant ${config.jira.email} ${missing} in ${project}’s permission scheme (Project settings → Permissions)`);
  }
  return item('jira', name, 'fail', detail, `check JIRA_HOST (${config.jira.host}), JIRA_EMAIL and JIRA_API_TOKEN`);
}

interface JiraIssueLite {
  key?: string;
  fields?: { status?: { name?: string } };
  transitions?: { name?: string; to?: { name?: string } }[];
}

/**
 * Jira lists transitions per issue, from its current status, and reading a workflow needs admin
 * rights the bot should not have. So transitions are looked for on existing issues of the
 * project and type: one issue per status, following each transition's target status. A name is
 * missing for certain only when every reachable status was seen; otherwise it is a warning.
 */
async function checkTransitions(config: Config, catalog: Catalog, timeoutMs: number): Promise<CheckItem[]> {
  const { project, issueType, transitions } = catalog.jira;
  const auth = `Basic ${Buffer.from(`${config.jira.email}:${config.jira.apiToken}`).toString('base64')}`;
  const call = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${config.jira.host}/rest/api/3${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: auth, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`Jira answered ${res.status} to ${path.split('?')[0]}`);
    return (await res.json()) as T;
  };
  const scope = `project = ${jql(project)} AND issuetype = ${jql(issueType)}`;
  const search = async (q: string, max: number): Promise<JiraIssueLite[]> => (await call<{ issues?: JiraIssueLite[] }>('/search/jql', { jql: q, fields: ['status'], maxResults: max })).issues ?? [];

  const sample = new Map<string, string>(); // status -> an issue in it
  const offered = new Map<string, { name: string; from: Set<string> }>(); // lower-case name -> where
  const examined = new Set<string>();
  const unseen = new Set<string>();
  try {
    for (const i of await search(`${scope} ORDER BY updated DESC`, 100)) {
      const s = i.fields?.status?.name;
      if (s && i.key && !sample.has(s)) sample.set(s, i.key);
    }
    const queue = [...sample.keys()];
    // Workflows have a handful of statuses; the cap only bounds a pathological one.
    while (queue.length > 0 && examined.size + unseen.size < 40) {
      const status = queue.shift()!;
      if (examined.has(status) || unseen.has(status)) continue;
      const key = sample.get(status) ?? (await search(`${scope} AND status = ${jql(status)}`, 1))[0]?.key;
      if (!key) {
        unseen.add(status);
        continue;
      }
      examined.add(status);
      const issue = await call<JiraIssueLite>(`/issue/${encodeURIComponent(key)}?fields=status&expand=transitions`);
      for (const t of issue.transitions ?? []) {
        if (!t.name) continue;
        const entry = offered.get(t.name.toLowerCase()) ?? { name: t.name, from: new Set<string>() };
        entry.from.add(status);
        offered.set(t.name.toLowerCase(), entry);
        if (t.to?.name) queue.push(t.to.name);
      }
    }
  } catch (err) {
    return [item('jira', 'jira transitions', 'warn', `could not look at existing issues (${(err as Error).message}); checked when first applied`)];
  }

  const wanted = new Map<string, string[]>(); // name -> states using it
  for (const [state, name] of Object.entries(transitions)) if (name) wanted.set(name, [...(wanted.get(name) ?? []), state]);
  if (examined.size === 0) {
    return [item('jira', 'jira transitions', 'warn', `no ${issueType} issues in ${project} yet, so ${[...wanted.keys()].map((n) => `"${n}"`).join(', ')} cannot be confirmed; each is checked when first applied`)];
  }
  const all = [...offered.values()].map((o) => `"${o.name}"`).join(', ') || 'none';
  const items: CheckItem[] = [];
  for (const [name, states] of wanted) {
    const label = `jira transition "${name}"`;
    const use = states.join(', ');
    const hit = offered.get(name.trim().toLowerCase());
    if (hit) {
      items.push(item('jira', label, 'pass', `for ${use}; offered from ${[...hit.from].join(', ')}`));
    } else if (unseen.size === 0) {
      items.push(
        item(
          'jira',
          label,
          'fail',
          `for ${use}: no transition of that name in the workflow of ${project} ${issueType} issues (it has ${all})`,
          `set jira.transitions.${states[0]} in ${config.catalogPath} to one of ${all}, or add a transition named "${name}" to the workflow`,
        ),
      );
    } else {
      items.push(item('jira', label, 'warn', `for ${use}: not offered from ${[...examined].join(', ')}; no issue is in ${[...unseen].join(', ')} yet, so it is checked when first applied`));
    }
  }
  return items;
}

/** A JQL string literal. */
function jql(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
