/**
 * `access-bot check`'s policy sample: for a few people, which of a role's approval rules each
 * would meet if they asked now, and why, through the same code as `access-bot policy explain`
 * (app/policyFacts.ts). The people are the emails given with `--sample`, or else a few members of
 * the role's group and of the groups its `memberOf` rules name (where the connector lists
 * members by that id), and whoever is on call now in the schedules its `onCall` rules name.
 * Read-only; nothing here fails the check: a rule that cannot be decided for someone is a warning.
 */
import { explainPolicy, type FactsDeps } from '../app/policyFacts.js';
import { hasCapability, type IdpConnector } from '../app/ports/idp.js';
import { buildConnectors, onCallLookup } from '../compose.js';
import type { Config } from '../config/types.js';
import type { Application, Catalog, Role } from '../domain/catalog.js';
import { covers } from '../domain/onCall.js';
import { describePolicy, type PolicyChoice } from '../domain/policy.js';
import { item, type CheckItem } from './report.js';

export const SAMPLE_SECTION = 'policy';
/** People sampled per group or schedule, and per role in all. */
const PER_SOURCE = 3;
const PER_ROLE = 6;

export interface SampleOptions {
  /** `--sample`: these people for every role with rules, instead of members and responders. */
  emails?: readonly string[];
  timeoutMs: number;
  now?: () => number;
}

export async function policySample(config: Config, catalog: Catalog, opts: SampleOptions): Promise<CheckItem[]> {
  const roles = catalog.applications.flatMap((app) => app.roles.filter((r) => r.rules).map((role) => ({ app, role })));
  if (roles.length === 0) return [];
  const now = opts.now ?? Date.now;
  const logger = { warn: () => undefined };
  let connectors: Record<string, IdpConnector>;
  try {
    connectors = buildConnectors(config);
  } catch (err) {
    return [item(SAMPLE_SECTION, 'policy sample', 'skip', `not run: ${(err as Error).message}`)];
  }
  const deps: FactsDeps = { connectors, logger, onCall: onCallLookup(config, { logger, now }) };
  const items: CheckItem[] = [];
  for (const { app, role } of roles) {
    const people = opts.emails?.length ? [...opts.emails] : await somePeople(deps, role, now());
    const where = `${app.id}/${role.id}`;
    if (people.length === 0) {
      items.push(item(SAMPLE_SECTION, where, 'skip', 'no one to sample: its group has no members the connector lists, and nobody is on call in its schedules', 'pass --sample <email>[,<email>…] to see which rule those people would meet'));
      continue;
    }
    for (const email of people) items.push(await explainOne(deps, app, role, email, now(), opts.timeoutMs * 3));
  }
  return items;
}

async function explainOne(deps: FactsDeps, app: Application, role: Role, email: string, now: number, deadlineMs: number): Promise<CheckItem> {
  const name = `${app.id}/${role.id} ${email}`;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
    timer.unref();
  });
  try {
    const found = await Promise.race([explainPolicy(deps, role, { email, durationMs: role.durations[0]!.ms, kind: 'access', now }), late]);
    if (found === 'late') return item(SAMPLE_SECTION, name, 'warn', `not explained within ${deadlineMs} ms`);
    return describeChoice(name, found.choice);
  } catch (err) {
    return item(SAMPLE_SECTION, name, 'warn', `could not be explained: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** "rule 1 (on-call responders): approved by policy (auto-approve), on call in … until …". */
function describeChoice(name: string, choice: PolicyChoice): CheckItem {
  if (choice.kind === 'undecided') return item(SAMPLE_SECTION, name, 'warn', `not decided now: ${choice.why}`, 'routing would wait rather than auto-approve; see access-bot policy explain for each fact');
  const why = choice.rule === undefined ? undefined : choice.verdicts[choice.rule - 1]?.why;
  const detail = `${choice.label}: ${describePolicy(choice.policy)}${why && why !== 'no conditions' ? ` (${why})` : ''}`;
  if (choice.unknown.length > 0) return item(SAMPLE_SECTION, name, 'warn', `${detail}; not known, so rules that test it did not match: ${choice.unknown.join('; ')}`);
  return item(SAMPLE_SECTION, name, 'pass', detail);
}

/**
 * A few members of the role's group and of its `memberOf` groups, and whoever is on call in its
 * schedules: at most PER_SOURCE from each, taken in turns up to PER_ROLE, so every source shows.
 */
async function somePeople(deps: FactsDeps, role: Role, now: number): Promise<string[]> {
  const sources: string[][] = [];
  for (const rule of role.rules?.rules ?? []) {
    const c = rule.when.onCall;
    if (!c) continue;
    for (const schedule of c.schedules) {
      const roster = await deps.onCall.roster(c.service, schedule);
      if (roster.known) sources.push(roster.value.shifts.filter((x) => covers(x, now) && x.email).map((x) => x.email!));
    }
  }
  const connector = deps.connectors[role.grant.connector];
  if (connector && hasCapability(connector, 'memberListing')) {
    const groups = new Set([...(role.rules?.rules.flatMap((r) => r.when.memberOf ?? []) ?? []), role.grant.group]);
    for (const group of groups) {
      try {
        const page = await connector.listMembers(group, { size: PER_SOURCE });
        sources.push(page.members.flatMap((m) => (m.email ? [m.email.toLowerCase()] : [])));
      } catch {
        // A memberOf rule may name a group by its name, which the connector does not list by.
      }
    }
  }
  const out = new Set<string>();
  for (let i = 0; i < PER_SOURCE; i++) for (const list of sources) if (list[i] && out.size < PER_ROLE) out.add(list[i]!);
  return [...out];
}
