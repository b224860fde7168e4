/**
 * Offboarding: when a person leaves (deactivated or suspended in the identity provider, or gone
 * from the Slack workspace), every grant they hold ends at once, their pending requests are
 * cancelled, and the approvals waiting on them go to someone who is still here. Pure: the caller
 * passes what the IdP or Slack said.
 */

/** A user's account as the IdP reports it, in the bot's words. */
export type AccountState = 'active' | 'suspended' | 'deactivated' | 'deleted';

export interface AccountStatus {
  state: AccountState;
  /** The IdP's own word for it (Okta `DEPROVISIONED`, Graph `accountEnabled: false`), for the record. */
  detail?: string;
}

/** Why someone counts as gone: Slack said so, or an IdP did. */
export type Departure = { source: 'slack' } | { source: 'idp'; connector: string; state: Exclude<AccountState, 'active'>; detail?: string };

/** Whether the account lets its holder work: anything but active means they left. */
export function hasLeft(s: AccountStatus): s is AccountStatus & { state: Exclude<AccountState, 'active'> } {
  return s.state !== 'active';
}

/** "left the Slack workspace", "was deactivated in okta (DEPROVISIONED)", "was deleted from entra". */
export function describeDeparture(d: Departure): string {
  if (d.source === 'slack') return 'left the Slack workspace (deactivated in Slack)';
  const detail = d.detail ? ` (${d.detail})` : '';
  return d.state === 'deleted' ? `was deleted from ${d.connector}${detail}` : `was ${d.state} in ${d.connector}${detail}`;
}

/**
 * Whether a stage can still pass once someone left: the approvals it has plus the approvers still
 * asked and undecided reach its quorum. When not, its approval is re-routed to the fallback.
 */
export function stageCanPass(f: { required: number; approvals: number; waiting: number }): boolean {
  return f.approvals + f.waiting >= f.required;
}

/**
 * A check of account statuses that finds most holders gone at once is more likely a broken
 * connector than a mass departure: it is not acted on (admins are told). Small checks always are.
 */
export const MASS_DEPARTURE_MIN = 10;

export function looksLikeMassDeparture(checked: number, gone: number): boolean {
  return gone >= MASS_DEPARTURE_MIN && gone * 2 > checked;
}
