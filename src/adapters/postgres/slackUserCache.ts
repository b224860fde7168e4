/**
 * The Slack gateway's users.info answers kept in Postgres (migrations/postgres/007_slack_user_cache.sql),
 * as adapters/sqlite/slackUserCache.ts keeps them in SQLite: one row per user, shared by every
 * replica, so an answer one replica got serves the others for the rest of its minute. Single
 * statements outside any transaction (a cache: no write lock).
 *
 * Each replica also holds answers in memory (SlackGateway), which the row cannot reach: so a
 * forget (a `user_change` event, which Slack delivers to one replica; or Slack no longer knowing
 * the user) NOTIFYs FORGOTTEN_CHANNEL with the user's id, and every replica, this one included,
 * drops its in-memory copy when it hears it (LISTEN in storage.ts).
 */
import type { DirectoryUser } from '../../app/ports/directory.js';
import type { KeptAnswer, KeptUsers } from '../slack/client.js';
import type { PgDb } from './db.js';
import { SLACK_USER_ID } from '../../domain/people.js';

/** The channel a forget notifies and every replica listens on; the payload is the Slack user id. */
export const FORGOTTEN_CHANNEL = 'slack_user_changed';


/** The user a FORGOTTEN_CHANNEL payload names; undefined when it is not a Slack user id (nothing to drop). */
export function forgottenUserOf(payload: string): string | undefined {
  return SLACK_USER_ID.test(payload) ? payload : undefined;
}

export class PostgresSlackUserCache implements KeptUsers {
  constructor(private readonly db: PgDb) {}

  /** An unreadable row throws; the gateway treats that as nothing kept (SlackGateway.readKept). */
  read(slackId: string): { user: DirectoryUser; at: number } | undefined {
    const row = this.db.get<{ user_json: string; fetched_at: number }>('SELECT user_json, fetched_at FROM slack_user_cache WHERE slack_id = $1', [slackId]);
    return row && { user: JSON.parse(row.user_json) as DirectoryUser, at: row.fetched_at };
  }

  /** One statement for all of them (one round trip); each user appears once (the gateway gathers by user). */
  writeAll(answers: readonly KeptAnswer[]): void {
    this.db.run(
      `INSERT INTO slack_user_cache (slack_id, user_json, fetched_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
        ON CONFLICT (slack_id) DO UPDATE SET user_json = excluded.user_json, fetched_at = excluded.fetched_at WHERE excluded.fetched_at >= slack_user_cache.fetched_at`,
      [answers.map((a) => a.slackId), answers.map((a) => JSON.stringify(a.user)), answers.map((a) => a.at)],
    );
  }

  /** One statement: the row goes, and every replica hears of it when it commits (an id no replica could hear is not sent). */
  forget(slackId: string): void {
    if (!forgottenUserOf(slackId)) {
      this.db.run('DELETE FROM slack_user_cache WHERE slack_id = $1', [slackId]);
      return;
    }
    this.db.run(`WITH gone AS (DELETE FROM slack_user_cache WHERE slack_id = $1) SELECT pg_notify('${FORGOTTEN_CHANNEL}', $1)`, [slackId]);
  }
}
