// Parser for Kafka's `sasl.jaas.config` value: `<LoginModuleClass> <ControlFlag> [option=value ...];`
// Grammar as Kafka's JaasConfig reads it (java.io.StreamTokenizer): words of letters, digits and `-_$.`, values either
// such words or double-quoted strings with backslash escapes; a client takes exactly one login module.

export interface JaasEntry {
  loginModule: string;
  controlFlag: 'required' | 'requisite' | 'sufficient' | 'optional';
  options: Record<string, string>;
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);
const WORD = /[A-Za-z0-9_$.\-]/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

type Token = { kind: 'word' | 'quoted'; text: string } | { kind: 'symbol'; text: string };

/** Error messages never quote option values (they hold passwords). */
export class JaasSyntaxError extends Error {}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= input.length) throw new JaasSyntaxError('a quoted value is not closed (missing ")');
        const q = input[i++]!;
        if (q === '"') break;
        if (q === '\\' && i < input.length) {
          const e = input[i++]!;
          text += ESCAPES[e] ?? e;
        } else {
          text += q;
        }
      }
      tokens.push({ kind: 'quoted', text });
      continue;
    }
    if (WORD.test(c)) {
      let text = '';
      while (i < input.length && WORD.test(input[i]!)) text += input[i++];
      tokens.push({ kind: 'word', text });
      continue;
    }
    if (c === '=' || c === ';') { tokens.push({ kind: 'symbol', text: c }); i++; continue; }
    throw new JaasSyntaxError(`unexpected character ${JSON.stringify(c)} at position ${i + 1}`);
  }
  return tokens;
}

/** Parses a value holding exactly one login module; throws JaasSyntaxError naming what is wrong. */
export function parseJaasConfig(value: string): JaasEntry {
  const tokens = tokenize(value);
  const entries: JaasEntry[] = [];
  let i = 0;
  const expectWord = (what: string): string => {
    const t = tokens[i++];
    if (!t || t.kind !== 'word') throw new JaasSyntaxError(`expected ${what}${t ? `, found ${JSON.stringify(t.kind === 'quoted' ? '"…"' : t.text)}` : ' but the value ended'}`);
    return t.text;
  };
  while (i < tokens.length) {
    const loginModule = expectWord('a login module class name, e.g. org.apache.kafka.common.security.plain.PlainLoginModule');
    const flag = expectWord('a control flag (required, requisite, sufficient or optional) after the login module');
    if (!FLAGS.has(flag.toLowerCase())) throw new JaasSyntaxError(`control flag must be required, requisite, sufficient or optional, found ${JSON.stringify(flag)}`);
    const options: Record<string, string> = {};
    for (;;) {
      const t = tokens[i];
      if (!t) throw new JaasSyntaxError(`the ${loginModule} entry must end with ";"`);
      if (t.kind === 'symbol' && t.text === ';') { i++; break; }
      const name = expectWord('an option name (name="value") or ";"');
      if (tokens[i]?.text !== '=' || tokens[i]?.kind !== 'symbol') throw new JaasSyntaxError(`option ${name} must be written ${name}="value"`);
      i++;
      const v = tokens[i++];
      if (!v || v.kind === 'symbol') throw new JaasSyntaxError(`option ${name} has no value`);
      if (name in options) throw new JaasSyntaxError(`option ${name} is given twice`);
      options[name] = v.text;
    }
    entries.push({ loginModule, controlFlag: flag.toLowerCase() as JaasEntry['controlFlag'], options });
  }
  if (entries.length !== 1) throw new JaasSyntaxError(`must hold exactly one login module, found ${entries.length}`);
  return entries[0]!;
}
