/**
 * The Slack gateway's users.info answers on disk (migrations/020_slack_user_cache.sql), so they
 * outlive a restart for as long as they would have lived in memory (adapters/slack/client.ts).
 */
import type { DirectoryUser } from '../../app/ports/directory.js';
import type { KeptAnswer, KeptUsers } from '../slack/client.js';
import type { Db } from './db.js';

export class SqliteSlackUserCache implements KeptUsers {
  private readonly s;
  private readonly writeInOneTx: (answers: readonly KeptAnswer[]) => void;

  constructor(db: Db) {
    this.s = {
      read: db.prepare('SELECT user_json, fetched_at FROM slack_user_cache WHERE slack_id = ?'),
      write: db.prepare(`INSERT INTO slack_user_cache (slack_id, user_json, fetched_at) VALUES (?, ?, ?)
        ON CONFLICT (slack_id) DO UPDATE SET user_json = excluded.user_json, fetched_at = excluded.fetched_at WHERE excluded.fetched_at >= slack_user_cache.fetched_at`),
      forget: db.prepare('DELETE FROM slack_user_cache WHERE slack_id = ?'),
    };
    this.writeInOneTx = db.transaction((answers: readonly KeptAnswer[]) => {
      for (const a of answers) this.s.write.run(a.slackId, JSON.stringify(a.user), a.at);
    });
  }

  /** The answer kept for this user and when Slack gave it; undefined when none is kept (or it is unreadable). */
  read(slackId: string): { user: DirectoryUser; at: number } | undefined {
    const row = this.s.read.get(slackId) as { user_json: string; fetched_at: number } | undefined;
    if (!row) return undefined;
    try {
      return { user: JSON.parse(row.user_json) as DirectoryUser, at: row.fetched_at };
    } catch {
      return undefined;
    }
  }

  writeAll(answers: readonly KeptAnswer[]): void {
    this.writeInOneTx(answers);
  }

  forget(slackId: string): void {
    this.s.forget.run(slackId);
  }
}
