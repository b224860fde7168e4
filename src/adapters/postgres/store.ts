/**
 * The store port (app/ports/store.ts) on Postgres, statement for statement what
 * adapters/sqlite/store.ts does on SQLite, through the synchronous bridge (db.ts, bridge.ts).
 * `tx` takes the global write lock first (db.ts), so writers are serialized across replicas as
 * SQLite serializes them within its one process.
 */
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
  SurfacePurpose,
  SurfaceRef,
  TxStore,
} from '../../app/ports/store.js';
import type { EvidenceStore } from '../../app/ports/evidence.js';
import { checkChain, GENESIS_HASH, type AuditHead, type ChainCheck, type StoredAuditEvent } from '../../domain/audit.js';
import { normalizeEmail, type PersonId } from '../../domain/people.js';
import type { Step } from '../../domain/steps.js';
import type { EffectSpec, Outbox } from '../../outbox/outbox.js';
import { chainHash, COLUMNS, kindValues, recordPersonWith, REQUEST, toApprover, toAudit, toJiraIntake, toPerson, toRequest, type PersonWrites, type RequestWatcher } from '../storeRows.js';
import { pendingPartiesSql, toPendingParties, type PendingPartyRow } from '../pendingParties.js';
import { TxBatch } from '../txBatch.js';
import type { PgDb } from './db.js';

/** The insert's parameters $22-$29: a new request's kind columns, in the order of KIND_COLUMNS. */
function kindParams(r: NewRequest): unknown[] {
  const k = kindValues(r);
  return [k.kind, k.fromRoleId, k.fromRoleName, k.fromConnector, k.fromGroupId, k.subjectEmail, k.subjectName, k.subjectAccountId];
}

/** Who pending requests wait on: a bundle's parts read through jsonb, connectors in byte order as on SQLite. */
const PENDING_PARTIES_SQL = pendingPartiesSql({
  bundleParts: 'jsonb_array_elements(r.bundle_json::jsonb) AS p(value)',
  partConnector: "p.value ->> 'connector'",
  after: '$1',
  limit: '$2',
  connectorOrder: 't.connector COLLATE "C"',
});

const APPROVERS = `SELECT a.*, p.slack_id, p.email, p.name, s.channel AS dm_channel, s.ts AS dm_ts
  FROM approvers a JOIN people p ON p.id = a.person_id
  LEFT JOIN surface_refs s ON s.request_id = a.request_id AND s.surface = 'slack' AND s.purpose = 'approver_card' AND s.stage = a.stage AND s.person_id = a.person_id`;

/** Moves rows of a table keyed by person to another person, unless that person has the same row already (SQLite's UPDATE OR IGNORE). */
function mergeInto(table: string, key: string[]): string {
  const same = key.map((k) => `b.${k} = t.${k}`).join(' AND ');
  return `UPDATE ${table} t SET person_id = $2 WHERE t.person_id = $1 AND NOT EXISTS (SELECT 1 FROM ${table} b WHERE b.person_id = $2 AND ${same})`;
}

export class PostgresStore implements Store, EvidenceStore {
  private readonly watchers: RequestWatcher[] = [];
  private readonly people: PersonWrites;
  private readonly batch = new TxBatch({ tx: (fn) => this.db.tx(fn), inTransaction: () => this.db.inTransaction });

  constructor(
    private readonly db: PgDb,
    private readonly outbox: Outbox,
  ) {
    this.people = {
      matching: (k) => db.all('SELECT * FROM people WHERE email = $1 OR slack_id = $2 OR atlassian_account_id = $3 ORDER BY id', [k.email, k.slackId, k.accountId]).map(toPerson),
      release: (id, k, at) =>
        void db.run(
          `UPDATE people SET
            slack_id = CASE WHEN slack_id = $2 THEN NULL ELSE slack_id END,
            atlassian_account_id = CASE WHEN atlassian_account_id = $3 THEN NULL ELSE atlassian_account_id END,
            updated_at = $4
          WHERE id = $1`,
          [id, k.slackId, k.accountId, at],
        ),
      insert: (k, name, at) =>
        toPerson(
          db.get('INSERT INTO people (email, slack_id, atlassian_account_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING *', [
            k.email,
            k.slackId,
            k.accountId,
            name,
            at,
          ])!,
        ),
      // Merging a duplicate record into the one person: what referred to it follows, rows that
      // would collide (the same vote, card or IdP id twice) keep the survivor's.
      merge: (from, into) =>
        void db.batch([
          { sql: 'UPDATE requests SET requester_id = $2 WHERE requester_id = $1', params: [from, into] },
          { sql: 'UPDATE requests SET submitted_by = $2 WHERE submitted_by = $1', params: [from, into] },
          { sql: mergeInto('approvers', ['request_id', 'stage']), params: [from, into] },
          { sql: 'DELETE FROM approvers WHERE person_id = $1', params: [from] },
          { sql: mergeInto('surface_refs', ['request_id', 'surface', 'purpose', 'stage']), params: [from, into] },
          { sql: 'DELETE FROM surface_refs WHERE person_id = $1', params: [from] },
          { sql: mergeInto('person_idp_ids', ['connector']), params: [from, into] },
          { sql: 'DELETE FROM person_idp_ids WHERE person_id = $1', params: [from] },
          { sql: 'DELETE FROM people WHERE id = $1', params: [from] },
        ]),
      update: (m) =>
        toPerson(
          db.get('UPDATE people SET email = $2, slack_id = $3, atlassian_account_id = $4, name = $5, updated_at = $6 WHERE id = $1 RETURNING *', [
            m.id,
            m.email,
            m.slackId,
            m.accountId,
            m.name,
            m.at,
          ])!,
        ),
    };
  }

  /** As SqliteStore.watchRequests: `watcher` runs inside every transaction that changes a request, its approvers or their votes. */
  watchRequests(watcher: RequestWatcher): void {
    this.watchers.push(watcher);
  }

  private touched(requestId: string): void {
    for (const w of this.watchers) w(this, requestId);
  }

  tx<T>(fn: (s: TxStore) => T): T {
    return this.db.tx(() => fn(this));
  }

  batched<T>(fn: () => T): Promise<T> {
    return this.batch.run(fn);
  }

  private requests(where: string, params: readonly unknown[]): RequestRecord[] {
    return this.db.all(`${REQUEST} ${where}`, params).map(toRequest);
  }

  private request(where: string, params: readonly unknown[]): RequestRecord | undefined {
    return this.requests(where, params)[0];
  }

  insertRequest(r: NewRequest): void {
    this.db.run(
      `INSERT INTO requests (id, submission_key, state, app_id, role_id, app_name, role_name, connector, group_id,
          duration_token, duration_ms, reason, policy_json, requester_id, created_at, updated_at, break_glass_notify, next_timer_at, extends_id,
          submitted_by, submitted_as, bundle_json, part_of, kind, from_role_id, from_role_name, from_connector, from_group_id, subject_email, subject_name, subject_account_id, origin)
        VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, $18, $19, $20, $21,
          $22, $23, $24, $25, $26, $27, $28, $29, $30)`,
      [
        r.id,
        r.submissionKey,
        r.appId,
        r.roleId,
        r.appName,
        r.roleName,
        r.connector,
        r.groupId,
        r.durationToken,
        r.durationMs,
        r.reason,
        JSON.stringify(r.policy),
        r.requesterId,
        r.createdAt,
        r.breakGlassNotify,
        r.nextTimerAt,
        r.extendsId ?? null,
        r.submitterId ?? null,
        r.submittedAs ?? null,
        r.bundleParts ? JSON.stringify(r.bundleParts) : null,
        r.partOf ?? null,
        ...kindParams(r),
        r.origin ?? 'request',
      ],
    );
    this.touched(r.id);
  }

  getRequest(id: string): RequestRecord | undefined {
    return this.request('WHERE r.id = $1', [id]);
  }

  findBySubmissionKey(key: string): RequestRecord | undefined {
    return this.request('WHERE r.submission_key = $1', [key]);
  }

  findByJiraKey(key: string): RequestRecord | undefined {
    // An extension shares its grant's issue, a part its bundle's: the key names the grant or the bundle.
    return this.request('WHERE r.jira_key = $1 AND r.extends_id IS NULL AND r.part_of IS NULL', [key]);
  }

  requestsOf(personId: PersonId, limit: number): RequestRecord[] {
    return this.requests('WHERE r.requester_id = $1 AND r.extends_id IS NULL AND r.part_of IS NULL ORDER BY r.created_at DESC, r.ord DESC LIMIT $2', [personId, limit]);
  }

  submittedBy(personId: PersonId, limit: number): RequestRecord[] {
    return this.requests('WHERE r.submitted_by = $1 AND r.part_of IS NULL ORDER BY r.created_at DESC, r.ord DESC LIMIT $2', [personId, limit]);
  }

  pendingSubmittedBy(personId: PersonId): RequestRecord[] {
    return this.requests("WHERE r.submitted_by = $1 AND r.state = 'pending' AND r.part_of IS NULL ORDER BY r.created_at, r.ord", [personId]);
  }

  partsOf(requestId: string): RequestRecord[] {
    return this.requests('WHERE r.part_of = $1 ORDER BY r.ord', [requestId]);
  }

  extensionsOf(requestId: string): RequestRecord[] {
    return this.requests('WHERE r.extends_id = $1 ORDER BY r.created_at, r.ord', [requestId]);
  }

  awaitingDecisionOf(personId: PersonId, limit: number): RequestRecord[] {
    // The current stage asks them and they have not voted; never their own request, nor one they asked for someone.
    return this.requests(
      `JOIN approvers a ON a.request_id = r.id
        WHERE a.person_id = $1 AND r.state = 'pending' AND a.stage = r.stage AND a.decision IS NULL AND a.gone_at IS NULL AND r.requester_id <> $1
          AND r.submitted_by IS DISTINCT FROM $1
        ORDER BY a.asked_at, r.ord LIMIT $2`,
      [personId, limit],
    );
  }

  seenMembershipsOf(personId: PersonId | null, email: string | null): { connector: string; groupId: string; idpUserId: string }[] {
    // The user sync's listing of a person, by the email the IdP gave or an IdP user id known to be theirs.
    return this.db.all<{ connector: string; groupId: string; idpUserId: string }>(
      `SELECT g.connector, g.group_id AS "groupId", g.idp_user_id AS "idpUserId" FROM group_members g
        WHERE g.gone_at IS NULL AND (($2::text IS NOT NULL AND lower(g.email) = $2::text)
          OR EXISTS (SELECT 1 FROM person_idp_ids i WHERE i.person_id = $1 AND i.connector = g.connector AND i.idp_user_id = g.idp_user_id))
        GROUP BY g.connector, g.group_id, g.idp_user_id ORDER BY g.connector COLLATE "C", g.group_id COLLATE "C"`,
      [personId, email === null ? null : normalizeEmail(email)],
    );
  }

  membershipRemoved(connector: string, groupId: string, idpUserId: string, at: number): void {
    this.db.run('UPDATE group_members SET gone_at = $1 WHERE connector = $2 AND group_id = $3 AND idp_user_id = $4 AND gone_at IS NULL', [at, connector, groupId, idpUserId]);
  }

  activeGrantsOf(connector: string, groupId: string, idpUserId: string, exceptId: string): RequestRecord[] {
    return this.requests(
      `WHERE r.connector = $1 AND r.group_id = $2 AND r.idp_user_id = $3 AND r.id <> $4 AND r.state = 'active' AND r.kind <> 'removal' ORDER BY r.created_at, r.ord`,
      [connector, groupId, idpUserId, exceptId],
    );
  }

  activeApprovedBy(personId: PersonId, limit: number): RequestRecord[] {
    return this.requests(
      `WHERE r.state = 'active' AND EXISTS (SELECT 1 FROM approvers a WHERE a.request_id = r.id AND a.person_id = $1 AND a.decision = 'approve')
        ORDER BY r.expires_at IS NULL, r.expires_at, r.ord LIMIT $2`,
      [personId, limit],
    );
  }

  openRequestsOfPerson(personId: PersonId): RequestRecord[] {
    return this.requests("WHERE r.requester_id = $1 AND r.state IN ('pending', 'approved', 'active') ORDER BY r.created_at, r.ord", [personId]);
  }

  holdings(afterId: string, limit: number): RequestRecord[] {
    // Pages by id compared bytewise, as SQLite compares it (the requests_holders index).
    return this.requests(
      `WHERE r.state IN ('approved', 'active') AND r.id COLLATE "C" > $1 AND r.idp_user_id IS NOT NULL AND r.kind <> 'removal' ORDER BY r.id COLLATE "C" LIMIT $2`,
      [afterId, limit],
    );
  }

  pendingParties(afterId: PersonId, limit: number): PendingParty[] {
    return toPendingParties(this.db.all<PendingPartyRow>(PENDING_PARTIES_SQL, [afterId, limit]));
  }

  isOwnComment(requestId: string, commentId: string): boolean {
    return (
      this.db.get("SELECT 1 FROM outbox WHERE request_id = $1 AND kind IN ('jira.comment', 'jira.intakeComment') AND status = 'done' AND (result::jsonb ->> 'id') = $2 LIMIT 1", [requestId, commentId]) !==
      undefined
    );
  }

  recordHomeOpened(slackId: string, at: number): void {
    this.db.run('INSERT INTO slack_homes (slack_id, opened_at) VALUES ($1, $2) ON CONFLICT (slack_id) DO NOTHING', [slackId, at]);
  }

  homeOf(slackId: string): HomeRecord | undefined {
    const r = this.db.get<{ slack_id: string; opened_at: number; published_at: number | null }>('SELECT slack_id, opened_at, published_at FROM slack_homes WHERE slack_id = $1', [slackId]);
    return r ? { slackId: r.slack_id, openedAt: r.opened_at, publishedAt: r.published_at } : undefined;
  }

  homePublished(slackId: string, queue: string, at: number, notBefore: number): void {
    this.db.batch([
      { sql: 'UPDATE slack_homes SET published_at = $1 WHERE slack_id = $2', params: [at, slackId] },
      { sql: "UPDATE outbox SET available_at = GREATEST(available_at, $1) WHERE queue = $2 AND status <> 'done' AND status = 'pending'", params: [notBefore, queue] },
    ]);
  }

  homesConcerned(requestId: string): string[] {
    return this.db
      .all<{ slack_id: string }>(
        `SELECT h.slack_id FROM slack_homes h JOIN people p ON p.slack_id = h.slack_id
          WHERE p.id IN (SELECT requester_id FROM requests WHERE id = $1 UNION SELECT submitted_by FROM requests WHERE id = $1
            UNION SELECT person_id FROM approvers WHERE request_id = $1)`,
        [requestId],
      )
      .map((r) => r.slack_id);
  }

  openEffectIn(queue: string): 'pending' | 'running' | undefined {
    return this.db.value<'pending' | 'running'>("SELECT status FROM outbox WHERE queue = $1 AND status <> 'done' AND status IN ('pending', 'running') ORDER BY id DESC LIMIT 1", [queue]);
  }

  getPerson(id: PersonId): PersonRecord | undefined {
    const row = this.db.get('SELECT * FROM people WHERE id = $1', [id]);
    return row ? toPerson(row) : undefined;
  }

  personBySlackId(slackId: string): PersonRecord | undefined {
    const row = this.db.get('SELECT * FROM people WHERE slack_id = $1', [slackId]);
    return row ? toPerson(row) : undefined;
  }

  personByEmail(email: string): PersonRecord | undefined {
    const row = this.db.get('SELECT * FROM people WHERE email = $1', [normalizeEmail(email)]);
    return row ? toPerson(row) : undefined;
  }

  recordPerson(facts: PersonFacts, at: number): PersonRecord {
    return recordPersonWith(this.people, facts, at);
  }

  setIdpUserId(personId: PersonId, connector: string, idpUserId: string, at: number): void {
    this.db.run(
      `INSERT INTO person_idp_ids (person_id, connector, idp_user_id, recorded_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (person_id, connector) DO UPDATE SET idp_user_id = excluded.idp_user_id, recorded_at = excluded.recorded_at
        WHERE person_idp_ids.idp_user_id IS DISTINCT FROM excluded.idp_user_id`,
      [personId, connector, idpUserId, at],
    );
  }

  idpUserIdOf(personId: PersonId, connector: string): string | undefined {
    return this.db.value<string>('SELECT idp_user_id FROM person_idp_ids WHERE person_id = $1 AND connector = $2', [personId, connector]);
  }

  setSurfaceRef(ref: SurfaceRef, at: number): void {
    this.db.run(
      `INSERT INTO surface_refs (request_id, surface, purpose, stage, person_id, channel, ts, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (request_id, surface, purpose, stage, person_id) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, at = excluded.at`,
      [ref.requestId, ref.surface, ref.purpose, ref.stage ?? 0, ref.personId ?? 0, ref.channel, ref.ts, at],
    );
  }

  surfaceRef(requestId: string, surface: SurfaceRef['surface'], purpose: SurfacePurpose, stage = 0, personId: PersonId = 0): { channel: string; ts: string } | undefined {
    return this.db.get<{ channel: string; ts: string }>('SELECT channel, ts FROM surface_refs WHERE request_id = $1 AND surface = $2 AND purpose = $3 AND stage = $4 AND person_id = $5', [
      requestId,
      surface,
      purpose,
      stage,
      personId,
    ]);
  }

  openEffects(requestId: string, kind: string): number {
    return this.db.value<number>("SELECT COUNT(*) FROM outbox WHERE request_id = $1 AND kind = $2 AND status IN ('pending', 'running')", [requestId, kind]) ?? 0;
  }

  updateRequest(id: string, patch: RequestPatch, now: number): void {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    // Column names come from the fixed COLUMNS table, never from input.
    const sets = entries.map(([k], i) => `${COLUMNS[k as keyof RequestPatch]} = $${i + 1}`);
    sets.push(`updated_at = $${entries.length + 1}`);
    const values = entries.map(([k, v]) => (k === 'policy' ? JSON.stringify(v) : (v as unknown)));
    this.db.run(`UPDATE requests SET ${sets.join(', ')} WHERE id = $${entries.length + 2}`, [...values, now, id]);
    this.touched(id);
  }

  insertApprover(a: Pick<ApproverRecord, 'requestId' | 'stage' | 'personId' | 'askedAt' | 'via'>): void {
    this.db.run('INSERT INTO approvers (request_id, stage, person_id, asked_at, via) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
      a.requestId,
      a.stage,
      a.personId,
      a.askedAt,
      a.via,
    ]);
    this.touched(a.requestId);
  }

  markReminded(requestId: string, stage: number, personId: PersonId, at: number): void {
    this.db.run('UPDATE approvers SET reminded_at = $1 WHERE request_id = $2 AND stage = $3 AND person_id = $4', [at, requestId, stage, personId]);
  }

  approversOf(requestId: string, stage?: number): ApproverRecord[] {
    const rows =
      stage === undefined
        ? this.db.all(`${APPROVERS} WHERE a.request_id = $1 ORDER BY a.stage, a.asked_at, a.ord`, [requestId])
        : this.db.all(`${APPROVERS} WHERE a.request_id = $1 AND a.stage = $2 ORDER BY a.asked_at, a.ord`, [requestId, stage]);
    return rows.map(toApprover);
  }

  recordVote(requestId: string, stage: number, personId: PersonId, decision: 'approve' | 'deny', at: number, reason: string | null): void {
    this.db.run('UPDATE approvers SET decision = $1, decided_at = $2, reason = $3 WHERE request_id = $4 AND stage = $5 AND person_id = $6', [
      decision,
      at,
      reason,
      requestId,
      stage,
      personId,
    ]);
    this.touched(requestId);
  }

  markApproverGone(requestId: string, stage: number, personId: PersonId, at: number): void {
    this.db.run('UPDATE approvers SET gone_at = $1 WHERE request_id = $2 AND stage = $3 AND person_id = $4 AND gone_at IS NULL', [at, requestId, stage, personId]);
    this.touched(requestId);
  }

  otherHoldersOf(connector: string, groupId: string, idpUserId: string, exceptId: string): number {
    // By IdP user, as ownership is recorded: one person may come with two emails.
    // Reclaim's records of standing access (origin 'standing') count, on purpose (ports/store.ts).
    return (
      this.db.value<number>(
        `SELECT COUNT(*) FROM requests WHERE connector = $1 AND group_id = $2 AND idp_user_id = $3 AND id <> $4
          AND state IN ('approved', 'active', 'revoking') AND revoke_requested_at IS NULL AND kind <> 'removal'`,
        [connector, groupId, idpUserId, exceptId],
      ) ?? 0
    );
  }

  anyRequestHolds(connector: string, groupId: string, idpUserId: string): boolean {
    return (
      this.db.get(
        "SELECT 1 FROM requests WHERE connector = $1 AND group_id = $2 AND idp_user_id = $3 AND state IN ('approved', 'active', 'revoking') AND kind <> 'removal' LIMIT 1",
        [connector, groupId, idpUserId],
      ) !== undefined
    );
  }

  getMembership(connector: string, groupId: string, idpUserId: string): { owned: boolean } | undefined {
    const v = this.db.value<number>('SELECT owned FROM memberships WHERE connector = $1 AND group_id = $2 AND idp_user_id = $3', [connector, groupId, idpUserId]);
    return v === undefined ? undefined : { owned: v === 1 };
  }

  recordMembership(connector: string, groupId: string, idpUserId: string, owned: boolean, at: number): { owned: boolean } {
    this.db.run('INSERT INTO memberships (connector, group_id, idp_user_id, owned, recorded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
      connector,
      groupId,
      idpUserId,
      owned ? 1 : 0,
      at,
    ]);
    return this.getMembership(connector, groupId, idpUserId)!;
  }

  deleteMembership(connector: string, groupId: string, idpUserId: string): void {
    this.db.run('DELETE FROM memberships WHERE connector = $1 AND group_id = $2 AND idp_user_id = $3', [connector, groupId, idpUserId]);
  }

  dueGrants(now: number, limit: number): RequestRecord[] {
    return this.requests("WHERE r.state = 'active' AND r.expires_at <= $1 ORDER BY r.expires_at LIMIT $2", [now, limit]);
  }

  nextExpiry(): number | undefined {
    return this.db.value<number | null>("SELECT MIN(expires_at) FROM requests WHERE state = 'active'") ?? undefined;
  }

  timersDue(now: number, limit: number): RequestRecord[] {
    return this.requests("WHERE r.state = 'pending' AND r.next_timer_at IS NOT NULL AND r.next_timer_at <= $1 ORDER BY r.next_timer_at LIMIT $2", [now, limit]);
  }

  warningsDue(now: number, limit: number): RequestRecord[] {
    return this.requests('WHERE r.next_warning_at IS NOT NULL AND r.next_warning_at <= $1 ORDER BY r.next_warning_at LIMIT $2', [now, limit]);
  }

  appendAudit(requestId: string | null, at: number, actor: string, step: Step): AuditRecord {
    // Inside a transaction, under the global write lock: no other writer appends in between.
    const prev = this.db.value<string>('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1') ?? GENESIS_HASH;
    const data = JSON.stringify(step);
    const hash = chainHash(prev, requestId, at, actor, data);
    const seq = this.db.value<number>('INSERT INTO audit_events (request_id, at, type, actor, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq', [
      requestId,
      at,
      step.type,
      actor,
      data,
      prev,
      hash,
    ])!;
    return { seq, requestId, at, actor, step, prevHash: prev, hash };
  }

  getAudit(seq: number): AuditRecord | undefined {
    const r = this.db.get('SELECT * FROM audit_events WHERE seq = $1', [seq]);
    return r ? toAudit(r) : undefined;
  }

  auditOf(requestId: string): AuditRecord[] {
    return this.db.all('SELECT * FROM audit_events WHERE request_id = $1 ORDER BY seq', [requestId]).map(toAudit);
  }

  verifyAuditChain(): number | undefined {
    const c = this.checkAuditChain();
    return c.ok ? undefined : c.broken?.seq;
  }

  checkAuditChain(expected?: AuditHead): ChainCheck {
    return checkChain(auditEvents(this.db), chainHash, expected);
  }

  auditHead(): AuditHead {
    return this.db.get<AuditHead>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1') ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** One read-only REPEATABLE READ transaction: every read in `fn` sees the same snapshot (no write lock: it writes nothing). */
  snapshot<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.tx(
      () => {
        this.db.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        return fn();
      },
      { lock: false },
    );
  }

  requestsCreated(fromMs: number, toMs: number, after: { createdAt: number; id: string } | undefined, limit: number): RequestRecord[] {
    // Keyset pages over requests_created; ids compared bytewise, as SQLite compares them.
    return this.requests(
      `WHERE r.part_of IS NULL AND r.created_at >= $1 AND r.created_at < $2
        AND (r.created_at > $3 OR (r.created_at = $3 AND r.id COLLATE "C" > $4)) ORDER BY r.created_at, r.id COLLATE "C" LIMIT $5`,
      [fromMs, toMs, after?.createdAt ?? -1, after?.id ?? '', limit],
    );
  }

  jiraIntake(issueId: string): JiraIntakeRecord | undefined {
    const r = this.db.get('SELECT * FROM jira_intake WHERE issue_id = $1', [issueId]);
    return r && toJiraIntake(r);
  }

  saveJiraIntake(r: JiraIntakeRecord, at: number): void {
    this.db.run(
      `INSERT INTO jira_intake (issue_id, issue_key, request_id, problems, issue_updated, seen_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (issue_id) DO UPDATE SET issue_key = excluded.issue_key, problems = excluded.problems, issue_updated = excluded.issue_updated, updated_at = excluded.updated_at`,
      [r.issueId, r.issueKey, r.requestId, r.problems === null ? null : JSON.stringify(r.problems), r.issueUpdated, r.seenAt, at],
    );
  }

  pollMark(name: string): number | undefined {
    return this.db.value<number>('SELECT at FROM jira_poll WHERE name = $1', [name]) ?? undefined;
  }

  setPollMark(name: string, at: number): void {
    this.db.run('INSERT INTO jira_poll (name, at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET at = excluded.at', [name, at]);
  }

  claimRun(job: string, slot: number, holder: string, at: number): boolean {
    // One statement: of two replicas claiming at once, the second waits on the row and then finds the slot taken.
    return (
      this.db.run(
        `INSERT INTO scheduled_runs (job, slot, holder, claimed_at) VALUES ($1, $2, $3, $4)
          ON CONFLICT (job) DO UPDATE SET slot = excluded.slot, holder = excluded.holder, claimed_at = excluded.claimed_at WHERE excluded.slot > scheduled_runs.slot`,
        [job, slot, holder, at],
      ) === 1
    );
  }

  firstDelivery(key: string, at: number): boolean {
    return this.db.run('INSERT INTO inbound_seen (key, at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [key, at]) === 1;
  }

  pruneSeen(before: number): number {
    return this.db.run('DELETE FROM inbound_seen WHERE at < $1', [before]);
  }

  enqueue(effect: EffectSpec): number {
    return this.outbox.enqueue(effect);
  }
}

/** The audit log in seq order, read a page at a time, as domain/audit.ts checks it. */
export function* auditEvents(db: PgDb, pageSize = 5000): Iterable<StoredAuditEvent> {
  let after = 0;
  for (;;) {
    const page = db.all<StoredAuditEvent>(
      'SELECT seq, request_id AS "requestId", at, type, actor, data, prev_hash AS "prevHash", hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, pageSize],
    );
    yield* page;
    if (page.length < pageSize) return;
    after = page.at(-1)!.seq;
  }
}
