/**
 * Jira Cloud's wire conventions shared by every route of the site emulator (Jira's own and the
 * Atlassian users/groups API it also serves): the error body, the timestamp format and how query
 * parameters are read.
 */
import type { EmuRequest, EmuResponse } from '../base.js';

export type Json = Record<string, unknown>;

/** Registers a route on the site, behind its basic auth unless `anonymous`. */
export type SiteRoute = (method: string, pattern: string, handler: (req: EmuRequest) => EmuResponse, anonymous?: boolean) => void;

/** Jira's error body. */
export function jiraError(status: number, errorMessages: string[], errors: Record<string, string> = {}): EmuResponse {
  return { status, body: { errorMessages, errors } };
}

/** Jira's timestamp format, e.g. 2024-05-01T10:00:00.000+0000. */
export function jiraDate(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function intParam(q: URLSearchParams, name: string, def: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '' || raw === 'false') return def;
  const n = Number(raw);
  return Number.isFinite(n) ? Math.trunc(n) : def;
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  return (q.get(name) ?? '').toLowerCase() === 'true';
}

/** Values of a repeatable query parameter; jira.js sends arrays comma-joined, Jira documents repeats. */
export function multiParam(q: URLSearchParams, name: string): string[] {
  return q
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}
