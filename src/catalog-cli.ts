/**
 * `access-bot catalog import --connector <instance> --filter <the IdP's group filter>
 * [--pattern <regex with (?<app>…)>] [--owners-attribute <name>] [--diff]`: the IdP's groups as catalog YAML on stdout, or
 * with --diff what importing would add, remove or change against ACCESS_CATALOG. Reads the same
 * environment as the bot; writes no file.
 */
import { groupDirectory } from './compose.js';
import { loadCatalog } from './config/catalog.js';
import { loadConfig } from './config/env.js';
import { ATTRIBUTE_RE, diffPlan, listAllGroups, parsePattern, planImport, planYaml } from './jobs/catalogImport.js';

export const CATALOG_USAGE = `Usage: access-bot catalog import --connector <instance> --filter <filter> [--pattern <regex>] [--owners-attribute <name>] [--diff]

Lists the identity provider's groups that match <filter>, in the provider's own language
(Okta: a search expression, e.g. 'profile.name sw "app-"'), and prints them as catalog YAML:
one role per group, applications named by the (?<app>…) capture of --pattern (and roles by
(?<role>…) when it has one), or one application per group without it. --owners-attribute
names the group attribute holding owners' emails (Okta: a custom group profile attribute,
a string array or a comma-separated string): an application's owners are its groups'. With --diff, prints
what the import would add (+), remove (-) or change (~) against the catalog in ACCESS_CATALOG.
Never edits the catalog: review the output and commit it yourself.
Exit code: 0 done, 1 the provider or the configuration failed, 2 usage error.`;

interface Args {
  connector: string;
  filter: string;
  pattern?: RegExp;
  ownersAttribute?: string;
  diff: boolean;
}

function parseArgs(args: string[]): Args | string {
  const [sub, ...rest] = args;
  if (sub !== 'import') return sub === undefined ? 'no catalog command given' : `unknown catalog command "${sub}"`;
  const values: Record<string, string> = {};
  let diff = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--diff') diff = true;
    else if (a === '--connector' || a === '--filter' || a === '--pattern' || a === '--owners-attribute') {
      const v = rest[++i];
      if (v === undefined || v.trim() === '') return `${a} needs a value`;
      values[a] = v;
    } else return `unexpected argument "${a}"`;
  }
  if (!values['--connector']) return '--connector is required (the connector instance to list groups from, e.g. okta)';
  if (!values['--filter']) return "--filter is required (the identity provider's own group filter)";
  const out: Args = { connector: values['--connector'], filter: values['--filter'], diff };
  const owners = values['--owners-attribute'];
  if (owners !== undefined) {
    if (!ATTRIBUTE_RE.test(owners)) return `--owners-attribute: "${owners}" is not an attribute name (its variable name, e.g. owners or appOwners)`;
    out.ownersAttribute = owners;
  }
  if (values['--pattern'] !== undefined) {
    const p = parsePattern(values['--pattern']);
    if (typeof p === 'string') return p;
    out.pattern = p;
  }
  return out;
}

export async function runCatalog(args: string[], env: Record<string, string | undefined>, out: (l: string) => void, err: (l: string) => void): Promise<number> {
  if (args.some((a) => a === '-h' || a === '--help')) {
    out(CATALOG_USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    err(`access-bot catalog: ${parsed}\n\n${CATALOG_USAGE}`);
    return 2;
  }
  const cfg = loadConfig(env);
  if (!cfg.ok) {
    for (const line of cfg.errors) err(`config error: ${line}`);
    return 1;
  }
  let current;
  if (parsed.diff) {
    const cat = loadCatalog(cfg.config.catalogPath, { configuredConnectors: undefined });
    if (!cat.ok) {
      for (const line of cat.errors) err(`catalog error: ${line}`);
      return 1;
    }
    current = cat.catalog;
  }
  try {
    const directory = groupDirectory(cfg.config, parsed.connector);
    const groups = await listAllGroups(directory, parsed.filter);
    const plan = planImport(groups, { connector: parsed.connector, ...(parsed.pattern ? { pattern: parsed.pattern } : {}), ...(parsed.ownersAttribute ? { ownersAttribute: parsed.ownersAttribute } : {}) });
    if (current) {
      const lines = diffPlan(plan, current);
      if (lines.length === 0) out(`No differences: the catalog grants exactly the ${groups.length} group(s) the filter matched on ${parsed.connector}.`);
      for (const l of lines) out(l);
    } else {
      const header = [
        `access-bot catalog import --connector ${parsed.connector} --filter '${parsed.filter}'${parsed.pattern ? ` --pattern '${parsed.pattern.source}'` : ''}${parsed.ownersAttribute ? ` --owners-attribute ${parsed.ownersAttribute}` : ''}: ${groups.length} group(s).`,
      ];
      out(planYaml(plan, header).trimEnd());
    }
    return 0;
  } catch (e) {
    err(`access-bot catalog import: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
