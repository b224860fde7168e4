/** Reading what the bot wrote to Slack as Slack would parse it, for tests of escaping. */

/** Slack control sequences outside text must never produce: mentions, channel pings, links. */
export const ACTIVE = /<[!@#]|<https?:|<mailto:/;

/** Every mrkdwn string in a message's blocks (the top-level `text` is checked on its own). */
export function mrkdwnOf(m: { blocks?: unknown }): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(m.blocks);
  return out;
}
