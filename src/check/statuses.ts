/**
 * The statuses of `jira.statuses` against the site: each mapped name must be a status of the
 * workflow the bot's issues follow, or no move to it can ever reach the bot. Those are the
 * workflows of the catalog's `jira.issueType` and of the issue types behind the `jira.intake`
 * request types; when one of those cannot be known, every issue type of the project is looked
 * at, and the items say so. Names compare as the bot compares a move's status (without case),
 * and are reported as the site spells them.
 */
import type { IssueTypeStatuses, JiraIntakeSite } from '../adapters/jira/intakeSetup.js';
import type { Config } from '../config/types.js';
import { STATUS_MEANINGS, type Catalog } from '../domain/catalog.js';
import { sameStatus } from '../domain/jiraStatus.js';
import { PermanentError } from '../outbox/errors.js';
import { item, type CheckItem } from './report.js';

/** The issue types whose workflows matter, and why every type is looked at when not all are known (empty when they are). */
interface Scope {
  types: IssueTypeStatuses[];
  unknown: string[];
}

/** One item per mapped status (none without `jira.statuses`). */
export async function checkStatuses(config: Config, catalog: Catalog, site: JiraIntakeSite): Promise<CheckItem[]> {
  const mapped = STATUS_MEANINGS.flatMap((meaning) => (catalog.jira.statuses?.[meaning] ?? []).map((name) => ({ meaning, name })));
  if (mapped.length === 0) return [];
  const { project } = catalog.jira;
  let listing: IssueTypeStatuses[];
  try {
    listing = await site.statuses(project);
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof PermanentError && (err.code === 'jira_forbidden' || err.code === 'jira_unauthorized')) {
      return [
        item(
          'jira',
          'jira statuses',
          'warn',
          `the statuses of ${project} could not be read (${message}), so ${mapped.map((m) => `"${m.name}"`).join(', ')} of jira.statuses cannot be confirmed`,
          `run access-bot check with an account that may browse ${project} to confirm them`,
        ),
      ];
    }
    return [item('jira', 'jira statuses', 'fail', message, `check JIRA_HOST (${config.jira.host}) and the credentials`)];
  }

  const scope = await scopeOf(catalog, site, listing);
  const where = `the workflow of ${project} ${scope.types.map((t) => t.name).join(', ')}`;
  const why = scope.unknown.length > 0 ? ` (every issue type of ${project} was looked at, as ${scope.unknown.join('; ')})` : '';
  const has = distinct(scope.types.flatMap((t) => t.statuses));
  const hasText = has.map((s) => `"${s}"`).join(', ') || 'none';
  return mapped.map(({ meaning, name }) => {
    const label = `jira status "${name}"`;
    const inUse = scope.types.filter((t) => t.statuses.some((s) => sameStatus(s, name)));
    if (inUse.length > 0) {
      const spelt = inUse[0]!.statuses.find((s) => sameStatus(s, name))!;
      return item('jira', label, 'pass', `for ${meaning}; in the workflow of ${project} ${inUse.map((t) => t.name).join(', ')}${spelt === name ? '' : `, spelt "${spelt}" there`}${why}`);
    }
    const elsewhere = listing.filter((t) => !scope.types.includes(t) && t.statuses.some((s) => sameStatus(s, name)));
    const other = elsewhere.length > 0 ? `; only ${elsewhere.map((t) => t.name).join(', ')} issues, which the bot does not use, have it` : '';
    return item(
      'jira',
      label,
      'fail',
      `for ${meaning}: no status of that name in ${where} (it has ${hasText})${other}${why}`,
      `set jira.statuses.${meaning} in ${config.catalogPath} to ${has.length > 0 ? `one of ${hasText}` : 'a status of the workflow'}, or add a status named "${name}" to ${where}`,
    );
  });
}

/**
 * The catalog's issue type, and the issue types of the intake's request types: a JSM request
 * type's `issueTypeId`, or without a service desk the issue type of that name. Any of them not
 * found (or the request types unreadable) widens the scope to every issue type of the project
 * but sub-tasks, which the bot never raises.
 */
async function scopeOf(catalog: Catalog, site: JiraIntakeSite, listing: IssueTypeStatuses[]): Promise<Scope> {
  const { project, issueType, intake } = catalog.jira;
  const types = new Set<IssueTypeStatuses>();
  const unknown: string[] = [];
  const named = (name: string) => listing.find((t) => t.name.toLowerCase() === name.toLowerCase());
  const add = (t: IssueTypeStatuses | undefined, why: string) => (t ? types.add(t) : unknown.push(why));
  add(named(issueType), `${project} has no issue type "${issueType}"`);
  if (intake) {
    try {
      const desk = await site.requestTypes(project);
      for (const { name } of intake.requestTypes) {
        const rt = desk?.types.find((t) => t.name.toLowerCase() === name.toLowerCase());
        if (!desk) add(named(name), `${project} has no issue type "${name}"`);
        else if (!rt) unknown.push(`the service desk has no request type "${name}"`);
        else add(listing.find((t) => t.id === rt.issueTypeId), `the issue type of request type "${name}" is not known`);
      }
    } catch (err) {
      unknown.push(`the request types could not be read (${(err as Error).message})`);
    }
  }
  if (unknown.length === 0) return { types: [...types], unknown };
  const all = listing.filter((t) => !t.subtask);
  return { types: all.length > 0 ? all : listing, unknown };
}

/** Names once each (compared as statuses are), in order. */
function distinct(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) if (!out.some((o) => sameStatus(o, n))) out.push(n);
  return out;
}
