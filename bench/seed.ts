/**
 * Writes requests straight into the database of a bot that is not running yet, with prepared
 * INSERTs in one transaction: active grants (with their ownership records) for the revocation
 * and scale measurements, and a history of finished requests with the approvers, audit events
 * and finished outbox effects a real history leaves behind.
 *
 * Only the columns the history needs are written; the others keep their defaults. People are
 * written once each (requester and approver), and an approver's card is a surface reference.
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { parseCatalog } from '../src/config/catalog.js';
import type { JiraEmulator } from '../test/emulators/jira.js';
import { APP, APPROVER, CATALOG, GROUP, ROLE, type Person } from './env.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function policyJson(): string {
  const cat = parseCatalog(CATALOG, { configuredConnectors: ['okta'] });
  if (!cat.ok) throw new Error(cat.errors.join('; '));
  const role = cat.catalog.applications.find((a) => a.id === APP)!.roles.find((r) => r.id === ROLE)!;
  return JSON.stringify(role.approval);
}

const REQUEST_COLUMNS = [
  'id',
  'submission_key',
  'state',
  'app_id',
  'role_id',
  'app_name',
  'role_name',
  'connector',
  'group_id',
  'duration_token',
  'duration_ms',
  'reason',
  'policy_json',
  'requester_id',
  'requester_email',
  'requester_name',
  'idp_user_id',
  'stage',
  'jira_key',
  'created_at',
  'updated_at',
  'decided_at',
  'decided_by',
  'granted_at',
  'expires_at',
  'revoke_requested_at',
  'revoke_cause',
  'revoked_by',
  'revoked_at',
  'failure',
] as const;

type RequestRow = Record<(typeof REQUEST_COLUMNS)[number], string | number | null>;

export class Seeder {
  private readonly insertRequest;
  private readonly insertApproverRow;
  private readonly insertPerson;
  private readonly insertCard;
  private readonly people = new Map<string, number>();
  private readonly insertMembership;
  private readonly insertAudit;
  private readonly insertOutbox;
  private readonly policy = policyJson();
  private prevHash: string;

  constructor(private readonly db: Database.Database) {
    this.insertRequest = db.prepare(`INSERT INTO requests (${REQUEST_COLUMNS.join(', ')}) VALUES (${REQUEST_COLUMNS.map((c) => `@${c}`).join(', ')})`);
    this.insertApproverRow = db.prepare('INSERT INTO approvers (request_id, stage, person_id, asked_at, decision, decided_at, reason) VALUES (?, 0, ?, ?, ?, ?, ?)');
    this.insertPerson = db
      .prepare(
        `INSERT INTO people (email, slack_id, name, created_at, updated_at) VALUES (?, ?, ?, 0, 0)
         ON CONFLICT (email) DO UPDATE SET name = excluded.name RETURNING id`,
      )
      .pluck();
    this.insertCard = db.prepare("INSERT INTO surface_refs (request_id, surface, purpose, stage, person_id, channel, ts, at) VALUES (?, 'slack', 'approver_card', 0, ?, ?, ?, ?)");
    this.insertMembership = db.prepare('INSERT OR IGNORE INTO memberships (connector, group_id, idp_user_id, owned, recorded_at) VALUES (?, ?, ?, 1, ?)');
    this.insertAudit = db.prepare('INSERT INTO audit_events (request_id, at, type, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.insertOutbox = db.prepare(
      "INSERT INTO outbox (queue, kind, request_id, payload, status, attempts, available_at, result, created_at, done_at) VALUES (?, ?, ?, ?, 'done', 1, ?, ?, ?, ?)",
    );
    this.prevHash = (db.prepare('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1').pluck().get() as string | undefined) ?? '0'.repeat(64);
  }

  /** For seeding big databases: no rollback journal, no fsync; WAL again afterwards. */
  static fast(db: Database.Database): () => void {
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    return () => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    };
  }

  private person(p: { email: string; slackId: string; name: string }): number {
    let id = this.people.get(p.email);
    if (id === undefined) {
      id = this.insertPerson.get(p.email, p.slackId, p.name) as number;
      this.people.set(p.email, id);
    }
    return id;
  }

  /** The bench approver's row for a request, with their card when it was posted. */
  private insertApprover(
    requestId: string,
    askedAt: number,
    decision: string | null,
    decidedAt: number | null,
    reason: string | null,
    card: { channel: string; ts: string } | null,
  ): void {
    const personId = this.person(APPROVER);
    this.insertApproverRow.run(requestId, personId, askedAt, decision, decidedAt, reason);
    if (card) this.insertCard.run(requestId, personId, card.channel, card.ts, askedAt);
  }

  private base(id: string, p: Person, createdAt: number, n: number): RequestRow {
    return {
      id,
      submission_key: `V${id.slice(4)}`,
      state: 'pending',
      app_id: APP,
      role_id: ROLE,
      app_name: 'Bench application',
      role_name: 'Reader',
      connector: 'okta',
      group_id: GROUP,
      duration_token: '4h',
      duration_ms: 4 * HOUR,
      reason: 'Bench: reading the quarterly access report',
      policy_json: this.policy,
      requester_id: this.person(p),
      requester_email: p.email,
      requester_name: p.name,
      idp_user_id: null,
      stage: 0,
      jira_key: `ACC-${n}`,
      created_at: createdAt,
      updated_at: createdAt,
      decided_at: null,
      decided_by: null,
      granted_at: null,
      expires_at: null,
      revoke_requested_at: null,
      revoke_cause: null,
      revoked_by: null,
      revoked_at: null,
      failure: null,
    };
  }

  /** An active grant owned by the bot: the request, its approver's vote and the ownership record. */
  activeGrant(id: string, p: Person, n: number, grantedAt: number, expiresAt: number | null, card?: { channel: string; ts: string }): void {
    const created = grantedAt - 60_000;
    const r = this.base(id, p, created, n);
    Object.assign(r, {
      state: 'active',
      idp_user_id: p.oktaId,
      updated_at: grantedAt,
      decided_at: grantedAt - 1000,
      decided_by: `${APPROVER.name} (${APPROVER.email})`,
      granted_at: grantedAt,
      expires_at: expiresAt,
      duration_token: expiresAt === null ? 'permanent' : '4h',
      duration_ms: expiresAt === null ? null : expiresAt - grantedAt,
    });
    this.insertRequest.run(r);
    this.insertApprover(id, created + 500, 'approve', grantedAt - 1000, null, card ?? null);
    this.insertMembership.run('okta', GROUP, p.oktaId, grantedAt - 500);
  }

  /** A request routed to the bench approver and waiting for a decision, with their card. */
  pendingApproval(id: string, p: Person, n: number, createdAt: number, card: { channel: string; ts: string }): void {
    this.insertRequest.run(this.base(id, p, createdAt, n));
    this.insertApprover(id, createdAt + 500, null, null, null, card);
  }

  /**
   * A finished request in one of the end states, with the rows its history left: one approver,
   * the audit events of its steps (hash-chained) and its finished outbox effects.
   */
  pastRequest(id: string, p: Person, n: number, createdAt: number, kind: number): void {
    const r = this.base(id, p, createdAt, n);
    const steps: string[] = ['requested', 'approval_requested'];
    // 70% granted and revoked later, 15% denied, 5% each cancelled, timed out, failed.
    const k = kind % 20;
    if (k < 14) {
      Object.assign(r, {
        state: 'revoked',
        idp_user_id: p.oktaId,
        decided_at: createdAt + 30 * 60_000,
        decided_by: APPROVER.name,
        granted_at: createdAt + 31 * 60_000,
        expires_at: createdAt + 31 * 60_000 + 4 * HOUR,
        revoke_requested_at: createdAt + 31 * 60_000 + 4 * HOUR,
        revoke_cause: 'expired',
        revoked_at: createdAt + 31 * 60_000 + 4 * HOUR + 200,
      });
      steps.push('approved', 'granted', 'revoked');
    } else if (k < 17) {
      Object.assign(r, { state: 'denied', decided_at: createdAt + 20 * 60_000, decided_by: APPROVER.name });
      steps.push('denied');
    } else if (k === 17) {
      Object.assign(r, { state: 'cancelled', decided_at: createdAt + 10 * 60_000 });
      steps.push('cancelled');
    } else if (k === 18) {
      Object.assign(r, { state: 'timed_out', decided_at: createdAt + 3 * DAY });
      steps.push('timed_out');
    } else {
      Object.assign(r, { state: 'failed', failure: 'granting access failed: Okta user not found' });
      steps.push('approved', 'failed');
    }
    r.updated_at = (r.revoked_at ?? r.decided_at ?? createdAt) as number;
    this.insertRequest.run(r);
    const decided = r.state === 'revoked' || r.state === 'denied' || r.state === 'failed';
    this.insertApprover(
      id,
      createdAt + 500,
      decided ? (r.state === 'denied' ? 'deny' : 'approve') : null,
      decided ? ((r.decided_at as number | null) ?? createdAt) : null,
      r.state === 'denied' ? 'Use the dashboard' : null,
      { channel: 'D0APPROVER', ts: `${Math.floor(createdAt / 1000)}.000200` },
    );
    let at = createdAt;
    for (const type of steps) {
      at += 60_000;
      const data = JSON.stringify({ type });
      const hash = createHash('sha256').update(JSON.stringify([this.prevHash, id, at, 'access-bot', data])).digest('hex');
      this.insertAudit.run(id, at, type, 'access-bot', data, this.prevHash, hash);
      this.prevHash = hash;
    }
    // The effects a lifecycle like this one runs: routing, the issue, its property, one comment
    // and one requester DM per step, transitions, the approver's card and its update.
    const effects: [string, string][] = [
      ['request.route', `route:${id}`],
      ['jira.create', `jira:${id}`],
      ['jira.property', `jira:${id}`],
      ['slack.approverDm', `slack:${id}:${APPROVER.slackId}`],
      ['slack.approverUpdate', `slack:${id}:${APPROVER.slackId}`],
      ['slack.requesterConfirmationUpdate', `slack:${id}:requester`],
    ];
    for (let i = 0; i < steps.length; i++) {
      effects.push(['jira.comment', `jira:${id}`], ['slack.requesterDm', `slack:${id}:requester`]);
      if (i >= 2) effects.push(['jira.transition', `jira:${id}`]);
    }
    if (r.state === 'revoked') {
      effects.push(['idp.resolveUser', `idp:@resolve:${id}`], ['idp.grant', `idp:okta:${GROUP}:${p.oktaId}`], ['idp.revoke', `idp:okta:${GROUP}:${p.oktaId}`]);
    }
    let t = createdAt;
    for (const [kindName, queue] of effects) {
      t += 1000;
      this.insertOutbox.run(queue, kindName, id, JSON.stringify({ requestId: id }), t, '{"ok":true}', t, t + 50);
    }
  }
}

/** The Jira issue a seeded request points at, in the state its request is in. */
export function seedIssue(jira: JiraEmulator, n: number, requestId: string, status: string): void {
  const now = new Date();
  jira.issues.set(`ACC-${n}`, {
    id: String(100_000 + n),
    key: `ACC-${n}`,
    projectKey: 'ACC',
    issueType: 'Task',
    summary: `Access request ${requestId}`,
    description: null,
    labels: [`access-bot-${requestId}`],
    fields: new Map(),
    changelog: [],
    status,
    created: now,
    updated: now,
    comments: [],
    properties: new Map(),
    history: [],
  });
  const project = jira.projects.get('ACC');
  if (project && project.nextNumber <= n) project.nextNumber = n + 1;
}
