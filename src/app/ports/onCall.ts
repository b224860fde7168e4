/**
 * What the app needs from an on-call service (PagerDuty, Jira Service Management Operations): who
 * is on call in a schedule now, with their shifts. On-call services are not identity providers: they
 * grant nothing and no role's grant names them; approval rules test them (`when: { onCall: … }`).
 * Adapters live in src/adapters/oncall/<type>/, configured by environment variables.
 *
 * Contract for implementers:
 * - `roster` asks the service once (no retries, no cache: app/onCall.ts remembers a roster for a
 *   minute and gives up after its own deadline) and throws on any failure, with a message that
 *   names the service and what it answered, never a secret. A failure is never "nobody is on call".
 * - A responder whose email the service will not tell counts in `unresolved`, not as a shift.
 * - `checkSchedules` never throws: every failure is a check in the report.
 */
import type { OnCallServiceType, Roster } from '../../domain/onCall.js';
import type { HealthReport } from './idp.js';

export interface OnCallService {
  readonly type: OnCallServiceType;
  /** The shifts covering the moment of the call, of everyone on call in the schedule (an id). */
  roster(schedule: string): Promise<Roster>;
  /** Credentials valid, and each schedule exists (its name as the detail). */
  checkSchedules(schedules: string[]): Promise<HealthReport>;
}
