/** `/access <subcommand>`: each to its use case. The modal and the help are the listener's. */
import type { AccessCommand } from '../domain/command.js';
import { cancelRequest } from './cancel.js';
import { listMine, statusOf } from './commands.js';
import { requestExtension } from './extend.js';
import type { CancelDeps } from './cancel.js';
import type { CommandDeps } from './commands.js';
import type { ExtendDeps } from './extend.js';
import type { ReplyTarget } from './decide.js';

export type Subcommand = Exclude<AccessCommand, { kind: 'modal' } | { kind: 'help' } | { kind: 'removal_modal' } | { kind: 'change_modal' }>;

export function runSubcommand(ctx: CommandDeps & CancelDeps & ExtendDeps, cmd: Subcommand, actorSlackId: string, to: ReplyTarget): void {
  switch (cmd.kind) {
    case 'list':
      return listMine(ctx, { actorSlackId, reply: to });
    case 'status':
      return statusOf(ctx, { actorSlackId, request: cmd.request, reply: to });
    case 'cancel':
      cancelRequest(ctx, { actorSlackId, request: cmd.request, reply: to });
      return;
    case 'extend':
      requestExtension(ctx, { actorSlackId, request: cmd.request, duration: cmd.duration, reply: to });
      return;
  }
}
