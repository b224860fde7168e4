// The chaos suite (../chaos.test.ts) on Postgres, with two replicas of the bot on one database,
// kill -9 of either at random points (test/support/postgres.ts: TEST_DATABASE_URL, or a
// throwaway cluster).
import { onPostgres } from './store.js';

process.env.CHAOS_REPLICAS = '2';
await onPostgres(() => import('../chaos.test.js'));
