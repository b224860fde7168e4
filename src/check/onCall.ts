/**
 * On-call services (approval rules' `onCall`): each configured one's credentials, and every
 * schedule the catalog's rules name, with a precise fix per failure.
 */
import { buildOnCall } from '../adapters/oncall/index.js';
import type { OnCallConfig } from '../config/onCall.js';
import type { Config } from '../config/types.js';
import type { Catalog } from '../domain/catalog.js';
import { ON_CALL_SERVICES, type OnCallServiceType } from '../domain/onCall.js';
import { ruleLabel } from '../domain/policy.js';
import { AUTH_RE, guard, NETWORK_RE } from './connection.js';
import { item, listShort, type CheckItem } from './report.js';

/** The checklist section of a service, and its title. */
export function onCallSection(type: OnCallServiceType): string {
  return `oncall:${type}`;
}
export const ON_CALL_TITLES: Record<string, string> = Object.fromEntries(Object.entries(ON_CALL_SERVICES).map(([type, label]) => [onCallSection(type as OnCallServiceType), `${label} (on call)`]));

/** Where each schedule of a service is named: "payments-console/operator rule 1 (on-call responders)". */
export function schedulesInCatalog(catalog: Catalog | undefined, type: OnCallServiceType): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const app of catalog?.applications ?? []) {
    for (const role of app.roles) {
      role.rules?.rules.forEach((rule, i) => {
        const c = rule.when.onCall;
        if (c?.service !== type) return;
        for (const s of c.schedules) out.set(s, [...(out.get(s) ?? []), `${app.id}/${role.id} ${ruleLabel(i + 1, rule)}`]);
      });
    }
  }
  return out;
}

export async function checkOnCall(config: Config, catalog: Catalog | undefined, timeoutMs: number): Promise<CheckItem[][]> {
  return Promise.all(config.onCall.map((c) => checkService(c, config, catalog, timeoutMs)));
}

async function checkService(c: OnCallConfig, config: Config, catalog: Catalog | undefined, timeoutMs: number): Promise<CheckItem[]> {
  const section = onCallSection(c.type);
  const label = ON_CALL_SERVICES[c.type];
  const used = schedulesInCatalog(catalog, c.type);
  const [service] = buildOnCall([c]);
  const where = c.type === 'pagerduty' ? `PAGERDUTY_URL (${c.url})` : `JSM_OPS_URL (${c.url}) and JIRA_HOST (${c.siteUrl})`;
  const report = await guard('connection', () => service!.checkSchedules([...used.keys()]), timeoutMs * 3, where);
  const items: CheckItem[] = [];
  for (const check of report.checks) {
    const name = `${c.type} ${check.name}`;
    const schedule = [...used.keys()].find((s) => check.name === `schedule ${s} exists`);
    if (check.ok) {
      items.push(item(section, name, 'pass', check.name === 'credentials valid' && used.size === 0 ? 'no rule names a schedule of it yet' : check.detail));
      continue;
    }
    const detail = check.detail ?? 'failed';
    if (/^not checked\b/.test(detail)) items.push(item(section, name, 'skip', detail));
    else if (NETWORK_RE.test(detail) && !/ answered \d{3}/.test(detail)) items.push(item(section, name, 'fail', detail, `check ${where}: the ${label} API must be reachable from here`));
    else if (schedule !== undefined && / answered 404/.test(detail)) {
      items.push(item(section, name, 'fail', detail, `set when.onCall.${c.type} of ${listShort(used.get(schedule) ?? [])} in ${config.catalogPath} to ${scheduleHint(c.type)}`));
    } else if (AUTH_RE.test(detail)) items.push(item(section, name, 'fail', detail, credentialsFix(c, schedule !== undefined)));
    else items.push(item(section, name, 'fail', detail, `${label} failed to answer: run access-bot check again; if it keeps failing, check ${where} and ${label}'s status page`));
  }
  return items;
}

function scheduleHint(type: OnCallServiceType): string {
  return type === 'pagerduty'
    ? 'an existing schedule id (in PagerDuty, People → On-Call Schedules → the schedule: its id ends the URL, …/schedules/P1ABCDE)'
    : 'an existing schedule id (in Jira Service Management, Operations → On-call schedules → the schedule: its id is in the URL)';
}

function credentialsFix(c: OnCallConfig, forSchedule: boolean): string {
  if (c.type === 'pagerduty') {
    return forSchedule
      ? 'PAGERDUTY_TOKEN may not read this schedule: use an account API key (Integrations → API Access Keys), or a user key of someone who can see the schedule'
      : 'PagerDuty refused PAGERDUTY_TOKEN: create a REST API key in PagerDuty (Integrations → API Access Keys; read-only is enough) and set PAGERDUTY_TOKEN (or PAGERDUTY_TOKEN_FILE); for an EU account set PAGERDUTY_URL=https://api.eu.pagerduty.com';
  }
  const who = 'JSM_OPS_EMAIL and JSM_OPS_API_TOKEN (default: JIRA_EMAIL and JIRA_API_TOKEN)';
  return forSchedule
    ? `the account of ${who} may not read this schedule: give it read-only operations access, or membership of the schedule's team`
    : `JSM Operations refused ${who}: use an Atlassian account with access to Operations and an API token from https://id.atlassian.com/manage-profile/security/api-tokens, and check JSM_OPS_CLOUD_ID (${c.cloudId}) is the cloud id of this site (https://<your-site>.atlassian.net/_edge/tenant_info)`;
}
