/**
 * `access-bot policy explain <email> <app>/<role> [--duration 4h]`: which of the role's approval
 * rules that person would meet now, and why, with the facts learned through the configured
 * connectors exactly as routing learns them (app/policyFacts.ts). Read-only: it looks people up
 * and changes nothing. Exit codes: 0 explained, 1 not decided now (an unknown fact) or the
 * configuration is wrong, 2 usage error.
 */
import fs from 'node:fs';
import { describeGroups, describeOnCall, explainPolicy } from './app/policyFacts.js';
import { buildConnectors, onCallLookup } from './compose.js';
import { loadCatalog } from './config/catalog.js';
import { catalogOptionsOf, loadConfig } from './config/env.js';
import { EMAIL_RE } from './config/values.js';
import { findRole } from './domain/catalog.js';
import { describeDuration, parseDuration } from './domain/duration.js';
import { describePolicy, type PolicyFacts } from './domain/policy.js';
import { formatTime } from './domain/steps.js';

export const POLICY_USAGE = `Usage: access-bot policy explain <email> <app>/<role> [--duration <d>]

Prints which of the role's approval rules (catalog approval: rules:) the person would meet if
they asked now, and why: each rule in order with the condition that decided it, and the facts
(groups, department, title) read from the role's connector, and whether they are on call now in
the schedules onCall rules name (PagerDuty, JSM Operations). Read-only.
--duration defaults to the role's first duration.
Exit code: 0 explained, 1 not decidable now or a configuration error, 2 usage error.`;

export interface PolicyCliOptions {
  now?: () => number;
  readFile?: (path: string) => string;
}

export async function runPolicy(args: string[], env: Record<string, string | undefined>, out: (l: string) => void, err: (l: string) => void, opts: PolicyCliOptions = {}): Promise<number> {
  const parsed = parseArgs(args);
  if ('error' in parsed) {
    err(`access-bot policy: ${parsed.error}\n\n${POLICY_USAGE}`);
    return 2;
  }
  const readFile = opts.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8'));
  const cfg = loadConfig(env, readFile);
  if (!cfg.ok) {
    err(`access-bot policy: the environment is not valid (run access-bot check):\n${cfg.errors.map((e) => `  ${e}`).join('\n')}`);
    return 1;
  }
  const cat = loadCatalog(cfg.config.catalogPath, { ...catalogOptionsOf(cfg.config), readFile });
  if (!cat.ok) {
    err(`access-bot policy: the catalog is not valid (run access-bot check):\n${cat.errors.map((e) => `  ${e}`).join('\n')}`);
    return 1;
  }
  const found = findRole(cat.catalog, parsed.app, parsed.role);
  if (!found) {
    err(`access-bot policy: no role ${parsed.app}/${parsed.role} in ${cfg.config.catalogPath}`);
    return 2;
  }
  const { app, role } = found;
  const duration = parsed.duration === undefined ? role.durations[0]! : role.durations.find((d) => d.token === parsed.duration);
  if (!duration) {
    err(`access-bot policy: ${app.name} / ${role.name} does not offer ${parsed.duration} (it offers ${role.durations.map((d) => d.token).join(', ')})`);
    return 2;
  }
  const now = (opts.now ?? Date.now)();
  out(`${parsed.email} asking for ${app.name} / ${role.name} (${describeDuration(duration)}) on ${formatTime(now)}:`);
  if (!role.rules) {
    out(`  The role has no rules: ${describePolicy(role.approval)}.`);
    return 0;
  }
  const logger = { warn: () => undefined };
  const deps = { connectors: buildConnectors(cfg.config), logger, onCall: onCallLookup(cfg.config, { logger, now: () => now }) };
  const { facts, choice } = await explainPolicy(deps, role, { email: parsed.email, durationMs: duration.ms, kind: 'access', now });
  for (const line of factLines(role.rules.factsFrom, facts)) out(`  ${line}`);
  for (const v of choice.verdicts) out(`  ${v.label}: ${v.result === 'matched' ? 'matches' : v.result === 'no_match' ? 'does not match' : 'cannot be checked'} (${v.why})`);
  if (choice.kind === 'undecided') {
    out(`Not decided now: ${choice.why}. Routing would try again rather than auto-approve.`);
    return 1;
  }
  const told = choice.notify.length ? `; tells ${choice.notify.join(', ')}` : '';
  out(`Applies: ${choice.label}: ${describePolicy(choice.policy)}${told}.`);
  if (choice.onCall?.end != null) out(`The access would end with the on-call shift, at ${formatTime(choice.onCall.end)}, if the duration asked runs longer.`);
  return 0;
}

function parseArgs(args: string[]): { email: string; app: string; role: string; duration?: string } | { error: string } {
  const [sub, ...rest] = args;
  if (sub !== 'explain') return { error: sub === undefined ? 'no subcommand given' : `unknown subcommand "${sub}"` };
  const positional: string[] = [];
  let duration: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--duration') {
      duration = rest[++i];
      if (duration === undefined || !parseDuration(duration)) return { error: `--duration needs a duration like 4h${duration === undefined ? '' : `, not "${duration}"`}` };
    } else if (a.startsWith('--')) return { error: `unknown option "${a}"` };
    else positional.push(a);
  }
  if (positional.length !== 2) return { error: 'expected <email> <app>/<role>' };
  const [email, target] = positional as [string, string];
  if (!EMAIL_RE.test(email)) return { error: `"${email}" is not an email address` };
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(target);
  if (!m) return { error: `"${target}" is not <app>/<role> (ids, e.g. payments-console/operator)` };
  return { email: email.toLowerCase(), app: m[1]!, role: m[2]!, ...(duration === undefined ? {} : { duration }) };
}

function factLines(from: string, f: PolicyFacts): string[] {
  const lines: string[] = describeOnCall(f);
  if (!f.groups.known && f.groups.why === 'not looked up' && !f.profile.known && f.profile.why === 'not looked up') return lines;
  if (f.groups.known || f.groups.why !== 'not looked up') lines.push(`groups in ${from}: ${describeGroups(f.groups)}`);
  if (f.profile.known) lines.push(`department: ${f.profile.value.department ?? 'not recorded'}; title: ${f.profile.value.title ?? 'not recorded'}`);
  else if (f.profile.why !== 'not looked up') lines.push(`department and title: unknown (${f.profile.why})`);
  return lines;
}
