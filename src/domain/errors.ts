/**
 * Domain errors carry a stable `code` so that adapters can explain them to people (an ephemeral
 * Slack reply) and tests can assert on them without matching prose.
 */
export type DomainErrorCode =
  /** The lifecycle table has no such transition from the current state. */
  | 'invalid_transition'
  /** The requester tried to decide their own request. */
  | 'self_approval'
  /** The person who asked for the access on the requester's behalf tried to decide it. */
  | 'submitter_approval'
  /** The actor is not a routed approver of the request's current stage. */
  | 'not_an_approver'
  /** The request was already decided (or ended) before this decision arrived. */
  | 'already_decided'
  /** This approver already voted in this stage. */
  | 'already_voted'
  /** A submitted form names something the catalog does not have, or breaks a rule. */
  | 'invalid_submission';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Extra facts for the explanation, e.g. the state the request is in. */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
