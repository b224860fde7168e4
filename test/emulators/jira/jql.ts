/**
 * JQL, the subset the bot and its tests use (`field = v`, `!=`, `in (…)`, `not in (…)`, `~` on
 * summary, `>`, `>=`, `<`, `<=` on `created` and `updated`, `AND`, `ORDER BY`), with the error
 * texts Jira gives for a query it cannot parse or a value that does not exist; and the enhanced
 * search that runs it (GET/POST /rest/api/3/search/jql, `expand=changelog` included). The old
 * /rest/api/3/search answers 410 Gone, as on Jira Cloud.
 *
 * Dates (https://support.atlassian.com/jira-software-cloud/docs/jql-fields/#Created): absolute
 * `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`, `yyyy/MM/dd`, `yyyy-MM-dd` (read in UTC here, the
 * time zone of the emulated account), or relative to now, `-5m`, `-2h`, `-1d`, `-1w` (and sums
 * like `-1w 2d`); anything else is Jira's "Date value '…' for field '…' is invalid" 400.
 */
import { Buffer } from 'node:buffer';
import type { EmuResponse } from '../base.js';
import { changelogJson, issueJson } from './issues.js';
import type { EmuIssue, JiraSite } from './site.js';
import { intParam, isObject, jiraError, multiParam, type Json, type SiteRoute } from './wire.js';

type JqlToken = { kind: 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'comma'; value: string };

type CompareOp = '>' | '>=' | '<' | '<=';

interface JqlClause {
  field: string;
  op: '=' | '!=' | 'in' | 'not in' | '~' | CompareOp;
  values: string[];
}

const DATE_FIELDS = new Set(['created', 'updated']);

interface JqlQuery {
  clauses: JqlClause[];
  order: { field: string; dir: 'asc' | 'desc' }[];
}

class JqlError extends Error {}

function tokenize(jql: string): JqlToken[] {
  const out: JqlToken[] = [];
  let i = 0;
  while (i < jql.length) {
    const c = jql.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < jql.length && jql.charAt(j) !== c) {
        if (jql.charAt(j) === '\\' && j + 1 < jql.length) j += 1;
        s += jql.charAt(j);
        j += 1;
      }
      if (j >= jql.length) throw new JqlError(`Error in the JQL Query: The quoted string '${s}' has not been completed.`);
      out.push({ kind: 'string', value: s });
      i = j + 1;
    } else if (c === '(') {
      out.push({ kind: 'lparen', value: c });
      i += 1;
    } else if (c === ')') {
      out.push({ kind: 'rparen', value: c });
      i += 1;
    } else if (c === ',') {
      out.push({ kind: 'comma', value: c });
      i += 1;
    } else if (c === '!' && jql.charAt(i + 1) === '=') {
      out.push({ kind: 'op', value: '!=' });
      i += 2;
    } else if ((c === '>' || c === '<') && jql.charAt(i + 1) === '=') {
      out.push({ kind: 'op', value: `${c}=` });
      i += 2;
    } else if (c === '=' || c === '~' || c === '>' || c === '<') {
      out.push({ kind: 'op', value: c });
      i += 1;
    } else {
      const m = /^[^\s=!~(),"'<>]+/.exec(jql.slice(i));
      if (!m) throw new JqlError(`Error in the JQL Query: The character '${c}' is a reserved JQL character.`);
      out.push({ kind: 'word', value: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

const FIELD_ALIASES: Record<string, string> = {
  labels: 'labels',
  label: 'labels',
  project: 'project',
  issuetype: 'issuetype',
  type: 'issuetype',
  status: 'status',
  key: 'key',
  issuekey: 'key',
  id: 'key',
  summary: 'summary',
  text: 'summary',
  created: 'created',
  createddate: 'created',
  updated: 'updated',
  updateddate: 'updated',
};

function parseJql(jql: string): JqlQuery {
  const t = tokenize(jql);
  let i = 0;
  const clauses: JqlClause[] = [];
  const order: JqlQuery['order'] = [];
  const word = (w: string): boolean => t[i]?.kind === 'word' && t[i]?.value.toLowerCase() === w;
  const value = (): string => {
    const tok = t[i];
    if (!tok || (tok.kind !== 'word' && tok.kind !== 'string')) throw new JqlError('Error in the JQL Query: Expecting either a value, list or function but got end of the query.');
    i += 1;
    return tok.value;
  };
  while (i < t.length && !word('order')) {
    if (clauses.length > 0) {
      if (!word('and')) throw new JqlError(`Error in the JQL Query: Expecting either 'OR' or 'AND' but got '${t[i]?.value ?? ''}'.`);
      i += 1;
    }
    const f = t[i];
    if (!f || (f.kind !== 'word' && f.kind !== 'string')) throw new JqlError('Error in the JQL Query: Expecting a field name.');
    i += 1;
    const field = FIELD_ALIASES[f.value.toLowerCase()];
    if (!field) throw new JqlError(`Field '${f.value}' does not exist or you do not have permission to view it.`);
    let op: JqlClause['op'];
    if (t[i]?.kind === 'op') {
      op = t[i]?.value as JqlClause['op'];
      i += 1;
    } else if (word('in')) {
      op = 'in';
      i += 1;
    } else if (word('not') && t[i + 1]?.value.toLowerCase() === 'in') {
      op = 'not in';
      i += 2;
    } else {
      throw new JqlError(`Error in the JQL Query: Expecting operator but got '${t[i]?.value ?? 'end of the query'}'.`);
    }
    const values: string[] = [];
    if (op === 'in' || op === 'not in') {
      if (t[i]?.kind !== 'lparen') throw new JqlError("Error in the JQL Query: Expecting '(' .");
      i += 1;
      values.push(value());
      while (t[i]?.kind === 'comma') {
        i += 1;
        values.push(value());
      }
      if (t[i]?.kind !== 'rparen') throw new JqlError("Error in the JQL Query: Expecting ')' .");
      i += 1;
    } else {
      values.push(value());
    }
    clauses.push({ field, op, values });
  }
  if (word('order')) {
    i += 1;
    if (!word('by')) throw new JqlError("Error in the JQL Query: Expecting 'by' after 'order'.");
    i += 1;
    do {
      if (t[i]?.kind === 'comma') i += 1;
      const f = value().toLowerCase();
      let dir: 'asc' | 'desc' = 'asc';
      if (word('asc') || word('desc')) {
        dir = (t[i]?.value.toLowerCase() ?? 'asc') as 'asc' | 'desc';
        i += 1;
      }
      order.push({ field: f, dir });
    } while (t[i]?.kind === 'comma');
  }
  if (i < t.length) throw new JqlError(`Error in the JQL Query: Unexpected '${t[i]?.value ?? ''}'.`);
  return { clauses, order };
}

export function mountSearch(site: JiraSite, on: SiteRoute): void {
  const api = '/rest/api/3';
  on('POST', `${api}/search/jql`, (r) => search(site, isObject(r.body) ? r.body : {}));
  on('GET', `${api}/search/jql`, (r) =>
    search(site, {
      jql: r.query.get('jql') ?? undefined,
      nextPageToken: r.query.get('nextPageToken') ?? undefined,
      maxResults: r.query.has('maxResults') ? intParam(r.query, 'maxResults', 50) : undefined,
      fields: r.query.has('fields') ? multiParam(r.query, 'fields') : undefined,
      expand: r.query.get('expand') ?? undefined,
      reconcileIssues: multiParam(r.query, 'reconcileIssues').map(Number),
    }),
  );
  // Removed endpoints (CHANGE-2046): Jira Cloud answers 410 Gone and points to /search/jql.
  const gone = (): EmuResponse => jiraError(410, ['The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046']);
  on('GET', `${api}/search`, gone);
  on('POST', `${api}/search`, gone);
}

/**
 * Enhanced search (GET/POST /rest/api/3/search/jql): bounded JQL only, `maxResults` default 50
 * (at most 5000), opaque `nextPageToken`, `isLast`; only issue ids unless `fields` are asked for.
 * Recently changed issues can be missing (eventual consistency, `searchLagMs`) unless their ids
 * are in `reconcileIssues`.
 */
function search(site: JiraSite, body: Json): EmuResponse {
  const jql = typeof body['jql'] === 'string' ? body['jql'] : '';
  let q: JqlQuery;
  try {
    q = parseJql(jql);
  } catch (e) {
    return jiraError(400, [(e as Error).message]);
  }
  if (q.clauses.length === 0) return jiraError(400, ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.']);
  for (const c of q.clauses) {
    const check = checkJqlValues(site, c);
    if (check) return jiraError(400, [check]);
  }
  const now = Date.now();
  const reconcile = new Set((Array.isArray(body['reconcileIssues']) ? (body['reconcileIssues'] as unknown[]) : []).map(String));
  let hits = [...site.issues.values()].filter((i) => {
    if (!site.can('BROWSE_PROJECTS')) return false;
    const visible = reconcile.has(i.id) || site.searchLagMs <= 0 || now - (site.indexedAt.get(i.key) ?? 0) >= site.searchLagMs;
    return visible && q.clauses.every((c) => matches(site, i, c, now));
  });
  const order = q.order.length > 0 ? q.order : [{ field: 'created', dir: 'desc' as const }];
  hits = hits.sort((a, b) => {
    for (const o of order) {
      const av = o.field === 'updated' ? a.updated.getTime() : o.field === 'created' ? a.created.getTime() : Number(a.id);
      const bv = o.field === 'updated' ? b.updated.getTime() : o.field === 'created' ? b.created.getTime() : Number(b.id);
      if (av !== bv) return (av < bv ? -1 : 1) * (o.dir === 'asc' ? 1 : -1);
    }
    return 0;
  });
  let offset = 0;
  if (typeof body['nextPageToken'] === 'string' && body['nextPageToken'] !== '') {
    const decoded = Number(Buffer.from(body['nextPageToken'], 'base64url').toString('utf8'));
    if (!Number.isInteger(decoded) || decoded < 0) return jiraError(400, ['The provided next page token is invalid or expired.']);
    offset = decoded;
  }
  const maxResults = Math.min(5000, Math.max(1, typeof body['maxResults'] === 'number' ? body['maxResults'] : 50));
  const page = hits.slice(offset, offset + maxResults);
  const isLast = offset + page.length >= hits.length;
  const fields = Array.isArray(body['fields']) ? (body['fields'] as unknown[]).map(String) : undefined;
  const withChangelog = typeof body['expand'] === 'string' && body['expand'].split(',').map((x) => x.trim()).includes('changelog');
  const issues = page.map((i) => {
    const out: Json = fields && fields.length > 0 && !(fields.length === 1 && fields[0] === 'id') ? issueJson(site, i, fields) : { id: i.id };
    if (withChangelog) out['changelog'] = changelogJson(site, i);
    return out;
  });
  const out: Json = { issues, isLast };
  if (!isLast) out['nextPageToken'] = Buffer.from(String(offset + page.length)).toString('base64url');
  return { body: out };
}

/** Jira validates JQL values against what exists: an unknown project or status is a 400. */
function checkJqlValues(site: JiraSite, c: JqlClause): string | undefined {
  const compare = c.op === '>' || c.op === '>=' || c.op === '<' || c.op === '<=';
  if (compare && !DATE_FIELDS.has(c.field)) return `The operator '${c.op}' is not supported by the '${c.field}' field.`;
  for (const v of c.values) {
    if (DATE_FIELDS.has(c.field) && jqlDate(v, 0) === undefined) {
      return `Date value '${v}' for field '${c.field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.`;
    }
    if (c.field === 'project' && !site.findProject(v)) return `The value '${v}' does not exist for the field 'project'.`;
    if (c.field === 'status' && !site.allStatuses().some((s) => s.name.toLowerCase() === v.toLowerCase())) return `The value '${v}' does not exist for the field 'status'.`;
    if (c.field === 'issuetype' && ![...site.projects.values()].some((p) => p.issueTypes.some((t) => t.name.toLowerCase() === v.toLowerCase()))) return `The value '${v}' does not exist for the field 'issuetype'.`;
    if (c.field === 'key' && c.op !== '!=' && c.op !== 'not in' && !site.issue(v)) return `An issue with key '${v}' does not exist for field 'key'.`;
  }
  if (c.op === '~' && c.field !== 'summary') return `The operator '~' is not supported by the '${c.field}' field.`;
  return undefined;
}

/** A JQL date as epoch ms (absolute ones in UTC), relative to `now`; undefined when it is none. */
function jqlDate(v: string, now: number): number | undefined {
  const s = v.trim();
  const abs = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$/.exec(s);
  if (abs) return Date.UTC(Number(abs[1]), Number(abs[2]) - 1, Number(abs[3]), Number(abs[4] ?? 0), Number(abs[5] ?? 0));
  const rel = /^([-+]?)((?:\s*\d+[wdhm])+)$/.exec(s);
  if (!rel) return undefined;
  const unit: Record<string, number> = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000 };
  let span = 0;
  for (const m of rel[2]!.matchAll(/(\d+)([wdhm])/g)) span += Number(m[1]) * unit[m[2]!]!;
  return rel[1] === '-' ? now - span : now + span;
}

function matches(site: JiraSite, i: EmuIssue, c: JqlClause, now: number): boolean {
  if (DATE_FIELDS.has(c.field)) {
    const at = (c.field === 'created' ? i.created : i.updated).getTime();
    // JQL compares dates to the minute: a relative date is "now, to the minute".
    const v = jqlDate(c.values[0] ?? '', now)!;
    const minute = Math.floor(v / 60_000) * 60_000;
    switch (c.op) {
      case '>':
        return at > minute;
      case '>=':
        return at >= minute;
      case '<':
        return at < minute;
      case '<=':
        return at <= minute + 59_999;
      case '=':
        return at >= minute && at <= minute + 59_999;
      case '!=':
        return !(at >= minute && at <= minute + 59_999);
      default:
        return false;
    }
  }
  const vals = c.values.map((v) => v.toLowerCase());
  let hit: boolean;
  switch (c.field) {
    case 'project': {
      const p = site.projects.get(i.projectKey);
      hit = vals.some((v) => v === i.projectKey.toLowerCase() || v === p?.id);
      break;
    }
    case 'labels':
      hit = i.labels.some((l) => vals.includes(l.toLowerCase()));
      break;
    case 'status':
      hit = vals.includes(i.status.toLowerCase());
      break;
    case 'issuetype':
      hit = vals.includes(i.issueType.toLowerCase());
      break;
    case 'key':
      hit = vals.some((v) => v === i.key.toLowerCase() || v === i.id);
      break;
    case 'summary':
      hit = vals.some((v) => i.summary.toLowerCase().includes(v));
      break;
    default:
      hit = false;
  }
  return c.op === '!=' || c.op === 'not in' ? !hit : hit;
}
