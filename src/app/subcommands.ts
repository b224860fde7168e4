/** `/access <subcommand>`: each to its use case. The modal and the help are the listener's. */
import type { AccessCommand } from '../domain/command.js';
import { cancelRequest } from './cancel.js';
import { listMine, reply, statusOf } from './commands.js';
import type { AppContext } from './context.js';
import type { ReplyTarget } from './decide.js';

export type Subcommand = Exclude<AccessCommand, { kind: 'modal' } | { kind: 'help' }>;

export async function runSubcommand(ctx: AppContext, cmd: Subcommand, actorSlackId: string, to: ReplyTarget): Promise<void> {
  switch (cmd.kind) {
    case 'list':
      return listMine(ctx, { actorSlackId, reply: to });
    case 'status':
      return statusOf(ctx, { actorSlackId, request: cmd.request, reply: to });
    case 'cancel':
      cancelRequest(ctx, { actorSlackId, request: cmd.request, reply: to });
      return;
    case 'extend':
      return ctx.store.tx(() => reply(ctx, to, 'Extending a grant is not available yet.'));
  }
}
