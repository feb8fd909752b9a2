/**
 * Out of file descriptors (RLIMIT_NOFILE on the broker process, so opening a partition's files
 * fails with EMFILE): CreateTopics and CreatePartitions answer KAFKA_STORAGE_ERROR and change
 * nothing (no topic, no extra partition, no stray directory, the same after a restart), and the
 * broker goes on serving; a start that cannot open every log exits naming the limit to raise.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkajs, run, spawnBroker, withAdmin, withProducer, type BrokerProcess } from './harness.js';

const dataDir = mkdtempSync(join(tmpdir(), 'brook-fds-'));
let broker: BrokerProcess | undefined;
afterAll(async () => {
  broker?.kill('SIGKILL');
  await broker?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

const dirsOf = (topic: string) => readdirSync(dataDir).filter((d) => d.startsWith(`${topic}-`));

describe('out of file descriptors', () => {
  it('refuses topics and partitions it cannot open, all or nothing, and keeps serving', async () => {
    broker = await spawnBroker(dataDir, undefined, ['--set', 'offsets.topic.num.partitions=1'], { openFilesLimit: 400 });
    const kafka = kafkajs(broker.bootstrap, { clientId: 'fds', retry: { retries: 0 } });
    await withAdmin(kafka, async (admin) => {
      expect(await admin.createTopics({ topics: [{ topic: 'small', numPartitions: 2 }] })).toBe(true);
      // Three files per partition: 300 partitions need 900 descriptors.
      const wide = (await admin.createTopics({ topics: [{ topic: 'wide', numPartitions: 300 }] }).catch((e: unknown) => e)) as { errors?: { type: string }[] };
      expect(wide.errors?.map((e) => e.type)).toEqual(['KAFKA_STORAGE_ERROR']);
      const grown = (await admin.createPartitions({ topicPartitions: [{ topic: 'small', count: 300 }] }).catch((e: unknown) => e)) as { type?: string };
      expect(grown.type).toBe('KAFKA_STORAGE_ERROR');
      const meta = await admin.fetchTopicMetadata({ topics: ['small'] });
      expect(meta.topics[0].partitions).toHaveLength(2);
      expect(await admin.listTopics()).not.toContain('wide');
    });
    expect(dirsOf('wide')).toEqual([]);
    expect(dirsOf('small').sort()).toEqual(['small-0', 'small-1']);
    await withProducer(kafka, async (p) => expect((await p.send({ topic: 'small', messages: [{ partition: 1, value: 'still here' }] }))[0].errorCode).toBe(0));
    expect(broker.stderr()).toMatch(/Too many open files/);

    broker.kill('SIGTERM');
    expect((await broker.exited).code).toBe(0);
    broker = await spawnBroker(dataDir, undefined, ['--set', 'offsets.topic.num.partitions=1']);
    await withAdmin(kafkajs(broker.bootstrap, { clientId: 'fds-2' }), async (admin) => {
      expect((await admin.fetchTopicMetadata({ topics: ['small'] })).topics[0].partitions).toHaveLength(2);
      expect(await admin.listTopics()).not.toContain('wide');
      expect((await admin.fetchTopicOffsets('small')).find((o) => o.partition === 1)!.high).toBe('1');
      expect(await admin.createTopics({ topics: [{ topic: 'many', numPartitions: 200 }] })).toBe(true);
    });
    broker.kill('SIGTERM');
    expect((await broker.exited).code).toBe(0);

    // A start that cannot open every log says so, and how to fix it; the data stays as it was.
    const entry = `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
    const start = await run('prlimit', ['--nofile=300', '--', process.execPath, '--import', 'tsx', '-e', entry, '--', 'start', '--port', '0', '--data-dir', dataDir], {
      cwd: join(import.meta.dirname, '..', '..'),
    });
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/Too many open files \(each partition keeps 3 files open: raise the limit/);
    broker = await spawnBroker(dataDir, undefined, ['--set', 'offsets.topic.num.partitions=1']);
    await withAdmin(kafkajs(broker.bootstrap, { clientId: 'fds-3' }), async (admin) => {
      expect((await admin.fetchTopicMetadata({ topics: ['many'] })).topics[0].partitions).toHaveLength(200);
    });
  }, 90_000);
});
