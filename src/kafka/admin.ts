/**
 * Admin requests on top of KafkaClient, shaped like Kafka's Admin API calls the tools use: create,
 * delete and grow topics; describe and alter configs. Wire-level only, so they work against Apache
 * Kafka and Redpanda as well as Brook. Each call adapts to the version the connection negotiated:
 *
 * - CreateTopics v0-3 cannot ask for the broker's default partition count or replication factor
 *   (-1 is accepted from v4, KIP-464): the caller must then give both.
 * - DeleteTopics names topics in `topicNames` up to v5 and in `topics[{name, topicId}]` from v6.
 * - DescribeConfigs v0 has `is_default` instead of `config_source`; the source is derived the way
 *   Kafka's admin client does (default, else the resource's own level).
 * - IncrementalAlterConfigs (Kafka 2.3+) is used when the broker serves it; otherwise AlterConfigs,
 *   which replaces the resource's whole dynamic config, so the current dynamic values are read first
 *   and sent back with the change (refused when a sensitive value, which is never returned, is set).
 *
 * Routing as Kafka's admin client does it: topic creation, deletion and growth go to the controller
 * (sent again with fresh metadata on NOT_CONTROLLER, within the client's timeout);
 * a BROKER config resource named by an id goes to that broker (only it knows its own dynamic
 * config); everything else goes to any broker.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { alterConfigsApi, createPartitionsApi, createTopicsApi, deleteTopicsApi, describeConfigsApi, incrementalAlterConfigsApi } from '../protocol/messages.js';
import type { BrokerConnection } from './connection.js';
import type { KafkaClient } from './client.js';
import { KafkaResponseError } from './errors.js';

/** Config resource types on the wire (Kafka's ConfigResource.Type ids). */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/**
 * config_source on the wire (DescribeConfigsResponse.ConfigSource) to the names Kafka's admin client
 * and tools print (ConfigEntry.ConfigSource): the wire's TOPIC_CONFIG prints as DYNAMIC_TOPIC_CONFIG.
 */
const SOURCE_NAMES: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
  7: 'DYNAMIC_CLIENT_METRICS_CONFIG',
  8: 'DYNAMIC_GROUP_CONFIG',
};

export function configSourceName(source: number): string {
  return SOURCE_NAMES[source] ?? 'UNKNOWN';
}

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: string;
}

export interface ConfigEntry {
  name: string;
  /** null for sensitive values (never returned) and unset ones. */
  value: string | null;
  /** One of the names in SOURCE_NAMES. */
  source: string;
  isDefault: boolean;
  isSensitive: boolean;
  readOnly: boolean;
  /** Highest precedence first; empty unless asked for (and always before DescribeConfigs v1). */
  synonyms: ConfigSynonym[];
}

export interface ConfigResourceRef {
  type: number;
  /** A topic name, a broker id, or "" for the cluster-wide broker default. */
  name: string;
}

/** The connection that may answer for `resource`: the broker itself for a broker id, else any. */
async function connectionFor(client: KafkaClient, resource: ConfigResourceRef): Promise<BrokerConnection> {
  if ((resource.type === ResourceType.BROKER || resource.type === ResourceType.BROKER_LOGGER) && /^\d+$/.test(resource.name)) {
    return client.broker(Number(resource.name));
  }
  return client.any();
}

function resourceLabel(r: ConfigResourceRef): string {
  if (r.type === ResourceType.TOPIC) return `topic ${r.name}`;
  if (r.type === ResourceType.BROKER) return r.name === '' ? 'the default broker config' : `broker ${r.name}`;
  return `resource ${r.name} (type ${r.type})`;
}

/**
 * The configs of each resource, in the broker's order. A resource the broker refused throws
 * KafkaResponseError naming it (e.g. `topic t: UNKNOWN_TOPIC_OR_PARTITION`). Resources that go to
 * different brokers are asked in parallel.
 */
export async function describeConfigs(client: KafkaClient, resources: ConfigResourceRef[], opts: { includeSynonyms?: boolean; keys?: string[] } = {}): Promise<Map<ConfigResourceRef, ConfigEntry[]>> {
  const byConn = new Map<BrokerConnection, ConfigResourceRef[]>();
  for (const r of resources) {
    const conn = await connectionFor(client, r);
    byConn.set(conn, [...(byConn.get(conn) ?? []), r]);
  }
  const out = new Map<ConfigResourceRef, ConfigEntry[]>();
  await Promise.all(
    [...byConn].map(async ([conn, refs]) => {
      const version = conn.version(describeConfigsApi.apiKey);
      const res = await conn.request(describeConfigsApi, {
        resources: refs.map((r) => ({ resourceType: r.type, resourceName: r.name, configurationKeys: opts.keys ?? null })),
        includeSynonyms: opts.includeSynonyms ?? false,
      });
      for (const ref of refs) {
        const result = res.results.find((x) => x.resourceType === ref.type && x.resourceName === ref.name);
        if (!result) throw new Error(`DescribeConfigs: the broker left ${resourceLabel(ref)} out of its answer`);
        if (result.errorCode !== 0) throw new KafkaResponseError(result.errorCode, resourceLabel(ref), result.errorMessage);
        out.set(
          ref,
          result.configs.map((c) => {
            // v0 has no config_source: Kafka's admin client calls a non-default value the resource's own level.
            const source = version === 0 ? (c.isDefault ? 5 : ref.type === ResourceType.TOPIC ? 1 : ref.type === ResourceType.BROKER ? 4 : 0) : c.configSource;
            return {
              name: c.name,
              value: c.value,
              source: configSourceName(source),
              isDefault: source === 5,
              isSensitive: c.isSensitive,
              readOnly: c.readOnly,
              synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: configSourceName(s.source) })),
            };
          }),
        );
      }
    }),
  );
  return out;
}

/** The source name of a resource's own dynamic level: the configs --alter can change or delete. */
export function dynamicSource(r: ConfigResourceRef): string {
  if (r.type === ResourceType.TOPIC) return 'DYNAMIC_TOPIC_CONFIG';
  if (r.type === ResourceType.BROKER) return r.name === '' ? 'DYNAMIC_DEFAULT_BROKER_CONFIG' : 'DYNAMIC_BROKER_CONFIG';
  return 'DYNAMIC_BROKER_LOGGER_CONFIG';
}

export type ConfigOp = { op: 'set'; name: string; value: string } | { op: 'delete'; name: string };

/** IncrementalAlterConfigs operation ids. */
const OP_IDS = { set: 0, delete: 1 } as const;

/**
 * Applies `ops` to one resource: IncrementalAlterConfigs when the broker has it, else AlterConfigs
 * with the current dynamic config merged (see the header). Throws KafkaResponseError when refused.
 */
export async function alterConfigs(client: KafkaClient, resource: ConfigResourceRef, ops: ConfigOp[]): Promise<void> {
  const conn = await connectionFor(client, resource);
  if (conn.version(incrementalAlterConfigsApi.apiKey) !== undefined) {
    const res = await conn.request(incrementalAlterConfigsApi, {
      resources: [
        {
          resourceType: resource.type,
          resourceName: resource.name,
          configs: ops.map((o) => ({ name: o.name, configOperation: OP_IDS[o.op], value: o.op === 'set' ? o.value : null })),
        },
      ],
      validateOnly: false,
    });
    const r = res.responses[0];
    if (r && r.errorCode !== 0) throw new KafkaResponseError(r.errorCode, resourceLabel(resource), r.errorMessage);
    return;
  }
  const current = (await describeConfigs(client, [resource])).get(resource) ?? [];
  const dynamic = current.filter((e) => e.source === dynamicSource(resource));
  const secret = dynamic.find((e) => e.isSensitive && !ops.some((o) => o.name === e.name));
  if (secret) {
    throw new Error(`the broker has no IncrementalAlterConfigs, and AlterConfigs would drop the sensitive config ${secret.name} of ${resourceLabel(resource)} (its value is never returned)`);
  }
  const values = new Map(dynamic.map((e) => [e.name, e.value]));
  for (const o of ops) {
    if (o.op === 'set') values.set(o.name, o.value);
    else values.delete(o.name);
  }
  const res = await conn.request(alterConfigsApi, {
    resources: [{ resourceType: resource.type, resourceName: resource.name, configs: [...values].map(([name, value]) => ({ name, value })) }],
    validateOnly: false,
  });
  const r = res.responses[0];
  if (r && r.errorCode !== 0) throw new KafkaResponseError(r.errorCode, resourceLabel(resource), r.errorMessage);
}

export interface NewTopic {
  name: string;
  /** -1: the broker's num.partitions (CreateTopics v4+). */
  numPartitions: number;
  /** -1: the broker's default.replication.factor (CreateTopics v4+). */
  replicationFactor: number;
  /** Explicit replica lists, one per partition; then numPartitions and replicationFactor must be -1. */
  assignments?: number[][];
  configs?: Map<string, string>;
}

export interface CreatedTopic {
  name: string;
  /** The zero UUID before CreateTopics v7. */
  topicId: string;
  errorCode: number;
  errorMessage: string | null;
}

/** Kafka's admin timeout for topic operations, sent as timeout_ms: how long the controller may wait. */
const ADMIN_TIMEOUT_MS = 30_000;
const CONTROLLER_BACKOFF_MS = 100;

/**
 * Sends a controller request, again (with fresh metadata) while some result says NOT_CONTROLLER:
 * the controller moved between our Metadata and the request, and nothing was applied. Bounded by
 * the client's timeout, as Kafka's admin client retries it.
 */
async function toController<R extends { errorCode: number }>(client: KafkaClient, send: (conn: BrokerConnection) => Promise<R[]>): Promise<R[]> {
  const deadline = Date.now() + client.timeoutMs;
  for (;;) {
    const results = await send(await client.controller());
    if (!results.some((r) => r.errorCode === ErrorCode.NOT_CONTROLLER) || Date.now() + CONTROLLER_BACKOFF_MS >= deadline) return results;
    await new Promise((resolve) => setTimeout(resolve, CONTROLLER_BACKOFF_MS));
  }
}

/**
 * Creates topics through the controller; returns each topic's result (errors are data here, since
 * callers treat TOPIC_ALREADY_EXISTS differently).
 */
export async function createTopics(client: KafkaClient, topics: NewTopic[], opts: { validateOnly?: boolean } = {}): Promise<CreatedTopic[]> {
  return toController(client, async (conn) => {
    const version = conn.version(createTopicsApi.apiKey);
    if (version === undefined) throw new Error(`the broker at ${conn.host}:${conn.port} does not support CreateTopics`);
    if (version < 4) {
      const t = topics.find((x) => !x.assignments && (x.numPartitions < 0 || x.replicationFactor < 0));
      if (t) throw new Error(`this broker (CreateTopics v${version}) cannot apply its default partition count or replication factor: give both for topic ${t.name}`);
    }
    const res = await conn.request(createTopicsApi, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
        configs: [...(t.configs ?? [])].map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: ADMIN_TIMEOUT_MS,
      validateOnly: opts.validateOnly ?? false,
    });
    return res.topics.map((t) => ({ name: t.name, topicId: t.topicId, errorCode: t.errorCode, errorMessage: t.errorMessage }));
  });
}

/** Deletes topics by name through the controller; returns each one's error code (0: deleted). */
export async function deleteTopics(client: KafkaClient, names: string[]): Promise<{ name: string; errorCode: number; errorMessage: string | null }[]> {
  return toController(client, async (conn) => {
    const version = conn.version(deleteTopicsApi.apiKey);
    if (version === undefined) throw new Error(`the broker at ${conn.host}:${conn.port} does not support DeleteTopics`);
    const res = await conn.request(deleteTopicsApi, {
      ...(version >= 6 ? { topics: names.map((name) => ({ name })) } : { topicNames: names }),
      timeoutMs: ADMIN_TIMEOUT_MS,
    });
    return res.responses.map((r, i) => ({ name: r.name ?? names[i] ?? '', errorCode: r.errorCode, errorMessage: r.errorMessage }));
  });
}

/**
 * Grows topics to `count` partitions in total (CreatePartitions). `assignments` lists replicas for
 * the new partitions only. Returns each topic's result.
 */
export async function createPartitions(client: KafkaClient, topics: { name: string; count: number; assignments?: number[][] }[]): Promise<{ name: string; errorCode: number; errorMessage: string | null }[]> {
  return toController(client, async (conn) => {
    const res = await conn.request(createPartitionsApi, {
      topics: topics.map((t) => ({ name: t.name, count: t.count, assignments: t.assignments ? t.assignments.map((brokerIds) => ({ brokerIds })) : null })),
      timeoutMs: ADMIN_TIMEOUT_MS,
      validateOnly: false,
    });
    return res.results.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage }));
  });
}
