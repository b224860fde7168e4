/**
 * The Slack gateway's users.info answers kept in Postgres (migrations/postgres/007_slack_user_cache.sql),
 * as adapters/sqlite/slackUserCache.ts keeps them in SQLite: one row per user, shared by every
 * replica, so an answer one replica got serves the others for the rest of its minute. Single
 * statements outside any transaction (a cache: no write lock).
 */
import type { DirectoryUser } from '../../app/ports/directory.js';
import type { KeptUsers } from '../slack/client.js';
import type { PgDb } from './db.js';

export class PostgresSlackUserCache implements KeptUsers {
  constructor(private readonly db: PgDb) {}

  /** An unreadable row throws; the gateway treats that as nothing kept (SlackGateway.readKept). */
  read(slackId: string): { user: DirectoryUser; at: number } | undefined {
    const row = this.db.get<{ user_json: string; fetched_at: number }>('SELECT user_json, fetched_at FROM slack_user_cache WHERE slack_id = $1', [slackId]);
    return row && { user: JSON.parse(row.user_json) as DirectoryUser, at: row.fetched_at };
  }

  write(slackId: string, user: DirectoryUser, at: number): void {
    this.db.run(
      `INSERT INTO slack_user_cache (slack_id, user_json, fetched_at) VALUES ($1, $2, $3)
        ON CONFLICT (slack_id) DO UPDATE SET user_json = excluded.user_json, fetched_at = excluded.fetched_at WHERE excluded.fetched_at >= slack_user_cache.fetched_at`,
      [slackId, JSON.stringify(user), at],
    );
  }

  forget(slackId: string): void {
    this.db.run('DELETE FROM slack_user_cache WHERE slack_id = $1', [slackId]);
  }
}
