import type { Statement } from 'better-sqlite3';
import type {
  ApproverRecord,
  AuditRecord,
  HomeRecord,
  JiraIntakeRecord,
  NewRequest,
  PendingParty,
  PersonFacts,
  PersonRecord,
  RequestPatch,
  RequestRecord,
  Store,
  TxStore,
  SurfacePurpose,
  SurfaceRef,
} from '../../app/ports/store.js';
import type { EvidenceStore } from '../../app/ports/evidence.js';
import { checkChain, GENESIS_HASH, type AuditHead, type ChainCheck, type StoredAuditEvent } from '../../domain/audit.js';
import { normalizeEmail, type PersonId } from '../../domain/people.js';
import type { Step } from '../../domain/steps.js';
import type { EffectSpec, Outbox } from '../../outbox/outbox.js';
import { rowView, type RowOf } from './rowView.js';
import { chainHash, COLUMNS, kindValues, recordPersonWith, REQUEST, toApprover, toAudit, toJiraIntake, toPerson, toRequest, type PersonWrites, type RequestWatcher } from '../storeRows.js';
import { pendingPartiesSql, toPendingParties, type PendingPartyRow } from '../pendingParties.js';
import { TxBatch } from '../txBatch.js';
import type { Db } from './db.js';
import { MEMBER_GONE_SQL, SEEN_MEMBERSHIPS_SQL, activeGrantsSql } from './requestKinds.js';


export { chainHash, toAudit, type RequestWatcher } from '../storeRows.js';

export class SqliteStore implements Store, EvidenceStore {
  private readonly s;
  private readonly watchers: RequestWatcher[] = [];
  /** `updateRequest`'s statements by SQL; the patches the use cases make are a few dozen shapes. */
  private readonly updates = new Map<string, Statement>();
  /** One transaction function for every `tx` (making one per call costs more than a short transaction's SQL). */
  private readonly runTx: (fn: (s: TxStore) => unknown) => unknown;
  private readonly people: PersonWrites;
  private readonly batch: TxBatch;
  /** `getRequest` reads arrays (rowView.ts): it runs dozens of times in each request's life. */
  private readonly requestRow: RowOf;

  constructor(
    private readonly db: Db,
    private readonly outbox: Outbox,
  ) {
    const approvers = `SELECT a.*, p.slack_id, p.email, p.name, s.channel AS dm_channel, s.ts AS dm_ts
      FROM approvers a JOIN people p ON p.id = a.person_id
      LEFT JOIN surface_refs s ON s.request_id = a.request_id AND s.surface = 'slack' AND s.purpose = 'approver_card' AND s.stage = a.stage AND s.person_id = a.person_id`;
    this.runTx = db.transaction((fn: (s: TxStore) => unknown) => fn(this));
    this.batch = new TxBatch({ tx: (fn) => void this.runTx(fn), inTransaction: () => db.inTransaction });
    this.s = {
      insertRequest: db.prepare(`INSERT INTO requests (id, submission_key, state, app_id, role_id, app_name, role_name, connector, group_id,
          duration_token, duration_ms, reason, policy_json, requester_id, created_at, updated_at, break_glass_notify, next_timer_at, extends_id,
          submitted_by, submitted_as, bundle_json, part_of, kind, from_role_id, from_role_name, from_connector, from_group_id, subject_email, subject_name, subject_account_id, origin)
        VALUES (@id, @submissionKey, 'pending', @appId, @roleId, @appName, @roleName, @connector, @groupId, @durationToken, @durationMs,
          @reason, @policyJson, @requesterId, @createdAt, @createdAt, @breakGlassNotify, @nextTimerAt, @extendsId, @submitterId, @submittedAs, @bundleJson, @partOf,
          @kind, @fromRoleId, @fromRoleName, @fromConnector, @fromGroupId, @subjectEmail, @subjectName, @subjectAccountId, @origin)`),
      getRequest: db.prepare(`${REQUEST} WHERE r.id = ?`),
      bySubmission: db.prepare(`${REQUEST} WHERE r.submission_key = ?`),
      // An extension shares its grant's issue, a part its bundle's: the key names the grant or the bundle.
      byJiraKey: db.prepare(`${REQUEST} WHERE r.jira_key = ? AND r.extends_id IS NULL AND r.part_of IS NULL`),
      byRequester: db.prepare(`${REQUEST} WHERE r.requester_id = ? AND r.extends_id IS NULL AND r.part_of IS NULL ORDER BY r.created_at DESC, r.rowid DESC LIMIT ?`),
      bySubmitter: db.prepare(`${REQUEST} WHERE r.submitted_by = ? AND r.part_of IS NULL ORDER BY r.created_at DESC, r.rowid DESC LIMIT ?`),
      pendingBySubmitter: db.prepare(`${REQUEST} WHERE r.submitted_by = ? AND r.state = 'pending' AND r.part_of IS NULL ORDER BY r.created_at, r.rowid`),
      openEffects: db.prepare("SELECT COUNT(*) FROM outbox WHERE request_id = ? AND kind = ? AND status IN ('pending', 'running')").pluck(),
      extensionsOf: db.prepare(`${REQUEST} WHERE r.extends_id = ? ORDER BY r.created_at, r.rowid`),
      partsOf: db.prepare(`${REQUEST} WHERE r.part_of = ? ORDER BY r.rowid`),
      getPerson: db.prepare('SELECT * FROM people WHERE id = ?'),
      personBySlack: db.prepare('SELECT * FROM people WHERE slack_id = ?'),
      personByEmail: db.prepare('SELECT * FROM people WHERE email = ?'),
      peopleMatching: db.prepare('SELECT * FROM people WHERE email = @email OR slack_id = @slackId OR atlassian_account_id = @accountId ORDER BY id'),
      insertPerson: db.prepare(`INSERT INTO people (email, slack_id, atlassian_account_id, name, created_at, updated_at)
        VALUES (@email, @slackId, @accountId, @name, @at, @at) RETURNING *`),
      updatePerson: db.prepare(`UPDATE people SET email = @email, slack_id = @slackId, atlassian_account_id = @accountId, name = @name, updated_at = @at
        WHERE id = @id RETURNING *`),
      releaseIds: db.prepare(`UPDATE people SET
          slack_id = CASE WHEN slack_id = @slackId THEN NULL ELSE slack_id END,
          atlassian_account_id = CASE WHEN atlassian_account_id = @accountId THEN NULL ELSE atlassian_account_id END,
          updated_at = @at
        WHERE id = @id`),
      // Merging a duplicate record into the one person: what referred to it follows, rows that
      // would collide (the same vote, card or IdP id twice) keep the survivor's.
      mergeRequests: db.prepare('UPDATE requests SET requester_id = @into WHERE requester_id = @from'),
      mergeSubmitted: db.prepare('UPDATE requests SET submitted_by = @into WHERE submitted_by = @from'),
      mergeApprovers: db.prepare('UPDATE OR IGNORE approvers SET person_id = @into WHERE person_id = @from'),
      dropApprovers: db.prepare('DELETE FROM approvers WHERE person_id = @from'),
      mergeSurfaces: db.prepare('UPDATE OR IGNORE surface_refs SET person_id = @into WHERE person_id = @from'),
      dropSurfaces: db.prepare('DELETE FROM surface_refs WHERE person_id = @from'),
      mergeIdpIds: db.prepare('UPDATE OR IGNORE person_idp_ids SET person_id = @into WHERE person_id = @from'),
      dropIdpIds: db.prepare('DELETE FROM person_idp_ids WHERE person_id = @from'),
      deletePerson: db.prepare('DELETE FROM people WHERE id = @from'),
      setIdpId: db.prepare(`INSERT INTO person_idp_ids (person_id, connector, idp_user_id, recorded_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (person_id, connector) DO UPDATE SET idp_user_id = excluded.idp_user_id, recorded_at = excluded.recorded_at
        WHERE idp_user_id IS NOT excluded.idp_user_id`),
      idpIdOf: db.prepare('SELECT idp_user_id FROM person_idp_ids WHERE person_id = ? AND connector = ?').pluck(),
      setSurface: db.prepare(`INSERT INTO surface_refs (request_id, surface, purpose, stage, person_id, channel, ts, at)
        VALUES (@requestId, @surface, @purpose, @stage, @personId, @channel, @ts, @at)
        ON CONFLICT (request_id, surface, purpose, stage, person_id) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, at = excluded.at`),
      surface: db.prepare('SELECT channel, ts FROM surface_refs WHERE request_id = ? AND surface = ? AND purpose = ? AND stage = ? AND person_id = ?'),
      ownComment: db
        .prepare("SELECT 1 FROM outbox WHERE request_id = ? AND kind IN ('jira.comment', 'jira.intakeComment') AND status = 'done' AND json_extract(result, '$.id') = ? LIMIT 1")
        .pluck(),
      insertApprover: db.prepare(`INSERT OR IGNORE INTO approvers (request_id, stage, person_id, asked_at, via)
        VALUES (@requestId, @stage, @personId, @askedAt, @via)`),
      reminded: db.prepare('UPDATE approvers SET reminded_at = ? WHERE request_id = ? AND stage = ? AND person_id = ?'),
      approversAll: db.prepare(`${approvers} WHERE a.request_id = ? ORDER BY a.stage, a.asked_at, a.rowid`),
      approversStage: db.prepare(`${approvers} WHERE a.request_id = ? AND a.stage = ? ORDER BY a.asked_at, a.rowid`),
      vote: db.prepare('UPDATE approvers SET decision = ?, decided_at = ?, reason = ? WHERE request_id = ? AND stage = ? AND person_id = ?'),
      gone: db.prepare('UPDATE approvers SET gone_at = ? WHERE request_id = ? AND stage = ? AND person_id = ? AND gone_at IS NULL'),
      openOf: db.prepare(`${REQUEST} WHERE r.requester_id = ? AND r.state IN ('pending', 'approved', 'active') ORDER BY r.created_at, r.rowid`),
      holdings: db.prepare(`${REQUEST} WHERE r.state IN ('approved', 'active') AND r.id > ? AND r.idp_user_id IS NOT NULL AND r.kind <> 'removal' ORDER BY r.id LIMIT ?`),
      pendingParties: db.prepare(
        pendingPartiesSql({ bundleParts: 'json_each(r.bundle_json) p', partConnector: "json_extract(p.value, '$.connector')", after: '@after', limit: '@limit', connectorOrder: 't.connector' }),
      ),
      // By IdP user, as ownership is recorded: one person may come with two emails (migration 006).
      // Reclaim's records of standing access (origin 'standing') count, on purpose (ports/store.ts).
      otherHolders: db.prepare(`SELECT COUNT(*) FROM requests WHERE connector = ? AND group_id = ? AND idp_user_id = ? AND id <> ?
        AND state IN ('approved', 'active', 'revoking') AND revoke_requested_at IS NULL AND kind <> 'removal'`).pluck(),
      activeGrants: db.prepare(activeGrantsSql(REQUEST)),
      memberGone: db.prepare(MEMBER_GONE_SQL),
      seenMemberships: db.prepare(SEEN_MEMBERSHIPS_SQL),
      anyHolds: db.prepare("SELECT 1 FROM requests WHERE connector = ? AND group_id = ? AND idp_user_id = ? AND state IN ('approved', 'active', 'revoking') AND kind <> 'removal' LIMIT 1").pluck(),
      getMembership: db.prepare('SELECT owned FROM memberships WHERE connector = ? AND group_id = ? AND idp_user_id = ?').pluck(),
      insertMembership: db.prepare('INSERT OR IGNORE INTO memberships (connector, group_id, idp_user_id, owned, recorded_at) VALUES (?, ?, ?, ?, ?)'),
      deleteMembership: db.prepare('DELETE FROM memberships WHERE connector = ? AND group_id = ? AND idp_user_id = ?'),
      due: db.prepare(`${REQUEST} WHERE r.state = 'active' AND r.expires_at <= ? ORDER BY r.expires_at LIMIT ?`),
      nextExpiry: db.prepare("SELECT MIN(expires_at) FROM requests WHERE state = 'active'").pluck(),
      timersDue: db.prepare(`${REQUEST} WHERE r.state = 'pending' AND r.next_timer_at IS NOT NULL AND r.next_timer_at <= ? ORDER BY r.next_timer_at LIMIT ?`),
      warningsDue: db.prepare(`${REQUEST} WHERE r.next_warning_at IS NOT NULL AND r.next_warning_at <= ? ORDER BY r.next_warning_at LIMIT ?`),
      lastAudit: db.prepare('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1').pluck(),
      insertAudit: db.prepare('INSERT INTO audit_events (request_id, at, type, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      getAudit: db.prepare('SELECT * FROM audit_events WHERE seq = ?'),
      auditOf: db.prepare('SELECT * FROM audit_events WHERE request_id = ? ORDER BY seq'),
      auditAll: db.prepare(`SELECT seq, request_id AS requestId, at, type, actor, data, prev_hash AS prevHash, hash FROM audit_events ORDER BY seq`),
      auditHead: db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1'),
      // Keyset pages over requests_created (migrations/014): no sort of the whole table per page.
      created: db.prepare(`${REQUEST} WHERE r.part_of IS NULL AND r.created_at >= @fromMs AND r.created_at < @toMs
        AND (r.created_at > @afterAt OR (r.created_at = @afterAt AND r.id > @afterId)) ORDER BY r.created_at, r.id LIMIT @limit`),
      // The current stage asks them and they have not voted; never their own request, nor one they asked for someone.
      awaiting: db.prepare(`${REQUEST} JOIN approvers a ON a.request_id = r.id
        WHERE a.person_id = @personId AND r.state = 'pending' AND a.stage = r.stage AND a.decision IS NULL AND a.gone_at IS NULL AND r.requester_id <> @personId
          AND r.submitted_by IS NOT @personId
        ORDER BY a.asked_at, r.rowid LIMIT @limit`),
      approvedActive: db.prepare(`${REQUEST} WHERE r.state = 'active'
          AND EXISTS (SELECT 1 FROM approvers a WHERE a.request_id = r.id AND a.person_id = @personId AND a.decision = 'approve')
        ORDER BY r.expires_at IS NULL, r.expires_at, r.rowid LIMIT @limit`),
      homeOpened: db.prepare('INSERT INTO slack_homes (slack_id, opened_at) VALUES (?, ?) ON CONFLICT (slack_id) DO NOTHING'),
      homeOf: db.prepare('SELECT slack_id, opened_at, published_at FROM slack_homes WHERE slack_id = ?'),
      homePublished: db.prepare('UPDATE slack_homes SET published_at = ? WHERE slack_id = ?'),
      holdQueue: db.prepare("UPDATE outbox SET available_at = MAX(available_at, ?) WHERE queue = ? AND status <> 'done' AND status = 'pending'"),
      homesConcerned: db
        .prepare(`SELECT h.slack_id FROM slack_homes h JOIN people p ON p.slack_id = h.slack_id
          WHERE p.id IN (SELECT requester_id FROM requests WHERE id = @id UNION SELECT submitted_by FROM requests WHERE id = @id
            UNION SELECT person_id FROM approvers WHERE request_id = @id)`)
        .pluck(),
      openIn: db.prepare("SELECT status FROM outbox WHERE queue = ? AND status <> 'done' AND status IN ('pending', 'running') ORDER BY id DESC LIMIT 1").pluck(),
      intake: db.prepare('SELECT * FROM jira_intake WHERE issue_id = ?'),
      saveIntake: db.prepare(`INSERT INTO jira_intake (issue_id, issue_key, request_id, problems, issue_updated, seen_at, updated_at)
        VALUES (@issueId, @issueKey, @requestId, @problems, @issueUpdated, @seenAt, @at)
        ON CONFLICT (issue_id) DO UPDATE SET issue_key = excluded.issue_key, problems = excluded.problems, issue_updated = excluded.issue_updated, updated_at = excluded.updated_at`),
      pollMark: db.prepare('SELECT at FROM jira_poll WHERE name = ?').pluck(),
      setPollMark: db.prepare('INSERT INTO jira_poll (name, at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET at = excluded.at'),
      seen: db.prepare('INSERT OR IGNORE INTO inbound_seen (key, at) VALUES (?, ?)'),
      claimRun: db.prepare(`INSERT INTO scheduled_runs (job, slot, holder, claimed_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (job) DO UPDATE SET slot = excluded.slot, holder = excluded.holder, claimed_at = excluded.claimed_at WHERE excluded.slot > scheduled_runs.slot`),
      pruneSeen: db.prepare('DELETE FROM inbound_seen WHERE at < ?'),
    };
    this.requestRow = rowView(this.s.getRequest);
    const s = this.s;
    this.people = {
      matching: (keys) => (s.peopleMatching.all(keys) as Record<string, unknown>[]).map(toPerson),
      release: (id, keys, at) => void s.releaseIds.run({ id, ...keys, at }),
      insert: (keys, name, at) => toPerson(s.insertPerson.get({ ...keys, name, at }) as Record<string, unknown>),
      merge: (from, into) => {
        const ids = { from, into };
        for (const st of [s.mergeRequests, s.mergeSubmitted, s.mergeApprovers, s.dropApprovers, s.mergeSurfaces, s.dropSurfaces, s.mergeIdpIds, s.dropIdpIds, s.deletePerson]) st.run(ids);
      },
      update: (merged) => toPerson(s.updatePerson.get(merged) as Record<string, unknown>),
    };
  }

  /**
   * Calls `watcher` inside every transaction that inserts or changes a request, its approvers or
   * their votes, with the request's id (app/home.ts keeps the people's Homes current with it).
   */
  watchRequests(watcher: RequestWatcher): void {
    this.watchers.push(watcher);
  }

  private touched(requestId: string): void {
    for (const w of this.watchers) w(this, requestId);
  }

  tx<T>(fn: (s: TxStore) => T): T {
    return this.runTx(fn) as T;
  }

  batched<T>(fn: () => T): Promise<T> {
    return this.batch.run(fn);
  }

  insertRequest(r: NewRequest): void {
    this.s.insertRequest.run({
      ...r,
      policyJson: JSON.stringify(r.policy),
      extendsId: r.extendsId ?? null,
      submitterId: r.submitterId ?? null,
      submittedAs: r.submittedAs ?? null,
      bundleJson: r.bundleParts ? JSON.stringify(r.bundleParts) : null,
      partOf: r.partOf ?? null,
      ...kindValues(r),
      origin: r.origin ?? 'request',
    });
    this.touched(r.id);
  }

  getRequest(id: string): RequestRecord | undefined {
    const values = this.s.getRequest.get(id) as unknown[] | undefined;
    return values ? toRequest(this.requestRow(values)) : undefined;
  }

  findBySubmissionKey(key: string): RequestRecord | undefined {
    const row = this.s.bySubmission.get(key) as Record<string, unknown> | undefined;
    return row ? toRequest(row) : undefined;
  }

  findByJiraKey(key: string): RequestRecord | undefined {
    const row = this.s.byJiraKey.get(key) as Record<string, unknown> | undefined;
    return row ? toRequest(row) : undefined;
  }

  requestsOf(personId: PersonId, limit: number): RequestRecord[] {
    return (this.s.byRequester.all(personId, limit) as Record<string, unknown>[]).map(toRequest);
  }

  submittedBy(personId: PersonId, limit: number): RequestRecord[] {
    return (this.s.bySubmitter.all(personId, limit) as Record<string, unknown>[]).map(toRequest);
  }

  pendingSubmittedBy(personId: PersonId): RequestRecord[] {
    return (this.s.pendingBySubmitter.all(personId) as Record<string, unknown>[]).map(toRequest);
  }

  extensionsOf(requestId: string): RequestRecord[] {
    return (this.s.extensionsOf.all(requestId) as Record<string, unknown>[]).map(toRequest);
  }

  partsOf(requestId: string): RequestRecord[] {
    return (this.s.partsOf.all(requestId) as Record<string, unknown>[]).map(toRequest);
  }

  awaitingDecisionOf(personId: PersonId, limit: number): RequestRecord[] {
    return (this.s.awaiting.all({ personId, limit }) as Record<string, unknown>[]).map(toRequest);
  }

  seenMembershipsOf(personId: PersonId | null, email: string | null): { connector: string; groupId: string; idpUserId: string }[] {
    return this.s.seenMemberships.all({ personId, email: email === null ? null : normalizeEmail(email) }) as { connector: string; groupId: string; idpUserId: string }[];
  }

  membershipRemoved(connector: string, groupId: string, idpUserId: string, at: number): void {
    this.s.memberGone.run(at, connector, groupId, idpUserId);
  }

  activeGrantsOf(connector: string, groupId: string, idpUserId: string, exceptId: string): RequestRecord[] {
    return (this.s.activeGrants.all(connector, groupId, idpUserId, exceptId) as Record<string, unknown>[]).map(toRequest);
  }

  activeApprovedBy(personId: PersonId, limit: number): RequestRecord[] {
    return (this.s.approvedActive.all({ personId, limit }) as Record<string, unknown>[]).map(toRequest);
  }

  openRequestsOfPerson(personId: PersonId): RequestRecord[] {
    return (this.s.openOf.all(personId) as Record<string, unknown>[]).map(toRequest);
  }

  holdings(afterId: string, limit: number): RequestRecord[] {
    return (this.s.holdings.all(afterId, limit) as Record<string, unknown>[]).map(toRequest);
  }

  pendingParties(afterId: PersonId, limit: number): PendingParty[] {
    return toPendingParties(this.s.pendingParties.all({ after: afterId, limit }) as PendingPartyRow[]);
  }

  recordHomeOpened(slackId: string, at: number): void {
    this.s.homeOpened.run(slackId, at);
  }

  homeOf(slackId: string): HomeRecord | undefined {
    const r = this.s.homeOf.get(slackId) as { slack_id: string; opened_at: number; published_at: number | null } | undefined;
    return r ? { slackId: r.slack_id, openedAt: r.opened_at, publishedAt: r.published_at } : undefined;
  }

  homePublished(slackId: string, queue: string, at: number, notBefore: number): void {
    this.s.homePublished.run(at, slackId);
    this.s.holdQueue.run(notBefore, queue);
  }

  homesConcerned(requestId: string): string[] {
    return this.s.homesConcerned.all({ id: requestId }) as string[];
  }

  openEffectIn(queue: string): 'pending' | 'running' | undefined {
    return (this.s.openIn.get(queue) as 'pending' | 'running' | undefined) ?? undefined;
  }

  getPerson(id: PersonId): PersonRecord | undefined {
    const row = this.s.getPerson.get(id) as Record<string, unknown> | undefined;
    return row ? toPerson(row) : undefined;
  }

  personBySlackId(slackId: string): PersonRecord | undefined {
    const row = this.s.personBySlack.get(slackId) as Record<string, unknown> | undefined;
    return row ? toPerson(row) : undefined;
  }

  personByEmail(email: string): PersonRecord | undefined {
    const row = this.s.personByEmail.get(normalizeEmail(email)) as Record<string, unknown> | undefined;
    return row ? toPerson(row) : undefined;
  }

  recordPerson(facts: PersonFacts, at: number): PersonRecord {
    return recordPersonWith(this.people, facts, at);
  }

  setIdpUserId(personId: PersonId, connector: string, idpUserId: string, at: number): void {
    this.s.setIdpId.run(personId, connector, idpUserId, at);
  }

  idpUserIdOf(personId: PersonId, connector: string): string | undefined {
    return (this.s.idpIdOf.get(personId, connector) as string | undefined) ?? undefined;
  }

  setSurfaceRef(ref: SurfaceRef, at: number): void {
    this.s.setSurface.run({ ...ref, stage: ref.stage ?? 0, personId: ref.personId ?? 0, at });
  }

  surfaceRef(requestId: string, surface: SurfaceRef['surface'], purpose: SurfacePurpose, stage = 0, personId: PersonId = 0): { channel: string; ts: string } | undefined {
    return this.s.surface.get(requestId, surface, purpose, stage, personId) as { channel: string; ts: string } | undefined;
  }

  openEffects(requestId: string, kind: string): number {
    return this.s.openEffects.get(requestId, kind) as number;
  }

  isOwnComment(requestId: string, commentId: string): boolean {
    return this.s.ownComment.get(requestId, commentId) !== undefined;
  }

  updateRequest(id: string, patch: RequestPatch, now: number): void {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    const sets = entries.map(([k]) => `${COLUMNS[k as keyof RequestPatch]} = ?`);
    sets.push('updated_at = ?');
    // Column names come from the fixed COLUMNS table, never from input. One statement per set of
    // columns, prepared once: preparing on every update was ~6% of the bot's CPU per click (bench/).
    const sql = `UPDATE requests SET ${sets.join(', ')} WHERE id = ?`;
    let stmt = this.updates.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.updates.set(sql, stmt);
    }
    stmt.run(...entries.map(([k, v]) => (k === 'policy' ? JSON.stringify(v) : (v as unknown))), now, id);
    this.touched(id);
  }

  insertApprover(a: Pick<ApproverRecord, 'requestId' | 'stage' | 'personId' | 'askedAt' | 'via'>): void {
    this.s.insertApprover.run(a);
    this.touched(a.requestId);
  }

  markReminded(requestId: string, stage: number, personId: PersonId, at: number): void {
    this.s.reminded.run(at, requestId, stage, personId);
  }

  approversOf(requestId: string, stage?: number): ApproverRecord[] {
    const rows = (stage === undefined ? this.s.approversAll.all(requestId) : this.s.approversStage.all(requestId, stage)) as Record<string, unknown>[];
    return rows.map(toApprover);
  }

  recordVote(requestId: string, stage: number, personId: PersonId, decision: 'approve' | 'deny', at: number, reason: string | null): void {
    this.s.vote.run(decision, at, reason, requestId, stage, personId);
    this.touched(requestId);
  }

  markApproverGone(requestId: string, stage: number, personId: PersonId, at: number): void {
    this.s.gone.run(at, requestId, stage, personId);
    this.touched(requestId);
  }

  otherHoldersOf(connector: string, groupId: string, idpUserId: string, exceptId: string): number {
    return this.s.otherHolders.get(connector, groupId, idpUserId, exceptId) as number;
  }

  anyRequestHolds(connector: string, groupId: string, idpUserId: string): boolean {
    return this.s.anyHolds.get(connector, groupId, idpUserId) !== undefined;
  }

  getMembership(connector: string, groupId: string, idpUserId: string): { owned: boolean } | undefined {
    const v = this.s.getMembership.get(connector, groupId, idpUserId) as number | undefined;
    return v === undefined ? undefined : { owned: v === 1 };
  }

  recordMembership(connector: string, groupId: string, idpUserId: string, owned: boolean, at: number): { owned: boolean } {
    this.s.insertMembership.run(connector, groupId, idpUserId, owned ? 1 : 0, at);
    return this.getMembership(connector, groupId, idpUserId)!;
  }

  deleteMembership(connector: string, groupId: string, idpUserId: string): void {
    this.s.deleteMembership.run(connector, groupId, idpUserId);
  }

  dueGrants(now: number, limit: number): RequestRecord[] {
    return (this.s.due.all(now, limit) as Record<string, unknown>[]).map(toRequest);
  }

  nextExpiry(): number | undefined {
    return (this.s.nextExpiry.get() as number | null) ?? undefined;
  }

  timersDue(now: number, limit: number): RequestRecord[] {
    return (this.s.timersDue.all(now, limit) as Record<string, unknown>[]).map(toRequest);
  }

  warningsDue(now: number, limit: number): RequestRecord[] {
    return (this.s.warningsDue.all(now, limit) as Record<string, unknown>[]).map(toRequest);
  }

  appendAudit(requestId: string | null, at: number, actor: string, step: Step): AuditRecord {
    const prev = (this.s.lastAudit.get() as string | undefined) ?? GENESIS_HASH;
    const data = JSON.stringify(step);
    const hash = chainHash(prev, requestId, at, actor, data);
    const seq = Number(this.s.insertAudit.run(requestId, at, step.type, actor, data, prev, hash).lastInsertRowid);
    return { seq, requestId, at, actor, step, prevHash: prev, hash };
  }

  getAudit(seq: number): AuditRecord | undefined {
    const r = this.s.getAudit.get(seq) as Record<string, unknown> | undefined;
    return r ? toAudit(r) : undefined;
  }

  auditOf(requestId: string): AuditRecord[] {
    return (this.s.auditOf.all(requestId) as Record<string, unknown>[]).map(toAudit);
  }

  verifyAuditChain(): number | undefined {
    const c = this.checkAuditChain();
    // An intact chain has no broken event; nor has one that only misses an expected head (none here).
    return c.ok ? undefined : c.broken?.seq;
  }

  checkAuditChain(expected?: AuditHead): ChainCheck {
    return checkChain(this.s.auditAll.iterate() as Iterable<StoredAuditEvent>, chainHash, expected);
  }

  auditHead(): AuditHead {
    return (this.s.auditHead.get() as AuditHead | undefined) ?? { seq: 0, hash: GENESIS_HASH };
  }

  snapshot<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  requestsCreated(fromMs: number, toMs: number, after: { createdAt: number; id: string } | undefined, limit: number): RequestRecord[] {
    const rows = this.s.created.all({ fromMs, toMs, afterAt: after?.createdAt ?? -1, afterId: after?.id ?? '', limit }) as Record<string, unknown>[];
    return rows.map(toRequest);
  }

  jiraIntake(issueId: string): JiraIntakeRecord | undefined {
    const r = this.s.intake.get(issueId) as Record<string, unknown> | undefined;
    return r && toJiraIntake(r);
  }

  saveJiraIntake(r: JiraIntakeRecord, at: number): void {
    this.s.saveIntake.run({ ...r, problems: r.problems === null ? null : JSON.stringify(r.problems), at });
  }

  pollMark(name: string): number | undefined {
    return (this.s.pollMark.get(name) as number | undefined) ?? undefined;
  }

  setPollMark(name: string, at: number): void {
    this.s.setPollMark.run(name, at);
  }

  claimRun(job: string, slot: number, holder: string, at: number): boolean {
    return this.s.claimRun.run(job, slot, holder, at).changes === 1;
  }

  firstDelivery(key: string, at: number): boolean {
    return this.s.seen.run(key, at).changes === 1;
  }

  pruneSeen(before: number): number {
    return this.s.pruneSeen.run(before).changes;
  }

  enqueue(effect: EffectSpec): number {
    return this.outbox.enqueue(effect);
  }
}
