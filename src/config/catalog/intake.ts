/**
 * The catalog's `jira.intake:` section: which Jira request types (JSM request type names, or issue
 * type names in a project without JSM) are access requests of which kind, and the custom fields
 * that carry the application, role, duration, and for a change or a removal the role left or
 * whose access.
 *
 *   intake:
 *     requestTypes: { Request Application Access: access, Request Access Removal: removal }
 *     fields: { application: customfield_10050, role: customfield_10051, duration: customfield_10052 }
 */
import { REQUEST_KINDS, type IntakeFields, type IntakeRequestType, type JiraIntake, type RequestKind } from '../../domain/catalog.js';
import { type Reader, oneOf, show, suggest } from './reader.js';

const INTAKE_KEYS = ['requestTypes', 'fields'] as const;
const FIELD_KEYS: readonly (keyof IntakeFields)[] = ['application', 'role', 'duration', 'fromRole', 'subject'];
/** What a field of each key must be in Jira, for messages. */
const FIELD_HINT: Record<keyof IntakeFields, string> = {
  application: 'a single-select custom field',
  role: 'a single-select custom field',
  duration: 'a single-select custom field',
  fromRole: 'a single-select custom field',
  subject: 'a user picker custom field',
};
/** Jira's ids of custom fields; system fields (summary, reporter...) carry nothing intake reads. */
const FIELD_ID_RE = /^customfield_[0-9]+$/;

/** `jira.intake`; undefined when absent or invalid (reported). */
export function intake(r: Reader, raw: unknown): JiraIntake | undefined {
  const p = 'jira.intake';
  const m = r.map(p, raw, 'a map with requestTypes: and fields:');
  if (!m) return undefined;
  r.keys(p, m, INTAKE_KEYS);
  const types = requestTypes(r, `${p}.requestTypes`, m.requestTypes);
  const fields = intakeFields(r, `${p}.fields`, m.fields);
  if (!types || !fields) return undefined;
  if (types.some((t) => t.kind === 'change') && fields.fromRole === undefined) {
    return r.fail(`${p}.fields.fromRole`, `required when a request type is a change (${types.filter((t) => t.kind === 'change').map((t) => `"${t.name}"`).join(', ')}): the select field naming the role being left`);
  }
  return { requestTypes: types, fields };
}

function requestTypes(r: Reader, p: string, raw: unknown): IntakeRequestType[] | undefined {
  if (raw === undefined) return r.fail(p, `required: a map of request type name to ${oneOf(REQUEST_KINDS)} (e.g. Request Application Access: access)`);
  const m = r.map(p, raw, `a map of request type name to ${oneOf(REQUEST_KINDS)}`);
  if (!m) return undefined;
  const out: IntakeRequestType[] = [];
  let bad = false;
  for (const [name, kind] of Object.entries(m)) {
    const tp = `${p}.${name}`;
    const clean = name.trim();
    if (clean === '') {
      bad = r.fail(p, 'a request type name is empty') ?? true;
      continue;
    }
    if (typeof kind !== 'string' || !(REQUEST_KINDS as readonly string[]).includes(kind.trim())) {
      bad = r.fail(tp, `${show(kind)} is not a request kind (${oneOf(REQUEST_KINDS)}${typeof kind === 'string' ? suggest(kind, REQUEST_KINDS) : ''})`) ?? true;
      continue;
    }
    const first = out.find((t) => t.name.toLowerCase() === clean.toLowerCase());
    if (first) {
      bad = r.fail(tp, `"${clean}" is already listed as "${first.name}" (request type names are compared without case)`) ?? true;
      continue;
    }
    out.push({ name: clean, kind: kind.trim() as RequestKind });
  }
  if (bad) return undefined;
  if (out.length === 0) return r.fail(p, 'must list at least one request type');
  return out;
}

function intakeFields(r: Reader, p: string, raw: unknown): IntakeFields | undefined {
  if (raw === undefined) return r.fail(p, 'required: the custom field ids of application: and role: (e.g. customfield_10050)');
  const m = r.map(p, raw, 'a map of application:, role:, duration:, fromRole:, subject: to custom field ids');
  if (!m) return undefined;
  r.keys(p, m, FIELD_KEYS);
  const out: Partial<IntakeFields> = {};
  const usedBy = new Map<string, string>();
  let bad = false;
  for (const key of FIELD_KEYS) {
    const v = m[key];
    const kp = `${p}.${key}`;
    if (v === undefined) {
      if (key === 'application' || key === 'role') bad = r.fail(kp, `required (the id of ${FIELD_HINT[key]}, e.g. customfield_10050)`) ?? true;
      continue;
    }
    const id = r.str(kp, v, `the id of ${FIELD_HINT[key]}, e.g. customfield_10050`);
    if (id === undefined) {
      bad = true;
      continue;
    }
    if (!FIELD_ID_RE.test(id)) {
      bad = r.fail(kp, `"${id}" is not a custom field id (customfield_<number>; Jira shows it in the field's configuration URL, or access-bot check lists the fields)`) ?? true;
      continue;
    }
    const other = usedBy.get(id);
    if (other) {
      bad = r.fail(kp, `${id} is already the ${other} field; each field carries one thing`) ?? true;
      continue;
    }
    usedBy.set(id, key);
    out[key] = id;
  }
  if (bad || out.application === undefined || out.role === undefined) return undefined;
  return out as IntakeFields;
}
