/**
 * The catalog's `delegates:` section: who may request access for someone other than themself
 * (besides that person's manager, whom MANAGER_SOURCE names). Read after `applications:`, whose
 * ids an entry may name.
 *
 *   delegates:
 *     - email: helpdesk@example.com   # may request for anyone,
 *       for: all
 *       applications: [wiki]         # but only for these applications (default: all)
 *     - email: eve@example.com        # may request for these people, in every application
 *       for: [alice@example.com, bob@example.com]
 */
import type { Delegate } from '../../domain/onBehalf.js';
import { EMAIL_RE } from '../values.js';
import { type Reader, show, suggest } from './reader.js';

const DELEGATE_KEYS = ['email', 'for', 'applications'] as const;

/**
 * `appIds`: the catalog's application ids; undefined when `applications:` itself is wrong (then
 * the ids an entry names are not checked). undefined: an error was reported; absent: `[]`.
 */
export function delegates(r: Reader, raw: unknown, appIds: readonly string[] | undefined): Delegate[] | undefined {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return r.fail('delegates', 'must be a list of delegates, e.g. - { email: helpdesk@example.com, for: all }');
  const out: Delegate[] = [];
  let bad = false;
  raw.forEach((item, i) => {
    const d = delegate(r, `delegates[${i}]`, item, appIds);
    if (d) out.push(d);
    else bad = true;
  });
  return bad ? undefined : out;
}

function delegate(r: Reader, p: string, raw: unknown, appIds: readonly string[] | undefined): Delegate | undefined {
  const m = r.map(p, raw, 'a map with email: (the delegate) and for: (all, or a list of emails)');
  if (!m) return undefined;
  r.keys(p, m, DELEGATE_KEYS);
  const email = emailOf(r, `${p}.email`, m.email, 'the email of the person who may request for others');
  const people = forWhom(r, `${p}.for`, m.for, email);
  const apps = m.applications === undefined ? 'all' : applications(r, `${p}.applications`, m.applications, appIds);
  if (email === undefined || people === undefined || apps === undefined) return undefined;
  return { email, for: people, applications: apps };
}

function emailOf(r: Reader, p: string, raw: unknown, what: string): string | undefined {
  const s = r.str(p, raw, what);
  if (s === undefined) return undefined;
  if (!EMAIL_RE.test(s)) return r.fail(p, `${show(s)} is not an email address`);
  return s.toLowerCase();
}

/** `for: all`, or a list of emails (not the delegate's own: anyone may request for themself). */
function forWhom(r: Reader, p: string, raw: unknown, self: string | undefined): Delegate['for'] | undefined {
  if (raw === undefined) return r.fail(p, 'required (all, or a list of the emails this person may request for)');
  if (raw === 'all') return 'all';
  if (!Array.isArray(raw)) return r.fail(p, `${show(raw)} is neither all nor a list of emails (e.g. [alice@example.com])`);
  if (raw.length === 0) return r.fail(p, 'lists nobody (write all, or the emails this person may request for)');
  const out: string[] = [];
  let bad = false;
  raw.forEach((item, i) => {
    const e = emailOf(r, `${p}[${i}]`, item, 'an email');
    if (e === undefined) return void (bad = true);
    if (out.includes(e)) return void (bad = r.fail(`${p}[${i}]`, `"${e}" is listed twice`) ?? true);
    if (e === self) return void (bad = r.fail(`${p}[${i}]`, `"${e}" is the delegate themself (everyone may request for themself; list the others)`) ?? true);
    out.push(e);
  });
  return bad ? undefined : out;
}

/** Application ids of this catalog, each once. */
function applications(r: Reader, p: string, raw: unknown, appIds: readonly string[] | undefined): string[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return r.fail(p, 'must be a list of application ids, e.g. [wiki] (leave it out for every application)');
  const out: string[] = [];
  let bad = false;
  raw.forEach((item, i) => {
    const id = r.str(`${p}[${i}]`, item, 'an application id');
    if (id === undefined) return void (bad = true);
    if (appIds && !appIds.includes(id)) return void (bad = r.fail(`${p}[${i}]`, `"${id}" is not an application id in this catalog${suggest(id, appIds)}`) ?? true);
    if (out.includes(id)) return void (bad = r.fail(`${p}[${i}]`, `"${id}" is listed twice`) ?? true);
    out.push(id);
  });
  return bad ? undefined : out;
}
