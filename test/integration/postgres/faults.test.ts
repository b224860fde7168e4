// The faults suite (../faults.test.ts) on Postgres: test/support/postgres.ts gives each harness a
// database of its own (TEST_DATABASE_URL, or a throwaway cluster).
import { onPostgres } from './store.js';

await onPostgres(() => import('../faults.test.js'));
