import { describe, expect, it } from 'vitest';
import { buildBrokerConfig, ConfigError, TOPIC_CONFIGS } from '../../../src/config.js';
import { KafkaError } from '../../../src/broker/errors.js';
import { AlterOp, applyIncremental, ConfigSource, ConfigType, parseOverrides, renderValue, topicConfigEntries } from '../../../src/broker/topic-configs.js';

const config = buildBrokerConfig({ properties: new Map([['log.retention.hours', '1']]) });

describe('renderValue', () => {
  it('prints values as Kafka does', () => {
    expect(renderValue('long', Number.MAX_SAFE_INTEGER)).toBe('9223372036854775807');
    expect(renderValue('double', 1)).toBe('1.0');
    expect(renderValue('double', 0.5)).toBe('0.5');
    expect(renderValue('list', ['a', 'b'])).toBe('a,b');
    expect(renderValue('boolean', false)).toBe('false');
  });
});

describe('topicConfigEntries', () => {
  it('names the source of each value and lists synonyms highest first', () => {
    const entries = topicConfigEntries(config, { 'segment.ms': 1000 }, { keys: ['segment.ms', 'retention.ms', 'cleanup.policy'], includeSynonyms: true, includeDocumentation: true });
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(byName['segment.ms']).toMatchObject({ value: '1000', configSource: ConfigSource.TOPIC_CONFIG, isDefault: false, configType: ConfigType.LONG });
    expect(byName['segment.ms'].synonyms.map((s) => [s.name, s.value, s.source])).toEqual([
      ['segment.ms', '1000', ConfigSource.TOPIC_CONFIG],
      ['log.roll.ms', '604800000', ConfigSource.DEFAULT_CONFIG],
    ]);
    // Set through an alias (log.retention.hours) in the broker's file: a static broker config.
    expect(byName['retention.ms']).toMatchObject({ value: '3600000', configSource: ConfigSource.STATIC_BROKER_CONFIG, isDefault: true });
    expect(byName['retention.ms'].synonyms.map((s) => [s.name, s.value, s.source])).toEqual([
      ['log.retention.ms', '3600000', ConfigSource.STATIC_BROKER_CONFIG],
      ['log.retention.ms', '604800000', ConfigSource.DEFAULT_CONFIG],
    ]);
    expect(byName['cleanup.policy']).toMatchObject({ configType: ConfigType.LIST, configSource: ConfigSource.DEFAULT_CONFIG });
    expect(byName['cleanup.policy'].documentation).toBeTruthy();
  });

  it('without options: every topic config, no synonyms, no documentation', () => {
    const entries = topicConfigEntries(config, {});
    expect(entries.map((e) => e.name)).toEqual(Object.keys(TOPIC_CONFIGS));
    expect(entries.every((e) => e.synonyms.length === 0 && e.documentation === null && !e.readOnly && !e.isSensitive)).toBe(true);
  });
});

describe('parseOverrides', () => {
  it('parses values and refuses unknown names, bad values and duplicates', () => {
    expect(parseOverrides([{ name: 'retention.ms', value: '5' }, { name: 'cleanup.policy', value: 'compact' }])).toEqual({ 'retention.ms': 5, 'cleanup.policy': 'compact' });
    expect(() => parseOverrides([{ name: 'nope', value: '1' }])).toThrow(ConfigError);
    expect(() => parseOverrides([{ name: 'retention.ms', value: 'x' }])).toThrow(ConfigError);
    expect(() => parseOverrides([{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }])).toThrow(KafkaError);
  });

  it('checks the ranges of the Kafka configs Brook accepts without acting on them, and refuses tiered storage', () => {
    expect(parseOverrides([{ name: 'remote.storage.enable', value: 'false' }, { name: 'local.retention.ms', value: '-2' }])).toEqual({ 'remote.storage.enable': false, 'local.retention.ms': -2 });
    expect(() => parseOverrides([{ name: 'remote.storage.enable', value: 'true' }])).toThrow(/Tiered Storage functionality is disabled in the broker/);
    expect(() => parseOverrides([{ name: 'local.retention.ms', value: '-3' }])).toThrow(ConfigError);
    expect(() => parseOverrides([{ name: 'compression.gzip.level', value: '0' }])).toThrow(ConfigError);
    expect(() => parseOverrides([{ name: 'compression.lz4.level', value: '18' }])).toThrow(ConfigError);
    expect(() => parseOverrides([{ name: 'compression.zstd.level', value: '23' }])).toThrow(ConfigError);
    expect(() => parseOverrides([{ name: 'max.compaction.lag.ms', value: '0' }])).toThrow(ConfigError);
    expect(() => parseOverrides([{ name: 'unclean.leader.election.enable', value: 'yes' }])).toThrow(ConfigError);
  });
});

describe('applyIncremental', () => {
  const op = (name: string, configOperation: number, value: string | null = null) => ({ name, configOperation, value });

  it('SET, DELETE, APPEND and SUBTRACT, without touching the input', () => {
    const current = { 'retention.ms': 5 };
    const next = applyIncremental(config, current, [op('retention.ms', AlterOp.DELETE), op('segment.bytes', AlterOp.SET, '1048576'), op('cleanup.policy', AlterOp.APPEND, 'compact')]);
    expect(next).toEqual({ 'segment.bytes': 1048576, 'cleanup.policy': 'delete,compact' });
    expect(current).toEqual({ 'retention.ms': 5 });
    expect(applyIncremental(config, next, [op('cleanup.policy', AlterOp.SUBTRACT, 'delete')])).toMatchObject({ 'cleanup.policy': 'compact' });
    // APPEND of what is already there changes nothing.
    expect(applyIncremental(config, {}, [op('cleanup.policy', AlterOp.APPEND, 'delete')])).toEqual({ 'cleanup.policy': 'delete' });
  });

  it('treats a DELETE of an unknown name as a no-op, as Kafka does', () => {
    expect(applyIncremental(config, { 'retention.ms': 5 }, [op('message.format.version', AlterOp.DELETE), op('segment.ms', AlterOp.DELETE)])).toEqual({ 'retention.ms': 5 });
  });

  it('refuses APPEND on non-list configs, an empty policy, unknown names and operations', () => {
    expect(() => applyIncremental(config, {}, [op('retention.ms', AlterOp.APPEND, '1')])).toThrow('APPEND is only allowed for list configs');
    expect(() => applyIncremental(config, {}, [op('cleanup.policy', AlterOp.SUBTRACT, 'delete')])).toThrow(ConfigError);
    expect(() => applyIncremental(config, {}, [op('nope', AlterOp.SET, '1')])).toThrow('unknown topic config nope');
    expect(() => applyIncremental(config, {}, [op('nope', AlterOp.APPEND, '1')])).toThrow('unknown topic config nope');
    expect(() => applyIncremental(config, {}, [op('retention.ms', 7, '1')])).toThrow(KafkaError);
  });
});
