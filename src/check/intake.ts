/**
 * The intake set-up against the site (catalog `jira.intake`), for `access-bot check` and
 * `access-bot jira sync-fields`: the request types exist (JSM request types of the project's
 * service desk, or its issue types without one), each field exists and is of the type intake
 * reads (single selects; a user picker for whose access), and each select's options in the
 * context that applies to the project match the catalog (missing and extra ones listed), and the
 * webhook secret is set.
 */
import { FIELD_TYPES, type JiraIntakeSite, type SiteField } from '../adapters/jira/intakeSetup.js';
import type { Config } from '../config/types.js';
import type { Catalog, IntakeFields } from '../domain/catalog.js';
import { FIELD_LABELS, intakeOptions, planOptions, type OptionPlan } from '../domain/intake.js';
import { PermanentError } from '../outbox/errors.js';
import { item, listShort, type CheckItem } from './report.js';

/** One intake field as the site has it. */
export interface FieldSetup {
  key: keyof IntakeFields;
  fieldId: string;
  /** The field's name on the site, when it exists. */
  name?: string;
  /** Why intake cannot use the field (missing, not of the right type); undefined when it can. */
  problem?: string;
  /** Select fields: the options the catalog wants, the context that applies, and what differs. */
  wanted?: string[];
  context?: { id: string; name: string };
  plan?: OptionPlan;
  /** Why the options could not be read (the account may not administer Jira). */
  unreadable?: string;
}

const SELECT_KEYS = ['application', 'role', 'duration', 'fromRole'] as const;

/** Reads every intake field's set-up; throws only when Jira cannot be reached at all. */
export async function readFieldSetup(site: JiraIntakeSite, catalog: Catalog): Promise<FieldSetup[]> {
  const intake = catalog.jira.intake;
  if (!intake) return [];
  const fields = await site.fields();
  const projectId = await site.projectId(catalog.jira.project).catch(() => undefined);
  const options = intakeOptions(catalog);
  const wanted: Record<(typeof SELECT_KEYS)[number], string[]> = { application: options.application, role: options.role, duration: options.duration, fromRole: options.role };
  const out: FieldSetup[] = [];
  for (const key of [...SELECT_KEYS, 'subject'] as const) {
    const fieldId = intake.fields[key];
    if (fieldId === undefined) continue;
    const f = fields.find((x) => x.id === fieldId);
    const setup: FieldSetup = { key, fieldId, ...(f ? { name: f.name } : {}) };
    out.push(setup);
    const type = key === 'subject' ? FIELD_TYPES.userpicker : FIELD_TYPES.select;
    if (!f) {
      setup.problem = `no field ${fieldId} on the site${candidates(fields, type)}`;
      continue;
    }
    if (f.custom !== type) {
      setup.problem = `"${f.name}" is ${f.custom ? `a ${f.custom.split(':').pop()} field` : 'a system field'}, not ${key === 'subject' ? 'a user picker' : 'a single select list'}${candidates(fields, type)}`;
      continue;
    }
    if (key === 'subject') continue;
    setup.wanted = wanted[key];
    try {
      const ctx = await site.contextFor(fieldId, projectId);
      if (!ctx) {
        setup.problem = `"${f.name}" has no context for project ${catalog.jira.project} (add the project to a context, or a global one)`;
        continue;
      }
      setup.context = ctx;
      setup.plan = planOptions(setup.wanted, await site.options(fieldId, ctx.id));
    } catch (err) {
      if (err instanceof PermanentError && (err.code === 'jira_forbidden' || err.code === 'jira_unauthorized')) setup.unreadable = err.message;
      else throw err;
    }
  }
  return out;
}

/** Up to 5 fields of the right type, to name in a problem. */
function candidates(fields: SiteField[], type: string): string {
  const list = fields.filter((f) => f.custom === type).map((f) => `${f.name} (${f.id})`);
  return list.length > 0 ? `; ${type === FIELD_TYPES.select ? 'single select' : 'user picker'} fields on the site: ${listShort(list.slice(0, 5))}` : '';
}

export function describeField(s: FieldSetup): string {
  return `${FIELD_LABELS[s.key]} field ${s.fieldId}${s.name ? ` ("${s.name}")` : ''}`;
}

/** The check items of `jira.intake` (none without it). */
export async function checkIntake(config: Config, catalog: Catalog, site: JiraIntakeSite): Promise<CheckItem[]> {
  const intake = catalog.jira.intake;
  if (!intake) return [];
  const file = config.catalogPath;
  const project = catalog.jira.project;
  const items: CheckItem[] = [];
  const run = async (name: string, fn: () => Promise<CheckItem[]>): Promise<void> => {
    try {
      items.push(...(await fn()));
    } catch (err) {
      items.push(item('jira', name, 'fail', (err as Error).message, `check JIRA_HOST (${config.jira.host}) and the credentials`));
    }
  };

  await run('jira intake request types', async () => {
    const configured = intake.requestTypes.map((t) => t.name);
    const desk = await site.requestTypes(project);
    const offered = desk ? desk.types.map((t) => t.name) : await site.issueTypes(project);
    const what = desk ? `request types of the service desk "${desk.desk}"` : `issue types of ${project} (no service desk)`;
    const missing = configured.filter((n) => !offered.some((o) => o.toLowerCase() === n.toLowerCase()));
    if (missing.length === 0) return [item('jira', 'jira intake request types', 'pass', `${configured.join(', ')}: ${what}`)];
    return [
      item(
        'jira',
        'jira intake request types',
        'fail',
        `not among the ${what}: ${missing.map((m) => `"${m}"`).join(', ')} (it has ${offered.map((o) => `"${o}"`).join(', ') || 'none'})`,
        `create ${missing.length === 1 ? 'it' : 'them'} in ${project}${desk ? ' (Project settings → Request types)' : ''}, or rename the entries of jira.intake.requestTypes in ${file}`,
      ),
    ];
  });

  await run('jira intake fields', async () =>
    (await readFieldSetup(site, catalog)).map((s) => {
      const name = `jira intake ${describeField(s)}`;
      if (s.problem) return item('jira', name, 'fail', s.problem, `set jira.intake.fields.${s.key} in ${file} to the id of ${s.key === 'subject' ? 'a user picker' : 'a single select'} field, or create one (Settings → Issues → Custom fields)`);
      if (s.unreadable) return item('jira', name, 'warn', `its options could not be read: ${s.unreadable}`, 'run access-bot check with the credentials of a Jira administrator to compare the options with the catalog');
      if (!s.plan) return item('jira', name, 'pass', 'a user picker');
      const { missing, enable, extra } = s.plan;
      if (missing.length + enable.length + extra.length === 0) return item('jira', name, 'pass', `options match the catalog (${s.wanted?.length ?? 0})`);
      const parts = [
        ...(missing.length + enable.length > 0 ? [`missing options: ${[...missing, ...enable.map((o) => `${o.value} (disabled)`)].join(', ')}`] : []),
        ...(extra.length > 0 ? [`extra options: ${extra.map((o) => o.value).join(', ')}`] : []),
      ];
      return item('jira', name, 'fail', `${parts.join('; ')} (context "${s.context?.name ?? '?'}")`, 'run access-bot jira sync-fields to see the changes, then with --apply to make them');
    }),
  );

  items.push(
    config.jira.webhookSecret
      ? item('jira', 'jira webhook secret', 'pass', 'JIRA_WEBHOOK_SECRET is set; requests raised in Jira arrive by webhook, and the poll catches any delivery lost')
      : item(
          'jira',
          'jira webhook secret',
          'fail',
          'JIRA_WEBHOOK_SECRET is not set, so /webhooks/jira is off: requests raised in Jira reach the bot only through the poll',
          'set JIRA_WEBHOOK_SECRET and register an admin webhook (Jira settings → System → WebHooks) to https://YOUR-HOST/webhooks/jira with that secret, for Issue created and Issue updated',
        ),
  );
  return items;
}
