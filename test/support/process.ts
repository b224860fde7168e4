/**
 * Runs an entry point from source (`src/cli.ts`, `src/main.ts`) as an operator would run the
 * built one: its own process, from the repository root, with PATH and the given environment only.
 */
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './chaos/world.js';

/** Resolves with the exit code and everything it printed (stdout and stderr, as they came). */
export async function runEntry(entry: string, args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out };
}
