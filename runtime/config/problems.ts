// Where a config value came from, and how a problem with it is worded. Every message starts with its location:
//   config/worker.properties:7 offset.flush.interval.ms: must be a positive integer, got "abc"
//   env CONNECT_OFFSET_FLUSH_INTERVAL_MS (offset.flush.interval.ms): must be a positive integer, got "abc"
//   config/worker.properties bootstrap.servers: required key is missing

export type Origin =
  | { kind: 'file'; file: string; line: number }
  /** A key that is absent: named by the file (or map source) it is missing from. */
  | { kind: 'absent'; source: string }
  | { kind: 'env'; variable: string }
  /** A map given by a caller (e.g. a REST request), named by `source`. */
  | { kind: 'map'; source: string };

export interface Entry {
  key: string;
  /** The value as written (after .properties unescaping), untrimmed. */
  value: string;
  origin: Origin;
}

export interface Problem {
  key?: string;
  origin: Origin;
  message: string;
}

export function formatProblem(p: Problem): string {
  const key = p.key === undefined ? '' : p.key;
  switch (p.origin.kind) {
    case 'file':
      return `${p.origin.file}:${p.origin.line}${key ? ` ${key}` : ''}: ${p.message}`;
    case 'env':
      return `env ${p.origin.variable}${key ? ` (${key})` : ''}: ${p.message}`;
    case 'absent':
    case 'map':
      return `${p.origin.source}${key ? ` ${key}` : ''}: ${p.message}`;
  }
}

/** Sorts file problems by line (env and absent-key problems after), keeping the order of equal ones. */
export function sortProblems(problems: Problem[]): Problem[] {
  const rank = (o: Origin) => (o.kind === 'file' ? 0 : o.kind === 'map' ? 1 : o.kind === 'env' ? 2 : 3);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const r = rank(a.p.origin) - rank(b.p.origin);
      if (r !== 0) return r;
      if (a.p.origin.kind === 'file' && b.p.origin.kind === 'file') {
        if (a.p.origin.file !== b.p.origin.file) return a.i - b.i;
        return a.p.origin.line - b.p.origin.line || a.i - b.i;
      }
      return a.i - b.i;
    })
    .map(({ p }) => p);
}

/** Values that must not be echoed in messages. */
export function looksSecret(key: string): boolean {
  return /pass|secret|jaas|token|credential|key\.password|keystore\.key|private/i.test(key);
}

/** Small edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 5)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c, bestDistance);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? cap;
}
