/**
 * Golden bytes: the first requests real clients sent to a capture broker (see
 * test/fixtures/protocol/README.md). Each frame must decode completely, to the fields the client
 * is known to send, and re-encode to the very same bytes.
 */
import { describe, expect, it } from 'vitest';
import { codecFor } from '../../../src/protocol/compile.js';
import { decodeRequestHeader } from '../../../src/protocol/frames.js';
import { apiSchema } from '../../../src/protocol/messages.js';
import { Reader } from '../../../src/protocol/reader.js';
import { concatChunks, Writer } from '../../../src/protocol/writer.js';
import { loadGoldens } from '../../fixtures/protocol/goldens.js';

const goldens = loadGoldens();

function decodeFrame(frame: Buffer) {
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  const payload = frame.subarray(4);
  const { header, bodyOffset } = decodeRequestHeader(payload);
  const api = apiSchema(header.apiKey);
  if (api === undefined) throw new Error(`no schema for api key ${header.apiKey}`);
  const codec = codecFor(api.request, header.apiVersion);
  const r = new Reader(payload, bodyOffset);
  const body = codec.decode(r) as Record<string, unknown>;
  return { header, body, bodyBytes: payload.subarray(bodyOffset), consumed: r.offset - bodyOffset, codec };
}

describe('golden request frames from real clients', () => {
  it('exist for every client we capture from', () => {
    const clients = new Set(goldens.map((g) => g.client));
    for (const c of ['kcat', 'kcat-consume', 'kafka-python', 'confluent-kafka', 'kafkajs', 'platformatic']) {
      expect(clients, c).toContain(c);
    }
  });

  it.each(goldens.map((g) => [`${g.client}/${g.file}`, g] as const))(
    '%s decodes completely and re-encodes to the same bytes',
    (_name, { frame, file }) => {
      const { header, body, bodyBytes, consumed, codec } = decodeFrame(frame);
      const [, apiName, version] = /^\d+-(\w+)-v(\d+)\.hex$/.exec(file)!;
      expect(apiSchema(header.apiKey)!.name).toBe(apiName);
      expect(header.apiVersion).toBe(Number(version));
      expect(consumed).toBe(bodyBytes.length);
      const w = new Writer();
      codec.encode(w, body);
      expect(concatChunks(w.finish()).equals(bodyBytes)).toBe(true);
    },
  );
});

function golden(client: string, file: string) {
  const g = goldens.find((x) => x.client === client && x.file === file);
  if (g === undefined) throw new Error(`missing fixture ${client}/${file}`);
  return decodeFrame(g.frame);
}

describe('what each client sends', () => {
  it('kcat (librdkafka 2.0.2): ApiVersions v3 with its software name, Metadata v4, Produce v7 acks=-1', () => {
    const av = golden('kcat', '01-ApiVersions-v3.hex');
    expect(av.header).toMatchObject({ apiKey: 18, apiVersion: 3, clientId: 'brook-capture-kcat' });
    expect(av.body).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });

    const md = golden('kcat', '02-Metadata-v4.hex');
    expect(md.body).toMatchObject({ topics: [{ name: 'capture-topic' }], allowAutoTopicCreation: true });

    const produce = golden('kcat', '03-Produce-v7.hex');
    expect(produce.body).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 });
    const topicData = produce.body.topicData as Array<{ name: string; partitionData: Array<{ index: number; records: Buffer }> }>;
    expect(topicData[0]!.name).toBe('capture-topic');
    const records = topicData[0]!.partitionData[0]!.records;
    expect(records[16]).toBe(2); // RecordBatch magic byte: v2
    expect(records.readInt32BE(8)).toBe(records.length - 12); // batchLength
  });

  it('kcat consumer: Metadata without auto-creation, ListOffsets v2 earliest, Fetch v11 read_committed', () => {
    expect(golden('kcat-consume', '02-Metadata-v4.hex').body.allowAutoTopicCreation).toBe(false);
    const lo = golden('kcat-consume', '04-ListOffsets-v2.hex');
    expect(lo.body).toMatchObject({
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: 'capture-topic', partitions: [{ partitionIndex: 0, timestamp: -2n }] }],
    });
    const fetch = golden('kcat-consume', '05-Fetch-v11.hex');
    expect(fetch.body).toMatchObject({
      replicaId: -1,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      rackId: '',
      topics: [{ topic: 'capture-topic', partitions: [{ partition: 0, fetchOffset: 0n, logStartOffset: -1n }] }],
    });
  });

  it('confluent-kafka 1.7.0: librdkafka underneath, its own software name', () => {
    const av = golden('confluent-kafka', '01-ApiVersions-v3.hex');
    expect(av.body).toEqual({
      clientSoftwareName: 'confluent-kafka-python',
      clientSoftwareVersion: '1.7.0-rdkafka-2.0.2',
    });
    expect(golden('confluent-kafka', '03-Produce-v7.hex').body.acks).toBe(-1);
  });

  it('kafka-python 2.0.2: ApiVersions v0, the Metadata v0 probe ([] = all topics), Metadata v1 null, Produce v7 acks=1', () => {
    const av = golden('kafka-python', '01-ApiVersions-v0.hex');
    expect(av.header).toMatchObject({ apiVersion: 0, clientId: 'brook-capture-kafka-python' });
    expect(golden('kafka-python', '02-Metadata-v0.hex').body.topics).toEqual([]);
    expect(golden('kafka-python', '03-Metadata-v1.hex').body.topics).toBeNull();
    expect(golden('kafka-python', '04-Produce-v7.hex').body).toMatchObject({ acks: 1, transactionalId: null });
  });

  it('kafkajs 2.2.4: ApiVersions v2 with correlation id 0, Metadata v6, Produce v7', () => {
    const av = golden('kafkajs', '01-ApiVersions-v2.hex');
    expect(av.header).toMatchObject({ apiVersion: 2, correlationId: 0, clientId: 'brook-capture-kafkajs' });
    expect(golden('kafkajs', '02-Metadata-v6.hex').body).toMatchObject({
      topics: [{ name: 'capture-topic' }],
      allowAutoTopicCreation: true,
    });
    expect(golden('kafkajs', '03-Produce-v7.hex').body.acks).toBe(-1);
  });

  it('@platformatic/kafka 1.35: ApiVersions v3, Metadata v12 with topic ids, Produce v11 (flexible)', () => {
    expect(golden('platformatic', '01-ApiVersions-v3.hex').body).toEqual({
      clientSoftwareName: 'platformatic-kafka',
      clientSoftwareVersion: '1.35.0',
    });
    const md = golden('platformatic', '02-Metadata-v12.hex');
    expect(md.body).toMatchObject({
      topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 'capture-topic' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: true,
    });
    const produce = golden('platformatic', '03-Produce-v11.hex');
    expect(produce.body).toMatchObject({ acks: 1, transactionalId: null, timeoutMs: 5000 });
  });
});
