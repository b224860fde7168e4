/** How a failed connection reads (no answer, or refused credentials), and a deadline on a health check. */
import type { HealthReport } from '../app/ports/idp.js';

/**
 * Connection failures (no answer at all), as the adapters and Node word them. The error codes are
 * whole words: "ResourceNotFoundException" (an AWS answer) contains "eNotFound".
 */
export const NETWORK_RE = /\b(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ECONNABORTED)\b|socket hang up|fetch failed|could not reach|connection failed|did not answer|no answer within|timed? ?out|request failed/i;
/** Credential problems: the service answered and refused who we are. */
export const AUTH_RE = /\b401\b|\b403\b|unauthori[sz]ed|forbidden|invalid[ _]token|rejected the api token|credentials rejected|invalid_client|invalid_grant|unauthorized_client|access_denied|E0000011|E0000006/i;

/**
 * A health check that does not answer in time becomes a failing report, so one hanging service
 * cannot stall the whole check (adapters have their own, longer, request timeouts).
 */
export async function guard(name: string, run: () => Promise<HealthReport>, deadlineMs: number, where: string): Promise<HealthReport> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, checks: [{ name, ok: false, detail: `no answer within ${deadlineMs} ms from ${where}` }] }), deadlineMs);
    timer.unref();
  });
  try {
    return await Promise.race([
      // checkHealth must not throw; if one does anyway, it is a failed check, not a crash.
      run().catch((err: unknown) => ({ ok: false, checks: [{ name, ok: false, detail: err instanceof Error ? err.message : String(err) }] })),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
