/**
 * The ACL APIs answer SECURITY_DISABLED, as a Kafka broker without an authorizer does, and
 * DescribeLogDirs reports the data directory with each partition's bytes and the file system's
 * space, through kafkajs (DescribeAcls/CreateAcls/DeleteAcls v1), @platformatic/kafka (v3, and
 * DescribeLogDirs v4), kafka-python (DescribeAcls) and raw frames (DescribeLogDirs v0 and v3).
 */
import { readdirSync, statfsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Admin as PltAdmin, AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka';
import { AclOperationTypes, AclPermissionTypes as JsPermission, AclResourceTypes, ResourcePatternTypes as JsPattern } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLogDirsApi } from '../../src/protocol/schemas/describe-log-dirs.js';
import { expectOk, hasKafkaPython, python, requireInstalled, startWithKafkajs, type KafkajsBroker } from './harness.js';

requireInstalled(hasKafkaPython, 'kafka-python (python3-kafka)');
import { RawClient } from './raw-client.js';

let clients: KafkajsBroker;
let plt: PltAdmin;

beforeAll(async () => {
  clients = await startWithKafkajs({}, { clientId: 'acls-log-dirs', retry: { retries: 0 } });
  plt = new PltAdmin({ clientId: 'acls-log-dirs-plt', bootstrapBrokers: [clients.tb.bootstrap], retries: 0 });
  await clients.admin.createTopics({ topics: [{ topic: 'sized', numPartitions: 2 }] });
  await clients.producer.send({ topic: 'sized', messages: Array.from({ length: 50 }, (_, i) => ({ partition: 0, value: `record ${i} `.repeat(20) })) });
});

afterAll(async () => {
  await plt?.close();
  await clients?.close();
});

/** The bytes of partition `p`'s segment files, as DescribeLogDirs should report them. */
function segmentBytes(topic: string, p: number): number {
  const dir = join(clients.tb.dataDir, `${topic}-${p}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

interface PltError {
  code?: string;
  apiId?: string;
  serverErrorMessage?: string | null;
  errors?: PltError[];
}

async function rejection(p: Promise<unknown>): Promise<{ type?: string; code?: string; errors?: unknown[] } & Record<string, unknown>> {
  return (await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  )) as { type?: string } & Record<string, unknown>;
}

describe('ACL APIs without an authorizer', () => {
  const acl = { resourceType: AclResourceTypes.TOPIC, resourceName: 'sized', resourcePatternType: JsPattern.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.READ, permissionType: JsPermission.ALLOW };

  it('kafkajs: describe, create and delete all answer SECURITY_DISABLED', async () => {
    const { admin } = clients;
    expect((await rejection(admin.describeAcls({ ...acl, resourceType: AclResourceTypes.ANY, operation: AclOperationTypes.ANY, permissionType: JsPermission.ANY, resourcePatternType: JsPattern.ANY }))).type).toBe('SECURITY_DISABLED');
    expect((await rejection(admin.createAcls({ acl: [acl] }))).type).toBe('SECURITY_DISABLED');
    expect((await rejection(admin.deleteAcls({ filters: [acl] }))).type).toBe('SECURITY_DISABLED');
  });

  it('@platformatic/kafka (flexible v3): describeAcls fails with SECURITY_DISABLED and the broker message', async () => {
    const filter = { resourceType: ResourceTypes.ANY, resourceName: null, resourcePatternType: ResourcePatternTypes.ANY, principal: null, host: null, operation: AclOperations.ANY, permissionType: AclPermissionTypes.ANY };
    const e = (await rejection(plt.describeAcls({ filter }))) as PltError;
    const found: [string, string | null][] = [];
    const walk = (x: PltError) => {
      if (x.code === 'PLT_KFK_PROTOCOL') found.push([x.apiId!, x.serverErrorMessage ?? null]);
      for (const c of x.errors ?? []) walk(c);
    };
    walk(e);
    expect(found).toEqual([['SECURITY_DISABLED', 'No Authorizer is configured on the broker']]);
  });
});

describe('DescribeLogDirs', () => {
  it('@platformatic/kafka (v4): the data directory, each partition asked for with its bytes, and the disk space', async () => {
    const [broker] = await plt.describeLogDirs({ topics: [{ name: 'sized', partitions: [0, 1, 7] }, { name: 'no-such-topic', partitions: [0] }] });
    expect(broker.results).toHaveLength(1);
    const [dir] = broker.results;
    expect(dir.logDir).toBe(resolve(clients.tb.dataDir));
    expect(dir.topics).toEqual([
      {
        name: 'sized',
        partitions: [
          { partitionIndex: 0, partitionSize: BigInt(segmentBytes('sized', 0)), offsetLag: 0n, isFutureKey: false },
          { partitionIndex: 1, partitionSize: 0n, offsetLag: 0n, isFutureKey: false },
        ],
      },
    ]);
    expect(segmentBytes('sized', 0)).toBeGreaterThan(5000);
    const fs = statfsSync(clients.tb.dataDir);
    expect(dir.totalBytes).toBe(BigInt(fs.blocks) * BigInt(fs.bsize));
    expect(dir.usableBytes > 0n && dir.usableBytes <= dir.totalBytes).toBe(true);
  });

  it('over raw frames (v0 and v3, every partition): __consumer_offsets included, a top-level error code from v3', async () => {
    const c = await RawClient.connect(clients.tb.broker.port);
    try {
      for (const version of [0, 3]) {
        const r = await c.request(describeLogDirsApi, version, { topics: null });
        expect(r.errorCode ?? 0).toBe(0);
        expect(r.results).toHaveLength(1);
        const [dir] = r.results;
        expect(dir).toMatchObject({ errorCode: 0, logDir: resolve(clients.tb.dataDir) });
        const byName = new Map(dir.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, Number(p.partitionSize)])]));
        expect(byName.get('sized')).toEqual([
          [0, segmentBytes('sized', 0)],
          [1, 0],
        ]);
        expect(byName.get('__consumer_offsets')).toHaveLength(clients.tb.broker.broker.config.offsetsTopicNumPartitions);
      }
    } finally {
      c.close();
    }
  });
});

describe('kafka-python', () => {
  it('describe_acls (DescribeAcls v0/v1) raises SecurityDisabledError', async () => {
    const script = `
import sys
from kafka import KafkaAdminClient
from kafka.admin import ACLFilter, ResourcePatternFilter, ResourceType, ACLOperation, ACLPermissionType, ACLResourcePatternType
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
try:
    a.describe_acls(ACLFilter(principal=None, host='*', operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                              resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
    print('no error')
except Exception as e:
    print(type(e).__name__)
`;
    expect(expectOk(await python(script, [clients.tb.bootstrap]), 'kafka-python').stdout.trim()).toBe('SecurityDisabledError');
  });
});
