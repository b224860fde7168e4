/**
 * What the evidence exports and `access-bot audit verify` read (app/exportRequests.ts,
 * app/verifyAudit.ts). Implemented by adapters/sqlite/store.ts beside the store port.
 */
import type { AuditHead, ChainCheck } from '../../domain/audit.js';
import type { RequestRecord, TxStore } from './store.js';

export interface EvidenceStore extends Pick<TxStore, 'approversOf' | 'partsOf' | 'auditOf'> {
  /** Runs `fn` on one consistent view of the database (one read transaction): rows and head agree. */
  snapshot<T>(fn: () => T): T;
  /**
   * Requests created in [fromMs, toMs), bundle parts left out (they are their bundle's), in
   * (created_at, id) order, the page after `after`.
   */
  requestsCreated(fromMs: number, toMs: number, after: { createdAt: number; id: string } | undefined, limit: number): RequestRecord[];
  /** The audit log's last event (seq 0 and the genesis hash when it is empty). */
  auditHead(): AuditHead;
  /** Recomputes the whole chain (domain/audit.ts); `expected`: a head an export recorded. */
  checkAuditChain(expected?: AuditHead): ChainCheck;
}
