/** The outbox handlers whose work is orchestration (routing, grants, revocations). */
import type { EffectHandler } from '../outbox/dispatcher.js';
import type { AppContext } from './context.js';
import { asEffect } from './effects.js';
import { grantDead, grantDone, runGrant, type GrantResult } from './provision.js';
import { revokeDead, revokeDone, runRevoke, type RevokeResult } from './revoke.js';
import { applyEscalation, applyRouting, resolveEscalation, resolveStage, routingDead, type EscalationResult, type RoutingResult } from './route.js';

export function appHandlers(ctx: AppContext): Record<string, EffectHandler> {
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
    'idp.grant': {
      run: (row) => runGrant(ctx, asEffect('idp.grant', row.payload)),
      onDone: (row, result) => grantDone(ctx, asEffect('idp.grant', row.payload), result as GrantResult),
      onDead: (row, err) => grantDead(ctx, asEffect('idp.grant', row.payload), err),
    },
    'idp.revoke': {
      run: (row) => runRevoke(ctx, asEffect('idp.revoke', row.payload)),
      onDone: (row, result) => revokeDone(ctx, asEffect('idp.revoke', row.payload), result as RevokeResult),
      onDead: (row, err) => revokeDead(ctx, asEffect('idp.revoke', row.payload), err),
    },
  };
}
