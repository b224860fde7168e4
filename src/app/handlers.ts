/** The outbox handlers whose work is orchestration (routing, grants, revocations). */
import type { EffectHandler } from '../outbox/dispatcher.js';
import type { EffectRow } from '../outbox/outbox.js';
import { inTx } from './context.js';
import { asEffect, isLegacyMembership } from './effects.js';
import { applyEscalation, resolveEscalation, type EscalationResult } from './escalate.js';
import { grantDead, grantDone, runGrant, type GrantDeps, type GrantResult } from './grant.js';
import { resolveDead, resolveDone, runResolve, type ResolveDeps, type ResolveResult } from './resolveUser.js';
import { handOverRevoke, revokeDead, revokeDone, runRevoke, type RevokeDeps, type RevokeResult } from './revoke.js';
import { removeDead, removeDone, runRemove, type RemoveDeps, type RemoveResult } from './remove.js';
import { applyReroute, resolveReroute, type RerouteResult } from './reroute.js';
import { applyRouting, resolveStage, routingDead, type RouteDeps, type RoutingResult } from './route.js';
import type { TxStore } from './ports/store.js';
import { runUndo, undoDead, undoDone, type UndoDeps, type UndoResult } from './undoGrant.js';

type Handler = EffectHandler<TxStore>;

/** What the orchestration effects touch: the dependencies of the use cases they run, together. */
export type OrchestrationDeps = RouteDeps & ResolveDeps & GrantDeps & RevokeDeps & UndoDeps & RemoveDeps;

/** Runs `legacy` for a membership effect an older version wrote by email, else `current`. */
function byPayloadShape(legacy: Handler, current: Handler): Handler {
  const pick = (row: EffectRow): Handler => (isLegacyMembership(row.payload) ? legacy : current);
  return {
    run: (row) => pick(row).run(row),
    onDone: (row, result, tx) => pick(row).onDone?.(row, result, tx),
    onDead: (row, err, tx) => pick(row).onDead?.(row, err, tx),
  };
}

/**
 * `run` works outside any transaction (it calls services); `onDone` / `onDead` run in the
 * transaction that records the outcome and write through its handle, `tx`.
 */
export function appHandlers(ctx: OrchestrationDeps): Record<string, Handler> {
  // Reads the fields an `idp.grant` of an older version has too (requestId, connector, group, email).
  const resolve: Handler = {
    run: (row) => runResolve(ctx, asEffect('idp.resolveUser', row.payload)),
    onDone: (row, result, tx) => resolveDone(inTx(ctx, tx), asEffect('idp.resolveUser', row.payload), result as ResolveResult),
    onDead: (row, err, tx) => resolveDead(inTx(ctx, tx), asEffect('idp.resolveUser', row.payload), err),
  };
  return {
    'request.route': {
      run: (row) => {
        const e = asEffect('request.route', row.payload);
        return resolveStage(ctx, e.requestId, e.stage);
      },
      onDone: (row, result, tx) => applyRouting(inTx(ctx, tx), asEffect('request.route', row.payload).requestId, result as RoutingResult),
      onDead: (row, err, tx) => routingDead(inTx(ctx, tx), asEffect('request.route', row.payload).requestId, err),
    },
    'request.escalate': {
      run: (row) => {
        const e = asEffect('request.escalate', row.payload);
        return resolveEscalation(ctx, e.requestId, e.stage);
      },
      onDone: (row, result, tx) => applyEscalation(inTx(ctx, tx), asEffect('request.escalate', row.payload).requestId, result as EscalationResult),
    },
    'request.reroute': {
      run: (row) => {
        const e = asEffect('request.reroute', row.payload);
        return resolveReroute(ctx, e.requestId, e.stage);
      },
      onDone: (row, result, tx) => applyReroute(inTx(ctx, tx), asEffect('request.reroute', row.payload).requestId, result as RerouteResult),
      // The fallback could not be looked up for good: the stage cannot pass, so the request fails with the cause.
      onDead: (row, err, tx) => routingDead(inTx(ctx, tx), asEffect('request.reroute', row.payload).requestId, err),
    },
    'idp.resolveUser': resolve,
    // Rows an older version enqueued by email move to the IdP user's queue: its grant is a lookup
    // that enqueues the grant there, its revocation is enqueued there anew.
    'idp.grant': byPayloadShape(resolve, {
      run: (row) => runGrant(ctx, asEffect('idp.grant', row.payload)),
      onDone: (row, result, tx) => grantDone(inTx(ctx, tx), asEffect('idp.grant', row.payload), result as GrantResult),
      onDead: (row, err, tx) => grantDead(inTx(ctx, tx), asEffect('idp.grant', row.payload), err),
    }),
    'idp.revoke': byPayloadShape(
      { run: () => Promise.resolve({ handedOver: true }), onDone: (row, _result, tx) => handOverRevoke(inTx(ctx, tx), asEffect('idp.revoke', row.payload).requestId) },
      {
        run: (row) => runRevoke(ctx, asEffect('idp.revoke', row.payload)),
        onDone: (row, result, tx) => revokeDone(inTx(ctx, tx), asEffect('idp.revoke', row.payload), result as RevokeResult),
        onDead: (row, err, tx) => revokeDead(inTx(ctx, tx), asEffect('idp.revoke', row.payload), err),
      },
    ),
    'idp.remove': {
      run: (row) => runRemove(ctx, asEffect('idp.remove', row.payload)),
      onDone: (row, result, tx) => removeDone(inTx(ctx, tx), asEffect('idp.remove', row.payload), result as RemoveResult),
      onDead: (row, err, tx) => removeDead(inTx(ctx, tx), asEffect('idp.remove', row.payload), err),
    },
    'idp.undoGrant': {
      run: (row) => runUndo(ctx, asEffect('idp.undoGrant', row.payload)),
      onDone: (row, result, tx) => undoDone(inTx(ctx, tx), asEffect('idp.undoGrant', row.payload), result as UndoResult),
      onDead: (row, err, tx) => undoDead(inTx(ctx, tx), asEffect('idp.undoGrant', row.payload), err),
    },
  };
}
