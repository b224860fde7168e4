/** Checks shared by the environment and the catalog's `connectors:`: each problem is one line via `fail`. */

export type Fail = (name: string, msg: string) => undefined;

export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An http(s) URL; credentials in it are refused without echoing them. */
export function parseHttpUrl(name: string, raw: string, example: string, fail: Fail): URL | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return fail(name, `"${raw}" is not a URL (expected e.g. ${example})`);
  }
  if (u.username || u.password) return fail(name, `must not contain a user name or password (expected e.g. ${example})`);
  // http is allowed on purpose: tests and the demo run against local emulators.
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return fail(name, `"${raw}" is not an http(s) URL (expected e.g. ${example})`);
  return u;
}

/** An origin (scheme, host, port): a trailing slash is dropped, any other path is an error. */
export function parseOrigin(name: string, raw: string, example: string, fail: Fail): string | undefined {
  const u = parseHttpUrl(name, raw, example, fail);
  if (!u) return undefined;
  if (u.pathname !== '/' || u.search || u.hash) return fail(name, `"${raw}" has a path (expected only scheme, host and port, e.g. ${example})`);
  return u.origin;
}

export function errCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}

export function joinAnd(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** The allowed word within edit distance 2 (case-insensitive), for "did you mean". */
export function closest(s: string, xs: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const x of xs) {
    const d = editDistance(s.toLowerCase(), x.toLowerCase());
    if (d < bestD) [best, bestD] = [x, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
