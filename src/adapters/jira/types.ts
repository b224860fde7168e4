/**
 * The Jira record port: what the outbox handlers need from Jira Cloud. Implemented over the REST
 * API v3, called directly, in `record.ts`.
 *
 * Every method is idempotent across retries, because the outbox may run it again after a crash
 * between the call and the write that records its result:
 * - `createIssue` labels the issue `access-bot-<requestId>`; before creating it looks the label up
 *   and adopts an existing issue instead of creating a second one.
 * - `addComment` sets a comment property (`access-bot` = `{ effectId }`) and, before posting,
 *   looks through the issue's comments for one carrying the same effect id.
 * - `setProperty` is a PUT.
 * - `transition` treats "the issue is already in the transition's target status" as done.
 *
 * Errors are `RetryableError` (429 with Retry-After, 5xx, timeouts, connection errors) or
 * `PermanentError` (401/403, project/issue type/transition missing, 400 validation).
 */
export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

export interface AdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  text?: string;
  marks?: { type: string; attrs?: Record<string, unknown> }[];
}

export interface CreateIssueInput {
  requestId: string;
  project: string;
  issueType: string;
  summary: string;
  description: AdfDoc;
}

export interface JiraRecord {
  createIssue(input: CreateIssueInput): Promise<{ key: string; id: string }>;
  /**
   * `effectId` makes the comment recognisable on a retry. Returns the comment id. With
   * `mayExist: false` (the effect's first attempt: nothing can have been posted under this id
   * yet) the look-up of existing comments is skipped. `existed`: the look-up found it, nothing was posted.
   */
  addComment(issueKey: string, body: AdfDoc, effectId: string, opts?: { mayExist?: boolean }): Promise<{ id: string; existed?: true }>;
  setProperty(issueKey: string, propertyKey: string, value: unknown): Promise<void>;
  /** Applies the transition with this name (case-insensitive); nothing when the issue is in one of `doneIn`. */
  transition(issueKey: string, transitionName: string, opts?: { doneIn?: string[] }): Promise<void>;
  /** Moves the issue to this status by whichever transition leads there now. */
  moveToStatus(issueKey: string, status: string): Promise<'moved' | 'already' | 'no_transition'>;
  /** For `access-bot check`: project, issue type, transitions, permissions (with project '': the credentials only). Never throws. */
  checkHealth(project: string, issueType: string, transitionNames: string[]): Promise<{ ok: boolean; checks: { name: string; ok: boolean; detail?: string }[] }>;
}
