/**
 * Validates a request form against the catalog. Pure: returns the errors keyed by the form field
 * they belong to, so the modal can show each one inline.
 */
import { findRole, type Application, type Catalog, type Role } from './catalog.js';
import type { Duration } from './duration.js';

export type FormField = 'application' | 'role' | 'duration' | 'reason';

export interface Submission {
  appId: string | undefined;
  roleId: string | undefined;
  durationToken: string | undefined;
  reason: string | undefined;
}

/** Reasons longer than this are refused (Slack's input allows 3000; Jira summaries stay readable). */
export const MAX_REASON_LENGTH = 2000;
export const MIN_REASON_LENGTH = 3;

export type ValidatedSubmission = { ok: true; app: Application; role: Role; duration: Duration; reason: string } | { ok: false; errors: Partial<Record<FormField, string>> };

export function validateSubmission(catalog: Catalog, s: Submission): ValidatedSubmission {
  const errors: Partial<Record<FormField, string>> = {};
  const app = s.appId ? catalog.applications.find((a) => a.id === s.appId) : undefined;
  if (!s.appId) errors.application = 'Choose an application.';
  else if (!app) errors.application = 'This application is no longer in the catalog. Choose another.';

  const found = app && s.roleId ? findRole(catalog, app.id, s.roleId) : undefined;
  if (app && !s.roleId) errors.role = 'Choose a role.';
  else if (app && !found) errors.role = `This role is not offered for ${app.name}. Choose another.`;

  const role = found?.role;
  const duration = role?.durations.find((d) => d.token === s.durationToken);
  if (role && !s.durationToken) errors.duration = 'Choose a duration.';
  else if (role && !duration) errors.duration = `This duration is not allowed for ${role.name}.`;

  const reason = (s.reason ?? '').trim();
  const problem = reasonProblem(reason, role?.breakGlass?.minReasonLength);
  if (problem) errors.reason = problem;

  if (Object.keys(errors).length > 0 || !app || !role || !duration) return { ok: false, errors };
  return { ok: true, app, role, duration, reason };
}

/** What is wrong with a (trimmed) reason, if anything; `emergencyMin`: a break-glass role's minimum. */
export function reasonProblem(reason: string, emergencyMin?: number): string | undefined {
  const min = Math.max(MIN_REASON_LENGTH, emergencyMin ?? 0);
  if (reason.length === 0) return 'Give a reason for the request.';
  if (reason.length < min) return emergencyMin !== undefined ? `Emergency access needs a detailed reason: at least ${min} characters.` : `Give a reason of at least ${min} characters.`;
  if (reason.length > MAX_REASON_LENGTH) return `Keep the reason under ${MAX_REASON_LENGTH} characters (it has ${reason.length}).`;
  return undefined;
}
