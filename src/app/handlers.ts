/** The outbox handlers whose work is orchestration (routing, grants, revocations). */
import type { EffectHandler } from '../outbox/dispatcher.js';
import type { EffectRow } from '../outbox/outbox.js';
import type { AppContext } from './context.js';
import { asEffect, isLegacyMembership } from './effects.js';
import { applyEscalation, resolveEscalation, type EscalationResult } from './escalate.js';
import { grantDead, grantDone, runGrant, type GrantResult } from './grant.js';
import { resolveDead, resolveDone, runResolve, type ResolveResult } from './resolveUser.js';
import { handOverRevoke, revokeDead, revokeDone, runRevoke, type RevokeResult } from './revoke.js';
import { applyRouting, resolveStage, routingDead, type RoutingResult } from './route.js';
import { runUndo, undoDead, undoDone, type UndoResult } from './undoGrant.js';

/** Runs `legacy` for a membership effect an older version wrote by email, else `current`. */
function byPayloadShape(legacy: EffectHandler, current: EffectHandler): EffectHandler {
  const pick = (row: EffectRow): EffectHandler => (isLegacyMembership(row.payload) ? legacy : current);
  return {
    run: (row) => pick(row).run(row),
    onDone: (row, result) => pick(row).onDone?.(row, result),
    onDead: (row, err) => pick(row).onDead?.(row, err),
  };
}

export function appHandlers(ctx: AppContext): Record<string, EffectHandler> {
  // Reads the fields an `idp.grant` of an older version has too (requestId, connector, group, email).
  const resolve: EffectHandler = {
    run: (row) => runResolve(ctx, asEffect('idp.resolveUser', row.payload)),
    onDone: (row, result) => resolveDone(ctx, asEffect('idp.resolveUser', row.payload), result as ResolveResult),
    onDead: (row, err) => resolveDead(ctx, asEffect('idp.resolveUser', row.payload), err),
  };
  return {
    'request.route': {
      run: (row) => {
        const e = asEffect('request.route', row.payload);
        return resolveStage(ctx, e.requestId, e.stage);
      },
      onDone: (row, result) => applyRouting(ctx, asEffect('request.route', row.payload).requestId, result as RoutingResult),
      onDead: (row, err) => routingDead(ctx, asEffect('request.route', row.payload).requestId, err),
    },
    'request.escalate': {
      run: (row) => {
        const e = asEffect('request.escalate', row.payload);
        return resolveEscalation(ctx, e.requestId, e.stage);
      },
      onDone: (row, result) => applyEscalation(ctx, asEffect('request.escalate', row.payload).requestId, result as EscalationResult),
    },
    'idp.resolveUser': resolve,
    // Rows an older version enqueued by email move to the IdP user's queue: its grant is a lookup
    // that enqueues the grant there, its revocation is enqueued there anew.
    'idp.grant': byPayloadShape(resolve, {
      run: (row) => runGrant(ctx, asEffect('idp.grant', row.payload)),
      onDone: (row, result) => grantDone(ctx, asEffect('idp.grant', row.payload), result as GrantResult),
      onDead: (row, err) => grantDead(ctx, asEffect('idp.grant', row.payload), err),
    }),
    'idp.revoke': byPayloadShape(
      { run: () => Promise.resolve({ handedOver: true }), onDone: (row) => handOverRevoke(ctx, asEffect('idp.revoke', row.payload).requestId) },
      {
        run: (row) => runRevoke(ctx, asEffect('idp.revoke', row.payload)),
        onDone: (row, result) => revokeDone(ctx, asEffect('idp.revoke', row.payload), result as RevokeResult),
        onDead: (row, err) => revokeDead(ctx, asEffect('idp.revoke', row.payload), err),
      },
    ),
    'idp.undoGrant': {
      run: (row) => runUndo(ctx, asEffect('idp.undoGrant', row.payload)),
      onDone: (row, result) => undoDone(ctx, asEffect('idp.undoGrant', row.payload), result as UndoResult),
      onDead: (row, err) => undoDead(ctx, asEffect('idp.undoGrant', row.payload), err),
    },
  };
}
