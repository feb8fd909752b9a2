/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests that read /metrics.
 * Strict where a real scraper would reject or misread: every line must parse; a family's HELP and
 * TYPE come once and before its samples; samples of one family are contiguous; sample names belong
 * to their family (summary: name, _sum, _count; histogram: _bucket, _sum, _count; counters and
 * gauges: the name itself); label names are valid and unique; no series appears twice; histogram
 * buckets are cumulative and end with le="+Inf" equal to _count.
 *
 *   line     = "# HELP " name " " text | "# TYPE " name " " type | "#" comment | sample | ""
 *   sample   = name [ "{" label ( "," label )* [","] "}" ] " " value [ " " timestamp ]
 *   label    = labelname "=" '"' escaped-string '"'        (escapes: \\ \" \n)
 *   value    = float | "NaN" | "+Inf" | "-Inf"
 */

export type PromType = 'counter' | 'gauge' | 'summary' | 'histogram' | 'untyped';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  help?: string;
  type: PromType;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'summary', 'histogram', 'untyped']);

/**
 * Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case
 * (prom-client 15 writes NaN as "Nan"); numbers must be plain decimal or exponent notation.
 */
function parseValue(s: string, where: string): number {
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value '${s}'`);
  return Number(s);
}

/** Parses `{a="x",b="y"}` starting at s[i] === '{'; returns labels and the index after '}'. */
function parseLabels(s: string, i: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    if (s[i] === '}') return { labels, end: i + 1 };
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = s.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' twice`);
    if (s[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = s[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape '\\${e}'`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`${where}: expected ',' or '}' after label '${name}'`);
  }
}

function familyOf(sampleName: string, families: Map<string, PromFamily>): PromFamily | undefined {
  const exact = families.get(sampleName);
  if (exact && (exact.type === 'counter' || exact.type === 'gauge' || exact.type === 'untyped' || exact.type === 'summary')) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const f = families.get(sampleName.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seenSeries = new Set<string>();
  const finished = new Set<string>();
  let current: PromFamily | undefined;
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const lines = text.split('\n');
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
      let f = families.get(name);
      if (f && finished.has(name)) throw new Error(`${where}: ${kind} for '${name}' after its samples ended`);
      if (!f) {
        f = { name, type: 'untyped', samples: [] };
        families.set(name, f);
      }
      if (f.samples.length > 0) throw new Error(`${where}: ${kind} for '${name}' after its samples`);
      if (current && current !== f) finished.add(current.name);
      current = f;
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for '${name}'`);
        f.help = rest;
      } else {
        if (!TYPES.has(rest)) throw new Error(`${where}: bad type '${rest}'`);
        if (f.type !== 'untyped' || (f as { typed?: boolean }).typed) throw new Error(`${where}: second TYPE for '${name}'`);
        f.type = rest as PromType;
        (f as { typed?: boolean }).typed = true;
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: not a sample: '${line}'`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, where));
    if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).split(' ');
    if (parts.length > 2 || parts[0] === '') throw new Error(`${where}: expected 'value [timestamp]'`);
    const value = parseValue(parts[0], where);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp '${parts[1]}'`);
    let f = familyOf(name, families);
    if (!f) {
      if (families.has(name)) throw new Error(`${where}: sample '${name}' does not fit its family's type`);
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    if (finished.has(f.name)) throw new Error(`${where}: samples of '${f.name}' are not contiguous`);
    if (current && current !== f) finished.add(current.name);
    current = f;
    if (f.type === 'summary' && name === f.name && labels.quantile === undefined) throw new Error(`${where}: summary sample without quantile`);
    if (f.type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) throw new Error(`${where}: bucket without le`);
    const key = `${name}{${Object.keys(labels)
      .sort()
      .map((k) => `${k}=${JSON.stringify(labels[k])}`)
      .join(',')}}`;
    if (seenSeries.has(key)) throw new Error(`${where}: series ${key} twice`);
    seenSeries.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Buckets of each series non-decreasing in le, ending with +Inf equal to _count. */
function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { le: number; v: number }[]>();
  const counts = new Map<string, number>();
  const keyOf = (l: Record<string, string>) =>
    Object.keys(l)
      .filter((k) => k !== 'le')
      .sort()
      .map((k) => `${k}=${l[k]}`)
      .join(',');
  for (const s of f.samples) {
    const k = keyOf(s.labels);
    if (s.name.endsWith('_bucket')) {
      const list = groups.get(k) ?? [];
      list.push({ le: parseValue(s.labels.le, f.name), v: s.value });
      groups.set(k, list);
    } else if (s.name.endsWith('_count')) counts.set(k, s.value);
  }
  for (const [k, list] of groups) {
    list.sort((a, b) => a.le - b.le);
    for (let i = 1; i < list.length; i++) if (list[i].v < list[i - 1].v) throw new Error(`${f.name}{${k}}: buckets not cumulative`);
    const last = list[list.length - 1];
    if (last.le !== Infinity) throw new Error(`${f.name}{${k}}: no +Inf bucket`);
    if (counts.get(k) !== last.v) throw new Error(`${f.name}{${k}}: +Inf bucket ${last.v} != _count ${counts.get(k)}`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`; throws when none or several match. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string | number> = {}, exactLabels = false): number {
  const matches = samples(families, name, labels, exactLabels);
  if (matches.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${matches.length} samples match`);
  return matches[0].value;
}

/** Every sample of `name` (a sample name, e.g. x_count) whose labels include `labels` (exactly, with exactLabels). */
export function samples(families: Map<string, PromFamily>, name: string, labels: Record<string, string | number> = {}, exactLabels = false): PromSample[] {
  const out: PromSample[] = [];
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (exactLabels && Object.keys(s.labels).length !== Object.keys(labels).length) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === String(v))) out.push(s);
    }
  }
  return out;
}
