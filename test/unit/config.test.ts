/**
 * Broker settings from server.properties: the files Kafka users already have start Brook (a KRaft
 * combined-mode file and a ZooKeeper-era file, written here with the settings Kafka's sample
 * files carry), settings Brook cannot honour are refused naming the key, and settings that only
 * matter to a multi-node Kafka are accepted and reported as having no effect.
 */
import { describe, expect, it } from 'vitest';
import { BROKER_DEFS, buildBrokerConfig, ConfigError, INERT_BROKER_KEYS, parseProperties } from '../../src/config.js';

const KRAFT_COMBINED = `
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

const ZOOKEEPER_ERA = `
broker.id=0
num.network.threads=3
num.io.threads=8
log.dirs=/tmp/kafka-logs
num.partitions=1
offsets.topic.replication.factor=1
log.retention.hours=168
zookeeper.connect=localhost:2181
zookeeper.connection.timeout.ms=18000
group.initial.rebalance.delay.ms=0
`;

const build = (text: string, overrides: Record<string, string> = {}) => buildBrokerConfig({ properties: parseProperties(text), overrides });

function refusal(fn: () => unknown): { key: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return { key: (e as ConfigError).key, message: (e as Error).message };
  }
  throw new Error('expected a ConfigError');
}

describe('server.properties from Kafka', () => {
  it('a KRaft combined-mode file: serves the PLAINTEXT listener, leaves the controller listener out, notes what has no effect', () => {
    const c = build(KRAFT_COMBINED);
    expect(c.listener).toEqual({ name: 'PLAINTEXT', host: '', port: 9092 });
    expect(c.advertised).toEqual({ name: 'PLAINTEXT', host: 'localhost', port: 9092 });
    expect(c.nodeId).toBe(1);
    expect(c.dataDir).toBe('/tmp/kraft-combined-logs');
    expect(c.topicDefaults['retention.ms']).toBe(168 * 3_600_000);
    expect(c.inertKeys).toEqual(
      expect.arrayContaining(['process.roles', 'controller.quorum.voters', 'controller.listener.names', 'num.network.threads', 'num.io.threads']),
    );
    expect(c.inertKeys).not.toContain('log.segment.bytes');
    // Acts in a cluster (the min.insync.replicas __transaction_state is created with).
    expect(c.inertKeys).not.toContain('transaction.state.log.min.isr');
  });

  it('a ZooKeeper-era file', () => {
    const c = build(ZOOKEEPER_ERA);
    expect(c.nodeId).toBe(0);
    expect(c.groupInitialRebalanceDelayMs).toBe(0);
    expect(c.inertKeys).toEqual(expect.arrayContaining(['zookeeper.connect', 'zookeeper.connection.timeout.ms']));
  });

  it('every accepted-but-inert setting is a real broker setting with a parseable default', () => {
    const c = build('auto.leader.rebalance.enable=false\nreplica.lag.time.max.ms=10000\nconnections.max.idle.ms=60000\nmetadata.log.dir=/tmp/meta\nlog.cleaner.threads=2');
    // replica.lag.time.max.ms and auto.leader.rebalance.enable act in a cluster (docs/cluster.md): not inert.
    expect([...c.inertKeys].sort()).toEqual(['connections.max.idle.ms', 'log.cleaner.threads', 'metadata.log.dir']);
    for (const key of INERT_BROKER_KEYS) expect(Object.hasOwn(BROKER_DEFS, key), key).toBe(true);
  });

  it('refuses what Brook cannot serve, naming the key', () => {
    expect(refusal(() => build(KRAFT_COMBINED, { listeners: 'SASL_PLAINTEXT://:9092,CONTROLLER://:9093', 'advertised.listeners': '' }))).toEqual({
      key: 'listeners',
      message: 'listeners: listener SASL_PLAINTEXT uses SASL_PLAINTEXT; Brook serves PLAINTEXT only (no TLS or SASL yet)',
    });
    expect(refusal(() => build('listeners=PLAINTEXT://:9092,OTHER://:9094\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT')).message).toContain('exactly one client listener, and 2 are given (PLAINTEXT, OTHER)');
    expect(refusal(() => build('listeners=INTERNAL://:9092')).key).toBe('listener.security.protocol.map');
    expect(refusal(() => build('listeners=INTERNAL://:9092\nlistener.security.protocol.map=INTERNAL:SSL')).message).toContain('uses SSL');
    expect(refusal(() => build('listeners=PLAINTEXT://:9092\nadvertised.listeners=OTHER://h:1')).key).toBe('advertised.listeners');
    expect(refusal(() => build('process.roles=broker,observer')).key).toBe('process.roles');
    expect(refusal(() => build('process.roles=controller')).message).toContain('a controller-only node serves no clients');
    expect(refusal(() => build('num.io.threads=many')).key).toBe('num.io.threads');
    expect(refusal(() => build('num.network.thread=3')).message).toBe('unknown config num.network.thread');
  });

  it('a custom listener name mapped to PLAINTEXT is served and advertised under its name', () => {
    const c = build('listeners=CLIENT://127.0.0.1:19092,CONTROLLER://:19093\ncontroller.listener.names=CONTROLLER\nlistener.security.protocol.map=CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT\nadvertised.listeners=CLIENT://broker.example:19092');
    expect(c.listener).toEqual({ name: 'CLIENT', host: '127.0.0.1', port: 19092 });
    expect(c.advertised).toEqual({ name: 'CLIENT', host: 'broker.example', port: 19092 });
    expect(c.inertKeys).toEqual(['controller.listener.names', 'listener.security.protocol.map']);
  });
});
