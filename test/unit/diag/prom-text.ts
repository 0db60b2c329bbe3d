/**
 * A small checker of the Prometheus text exposition format (0.0.4), for tests: every line is a
 * `# HELP name text`, a `# TYPE name counter|gauge|histogram|summary|untyped`, or a sample
 * `name{label="value",...} number` whose family was declared by a TYPE line before it.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  /** Family name -> type. */
  types: Map<string, string>;
  samples: PromSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
const SUFFIXES = ['_bucket', '_sum', '_count'];

/** Parses the text; throws naming the line number and the line for anything malformed. */
export function parsePromText(text: string): PromText {
  const out: PromText = { types: new Map(), samples: [] };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const bad = (why: string) => new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    if (line === '' || HELP.test(line)) continue;
    if (line.startsWith('#')) {
      const t = TYPE.exec(line);
      if (!t) throw bad('a comment that is neither a valid HELP nor TYPE');
      if (out.types.has(t[1])) throw bad('a second TYPE for the family');
      out.types.set(t[1], t[2]);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw bad('not a sample line');
    const [, name, labelText, valueText] = m;
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') throw bad('value is not a number');
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText !== '') {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const l = LABEL.exec(labelText);
        if (!l) throw bad('malformed labels');
        labels[l[1]] = l[2];
      }
    }
    if (!out.types.has(name) && !familyOf(name, out.types))
      throw bad('a sample of a family without a TYPE line before it');
    out.samples.push({ name, labels, value });
  }
  return out;
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  for (const suffix of SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || type === 'summary') return base;
  }
  return undefined;
}

/** The samples of one metric name, optionally filtered by labels. */
export function samplesOf(p: PromText, name: string, labels: Record<string, string> = {}): PromSample[] {
  return p.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}
