/**
 * `access-bot jira sync-fields [--apply]`: writes the catalog's applications, roles and durations
 * as the options of the `jira.intake` select fields (Jira's field context options API, in the
 * context that applies to the catalog's project), so a requester in Jira can pick exactly what
 * access-bot accepts. A dry run unless `--apply`; running it again changes nothing. Options are
 * never deleted, only disabled: issues that hold one keep their value.
 */
import { JiraIntakeSite } from './adapters/jira/intakeSetup.js';
import { readFieldSetup, describeField } from './check/intake.js';
import { jiraRecord } from './compose.js';
import { loadCatalog } from './config/catalog.js';
import { connectorsOf, loadConfig } from './config/env.js';
import { redactor } from './redact.js';
import { secretsOf } from './config/types.js';

export const JIRA_USAGE = `Usage: access-bot jira sync-fields [--apply]

Compares the options of the catalog's jira.intake select fields (application, role, duration,
and the role left by a change) with the catalog's applications, role names and durations, in
the field context that applies to the catalog's project, and prints what differs:
  + an option to add   ~ a disabled option to enable again   - an option to disable
Without --apply nothing is changed. With --apply the changes are made; running it again then
finds nothing to do. Options are never deleted (issues that hold one keep it).
Writing options needs a Jira administrator's account (JIRA_EMAIL, JIRA_API_TOKEN).
Exit code: 0 done or nothing to do, 1 a field or Jira failed, 2 usage error.`;

export async function runJira(args: string[], env: Record<string, string | undefined>, out: (l: string) => void, err: (l: string) => void): Promise<number> {
  if (args.some((a) => a === '-h' || a === '--help')) {
    out(JIRA_USAGE);
    return 0;
  }
  const [sub, ...rest] = args;
  const usage = (msg: string): number => {
    err(`access-bot jira: ${msg}\n\n${JIRA_USAGE}`);
    return 2;
  };
  if (sub !== 'sync-fields') return usage(sub === undefined ? 'no jira command given' : `unknown jira command "${sub}"`);
  const unknown = rest.find((a) => a !== '--apply');
  if (unknown !== undefined) return usage(`unexpected argument "${unknown}"`);
  const apply = rest.includes('--apply');

  const cfg = loadConfig(env);
  if (!cfg.ok) {
    for (const line of cfg.errors) err(`config error: ${line}`);
    return 1;
  }
  const config = cfg.config;
  const cat = loadCatalog(config.catalogPath, { configuredConnectors: connectorsOf(config) });
  if (!cat.ok) {
    for (const line of cat.errors) err(`catalog error: ${line}`);
    return 1;
  }
  const catalog = cat.catalog;
  if (!catalog.jira.intake) {
    err(`access-bot jira sync-fields: ${config.catalogPath} has no jira.intake (the request types and fields of requests raised in Jira); nothing to sync`);
    return 1;
  }
  const redact = redactor(secretsOf(config));
  const site = new JiraIntakeSite(jiraRecord(config));
  let failed = 0;
  const done = { added: 0, enabled: 0, disabled: 0 };
  try {
    for (const s of await readFieldSetup(site, catalog)) {
      if (s.key === 'subject') continue;
      const head = `${describeField(s)}${s.context ? `, context "${s.context.name}"` : ''}`;
      if (s.problem || s.unreadable || !s.plan || !s.context) {
        failed += 1;
        err(redact(`${head}: ${s.problem ?? s.unreadable ?? 'its options could not be read'}`));
        continue;
      }
      const { missing, enable, extra } = s.plan;
      if (missing.length + enable.length + extra.length === 0) {
        out(`${head}: up to date (${s.wanted?.length ?? 0} options)`);
        continue;
      }
      out(`${head}:`);
      for (const v of missing) out(`  + ${v}`);
      for (const o of enable) out(`  ~ ${o.value} (disabled: enable it again)`);
      for (const o of extra) out(`  - ${o.value} (not in the catalog: disable it)`);
      if (!apply) continue;
      try {
        if (missing.length > 0) await site.addOptions(s.fieldId, s.context.id, missing);
        const changes = [...enable.map((o) => ({ id: o.id, disabled: false })), ...extra.map((o) => ({ id: o.id, disabled: true }))];
        if (changes.length > 0) await site.setDisabled(s.fieldId, s.context.id, changes);
        done.added += missing.length;
        done.enabled += enable.length;
        done.disabled += extra.length;
      } catch (e) {
        failed += 1;
        err(redact(`${head}: ${e instanceof Error ? e.message : String(e)}`));
      }
    }
  } catch (e) {
    err(redact(`access-bot jira sync-fields: ${e instanceof Error ? e.message : String(e)}`));
    return 1;
  }
  if (apply) out(`Applied: ${done.added} option(s) added, ${done.enabled} enabled again, ${done.disabled} disabled.`);
  else out('Dry run: nothing was changed. Run access-bot jira sync-fields --apply to make these changes.');
  return failed > 0 ? 1 : 0;
}
