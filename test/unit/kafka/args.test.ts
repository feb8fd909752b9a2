/**
 * The flag parser of the client commands (src/cli/args.ts), with the flag shapes `brook produce` and
 * `brook consume` use: valued flags as `--f v` and `--f=v`, repeatable `--property k=v`, multi-valued
 * flags, short aliases, booleans; and the usage errors for everything else.
 */
import { describe, expect, it } from 'vitest';
import { helpText, intFlag, keyValues, parseFlags, UsageError, type FlagTable } from '../../../src/cli/args.js';

const TABLE: FlagTable = {
  topic: { kind: 'string', arg: 'topic', help: 'topic' },
  'from-beginning': { kind: 'boolean', help: 'from the start' },
  property: { kind: 'list', arg: 'k=v', help: 'a property\nsecond help line' },
  'producer-props': { kind: 'multi', arg: 'k=v', help: 'props' },
  help: { kind: 'boolean', short: 'h', help: 'help' },
};

function usage(argv: string[], pattern: RegExp): void {
  let err: unknown;
  try {
    parseFlags(argv, TABLE);
  } catch (e) {
    err = e;
  }
  expect(err, argv.join(' ')).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(pattern);
}

describe('parseFlags', () => {
  it('reads strings, booleans, repeated lists, multi values and short aliases', () => {
    const f = parseFlags(['--topic', 'T', '--from-beginning', '--property', 'print.key=true', '--property=key.separator=:', '-h', '--producer-props', 'acks=1', 'linger.ms=5'], TABLE);
    expect(f.strings.get('topic')).toBe('T');
    expect([...f.booleans].sort()).toEqual(['from-beginning', 'help']);
    expect(f.lists.get('property')).toEqual(['print.key=true', 'key.separator=:']);
    expect(f.lists.get('producer-props')).toEqual(['acks=1', 'linger.ms=5']);
    expect(f.positionals).toEqual([]);
  });

  it('takes --flag=value with = inside the value, and values that start with one dash', () => {
    const f = parseFlags(['--topic=a=b', '--property', '-1'], TABLE);
    expect(f.strings.get('topic')).toBe('a=b');
    expect(f.lists.get('property')).toEqual(['-1']);
  });

  it('refuses unknown flags, missing values, repeats of one-value flags, values for booleans, stray words', () => {
    usage(['--bogus'], /^unknown option --bogus$/);
    usage(['-x'], /^unknown option -x$/);
    usage(['--topic'], /^--topic needs a value <topic>$/);
    usage(['--topic', '--from-beginning'], /^--topic needs a value <topic>$/);
    usage(['--topic', 'a', '--topic', 'b'], /^--topic given twice$/);
    usage(['--from-beginning=yes'], /^--from-beginning takes no value$/);
    usage(['--producer-props', '--topic', 't'], /^--producer-props needs at least one value$/);
    usage(['stray'], /^unexpected argument "stray"$/);
  });

  it('keeps positionals only when asked to', () => {
    expect(parseFlags(['a.log', '--topic', 't', 'b.log'], TABLE, { positionals: true }).positionals).toEqual(['a.log', 'b.log']);
  });
});

describe('keyValues and intFlag', () => {
  it('splits at the first = and keeps later pairs over earlier ones', () => {
    expect([...keyValues('property', ['a=1', 'b=x=y', 'a=2', 'c='])]).toEqual([
      ['a', '2'],
      ['b', 'x=y'],
      ['c', ''],
    ]);
  });

  it('refuses a pair without a key or without =', () => {
    expect(() => keyValues('property', ['print.key'])).toThrow(/--property expects key=value, got "print\.key"/);
    expect(() => keyValues('property', ['=v'])).toThrow(UsageError);
  });

  it('reads integers within bounds', () => {
    const t: FlagTable = { 'timeout-ms': { kind: 'string', help: '' } };
    expect(intFlag(parseFlags(['--timeout-ms', '1000'], t), 'timeout-ms', 1)).toBe(1000);
    expect(intFlag(parseFlags([], t), 'timeout-ms', 1)).toBeUndefined();
    expect(() => intFlag(parseFlags(['--timeout-ms', 'soon'], t), 'timeout-ms', 1)).toThrow(/expects an integer, got "soon"/);
    expect(() => intFlag(parseFlags(['--timeout-ms', '0'], t), 'timeout-ms', 1)).toThrow(/must be between 1 and/);
  });
});

describe('helpText', () => {
  it('lists every flag in table order with its argument and continued help lines aligned', () => {
    const text = helpText('brook x --topic <topic>', 'Does x.', TABLE);
    expect(text.startsWith('Usage: brook x --topic <topic>\n\nDoes x.\n\nOptions:\n')).toBe(true);
    const lines = text.split('\n');
    const options = lines.indexOf('Options:');
    const names = ['--topic <topic>', '--from-beginning', '--property <k=v>', '--producer-props <k=v> ...', '-h, --help'];
    const at = names.map((n) => lines.findIndex((l, i) => i > options && l.includes(n)));
    expect(at.every((i) => i > options)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const first = lines[at[2]!]!;
    const second = lines[at[2]! + 1]!;
    expect(second.trim()).toBe('second help line');
    expect(second.indexOf('second')).toBe(first.indexOf('a property'));
  });
});
