/**
 * Jira's JSON for an issue, read as intake reads it (domain/intake.ts `IssueSnapshot`), from
 * either place it comes from:
 * - a webhook (`jira:issue_created`, `jira:issue_updated`): the issue as REST API v2 writes it
 *   (description in wiki markup, every custom field present, null when empty), with the event's
 *   `changelog` (`{id, items}`), `user` (who acted) and `timestamp`
 *   (https://developer.atlassian.com/cloud/jira/platform/webhooks/#example-callback-for-an-issue-related-event);
 * - the poll's enhanced search (REST API v3: description in ADF, `expand=changelog` giving
 *   `changelog.histories`).
 * Select options are `{value, id}` (`{value, child}` for a cascading select: its parent value is
 * read), users `{accountId, …}`. A JSM issue carries its request type in the "Request Type"
 * custom field (schema `com.atlassian.servicedesk:vp-origin`), whose value is
 * `{requestType: {id, name, …}, currentStatus, _links}`; its field id differs per site, so the
 * value is recognised by its shape.
 */
import type { FieldValue, HistoryItem, IssueHistory, IssueSnapshot } from '../../domain/intake.js';
import { adfToText } from './adf.js';
import { REQUEST_LABEL_PREFIX } from './record.js';
import type { AdfDoc } from './types.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** Jira's `2024-05-01T10:00:00.000+0000` (and ISO 8601 proper), or epoch ms. NaN when neither. */
export function jiraTime(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NaN;
  return Date.parse(v.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

function accountOf(v: unknown): string | undefined {
  return isObject(v) ? str(v['accountId']) : undefined;
}

/** A field's value: option → its value, user → accountId, text as is, lists item by item; undefined for shapes intake does not read. */
function fieldValue(v: unknown): FieldValue | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    const items = v.map(fieldValue).filter((x): x is string => typeof x === 'string');
    return items;
  }
  if (isObject(v)) {
    if (typeof v['value'] === 'string') return v['value'];
    const account = accountOf(v);
    if (account) return { accountId: account };
  }
  return undefined;
}

function requestTypeIn(fields: Json): string | undefined {
  for (const v of Object.values(fields)) {
    if (isObject(v) && isObject(v['requestType'])) {
      const name = str(v['requestType']['name']);
      if (name) return name;
    }
  }
  return undefined;
}

function items(raw: unknown): HistoryItem[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((i) => ({
    field: str(i['field']) ?? '',
    ...(str(i['fieldId']) ? { fieldId: str(i['fieldId']) } : {}),
    from: str(i['from']) ?? null,
    fromString: str(i['fromString']) ?? null,
    to: str(i['to']) ?? null,
    toString: str(i['toString']) ?? null,
  }));
}

function history(raw: Json, author: unknown, at: unknown): IssueHistory | undefined {
  const id = str(raw['id']);
  if (!id) return undefined;
  const who = accountOf(author);
  return { id, ...(who ? { author: who } : {}), at: jiraTime(at), items: items(raw['items']) };
}

/** The webhook event around an issue: its changelog, who acted, when. */
export interface WebhookContext {
  changelog?: unknown;
  user?: unknown;
  timestamp?: unknown;
}

/** undefined when `raw` is no issue (no id or key). */
export function issueSnapshot(raw: unknown, event: WebhookContext = {}): IssueSnapshot | undefined {
  if (!isObject(raw)) return undefined;
  const id = str(raw['id']);
  const key = str(raw['key']);
  if (!id || !key) return undefined;
  const f = isObject(raw['fields']) ? raw['fields'] : {};
  const labels = Array.isArray(f['labels']) ? f['labels'].filter((l): l is string => typeof l === 'string') : [];
  const d = f['description'];
  const description = typeof d === 'string' ? d : isObject(d) && d['type'] === 'doc' ? adfToText(d as unknown as AdfDoc) : '';
  const fields: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(f)) {
    if (!k.startsWith('customfield_')) continue;
    const value = fieldValue(v);
    if (value !== undefined) fields[k] = value;
  }
  const histories: IssueHistory[] = [];
  const changelog = isObject(raw['changelog']) ? raw['changelog'] : undefined;
  for (const h of Array.isArray(changelog?.['histories']) ? changelog['histories'] : []) {
    const parsed = isObject(h) ? history(h, h['author'], h['created']) : undefined;
    if (parsed) histories.push(parsed);
  }
  const own = isObject(event.changelog) ? history(event.changelog, event.user, event.timestamp) : undefined;
  if (own && !histories.some((h) => h.id === own.id)) histories.push(own);
  histories.sort((a, b) => a.at - b.at);
  const requestType = requestTypeIn(f);
  const reporter = accountOf(f['reporter']);
  const creator = accountOf(f['creator']);
  const status = isObject(f['status']) ? str(f['status']['name']) : undefined;
  return {
    id,
    key,
    projectKey: (isObject(f['project']) ? str(f['project']['key']) : undefined) ?? key.replace(/-\d+$/, ''),
    issueType: (isObject(f['issuetype']) ? str(f['issuetype']['name']) : undefined) ?? '',
    ...(requestType ? { requestType } : {}),
    createdByBot: labels.some((l) => l.startsWith(REQUEST_LABEL_PREFIX)),
    summary: str(f['summary']) ?? '',
    description,
    ...(reporter ? { reporter } : {}),
    ...(creator ? { creator } : {}),
    ...(status ? { status } : {}),
    created: jiraTime(f['created']),
    updated: jiraTime(f['updated']),
    fields,
    histories,
  };
}
