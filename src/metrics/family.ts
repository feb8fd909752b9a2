/**
 * A metric family whose samples are computed at scrape time from state the broker already keeps
 * (BrokerStats counters, partition logs, groups). prom-client's Counter/Gauge/Histogram hold their
 * own copies of values, filled by inc()/set()/observe(); here the values already exist elsewhere,
 * so copying them into prom-client objects on every scrape (reset, then one set per series) would
 * be work for nothing, and prom-client has no way to publish a summary's quantiles computed
 * elsewhere (Kafka's TotalTimeMs percentiles). A Family hands the registry its samples directly:
 * the registry still does the text format (HELP, TYPE, label escaping) and serves prom-client's
 * default process metrics beside them.
 *
 * The registry duck-types metrics (name, help, type, get(), reset()); prom-client's typings name
 * only its own classes, hence the one cast in register().
 */
import type { Metric, Registry } from 'prom-client';

export type FamilyType = 'counter' | 'gauge' | 'summary' | 'histogram';

export type Labels = Record<string, string | number>;

export interface Sample {
  value: number;
  labels?: Labels;
  /** For summaries and histograms: the series name (`<name>_count`, `<name>_bucket`...); default the family's name. */
  metricName?: string;
}

export class Family {
  /** How prom-client's cluster mode would merge workers; unused here, required by the registry. */
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: FamilyType,
    private readonly collect: () => Sample[],
  ) {}

  get(): Promise<{ name: string; help: string; type: FamilyType; aggregator: string; values: Sample[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.collect() });
  }

  /** registry.resetMetrics(): the values belong to the broker, not to this family. */
  reset(): void {}

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}
