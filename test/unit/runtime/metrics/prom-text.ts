// A strict parser of the Prometheus text exposition format 0.0.4 (as documented at
// prometheus.io/docs/instrumenting/exposition_formats), for tests: any malformed line throws.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(\\{(.*)\\})?\\s+(\\S+)(\\s+-?\\d+)?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_total', '_bucket', '_sum', '_count', '_created', ''];

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', help: '', samples: [] }));
    return f;
  };
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(line);
      if (!m) return; // plain comment
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3]!)) throw new Error(`unknown type in ${where}`);
        if (family(m[2]!).samples.length) throw new Error(`TYPE after samples in ${where}`);
        family(m[2]!).type = m[3]!;
      } else family(m[2]!).help = m[3]!;
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`malformed sample in ${where}`);
    const name = m[1]!;
    const value = parseValue(m[4]!, where);
    const labels = m[3] === undefined ? {} : parseLabels(m[3], where);
    const owner = SUFFIXES.map((s) => (s && name.endsWith(s) ? name.slice(0, -s.length) : name)).find((n) => families.has(n)) ?? name;
    family(owner).samples.push({ name, labels, value });
  });
  return families;
}

function parseValue(text: string, where: string): number {
  // Prometheus parses values with Go's strconv.ParseFloat: Inf and NaN in any letter case.
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`bad value in ${where}`);
  return v;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,?)/.exec(rest);
    if (!m) throw new Error(`bad labels in ${where}`);
    if (m[1]! in labels) throw new Error(`duplicate label ${m[1]} in ${where}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
    if (!m[3] && rest.length) throw new Error(`missing comma in ${where}`);
  }
  return labels;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if none. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
