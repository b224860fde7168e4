/**
 * Slack Web API wire conventions every method module of the emulator shares: arguments arrive as
 * query, form or JSON fields, answers are HTTP 200 with `{ ok: true, ... }` or `{ ok: false, error }`.
 */
import type { EmuResponse } from '../base.js';

/** A JSON object as it travels on the wire. Block Kit is open-ended, so it stays loosely typed. */
export type Obj = Record<string, unknown>;

export type Args = Record<string, unknown>;
export type MethodResult = EmuResponse;
export type MethodHandler = (args: Args) => MethodResult;
/** Web API methods by name (`chat.postMessage`), as a module serves them. */
export type SlackMethods = Record<string, MethodHandler>;

export const INVALID_JSON = Symbol('invalid json');

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** Form values arrive as strings ("true", "1"); JSON bodies as booleans. */
export function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

export function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** Nested values come JSON-encoded in form bodies and as-is in JSON bodies. */
export function parseJsonArg(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

export function ok(body: Obj): MethodResult {
  return { status: 200, body: { ok: true, ...body } };
}

export function fail(error: string, extra: Obj = {}): MethodResult {
  return { status: 200, body: { ok: false, error, ...extra } };
}
