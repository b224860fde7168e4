/** The outbox handlers of access reviews' orchestration: listing, opening, revoking. */
import type { EffectHandler } from '../outbox/dispatcher.js';
import { inTx } from './context.js';
import { asEffect, type Skipped } from './effects.js';
import type { TxStore } from './ports/store.js';
import { listDead, listPageDone, runListPage, type ListedPage, type ReviewListDeps } from './reviewList.js';
import { openDead, openReview, resolveReviewers, type OpenResult, type ReviewOpenDeps } from './reviewOpen.js';
import { reviewRevokeDead, reviewRevokeDone, runReviewRevoke, type ReviewRevokeDeps, type ReviewRevokeResult } from './reviewRevoke.js';

export type ReviewOrchestrationDeps = ReviewListDeps & ReviewOpenDeps & ReviewRevokeDeps;

/** `run` calls services outside any transaction; `onDone` / `onDead` write through `tx`. */
export function reviewHandlers(ctx: ReviewOrchestrationDeps): Record<string, EffectHandler<TxStore>> {
  return {
    'review.list': {
      run: (row) => runListPage(ctx, asEffect('review.list', row.payload)),
      onDone: (row, result, tx) => listPageDone(inTx(ctx, tx), asEffect('review.list', row.payload), result as ListedPage | Skipped),
      onDead: (row, err, tx) => listDead(inTx(ctx, tx), asEffect('review.list', row.payload), err),
    },
    'review.open': {
      run: (row) => resolveReviewers(ctx, asEffect('review.open', row.payload)),
      onDone: (row, result, tx) => openReview(inTx(ctx, tx), asEffect('review.open', row.payload), result as OpenResult | Skipped),
      onDead: (row, err, tx) => openDead(inTx(ctx, tx), asEffect('review.open', row.payload), err),
    },
    'review.revoke': {
      run: (row) => runReviewRevoke(ctx, asEffect('review.revoke', row.payload)),
      onDone: (row, result, tx) => reviewRevokeDone(inTx(ctx, tx), asEffect('review.revoke', row.payload), result as ReviewRevokeResult | Skipped),
      onDead: (row, err, tx) => reviewRevokeDead(inTx(ctx, tx), asEffect('review.revoke', row.payload), err),
    },
  };
}
