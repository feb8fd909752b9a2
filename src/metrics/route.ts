/**
 * GET /metrics on the gateway's HTTP listener (GatewayOptions.routes): the broker's registry in
 * Prometheus text format 0.0.4. With metrics.enabled=false nothing is registered and the gateway's
 * catch-all answers 404.
 */
import type { Broker } from '../broker/broker.js';
import type { HttpRoutes } from '../ws/gateway.js';
import { createBrokerRegistry } from './collectors.js';

export const METRICS_PATH = '/metrics';

/** The /metrics route of `broker`; its registry is built when the gateway registers routes. */
export function metricsRoute(broker: Broker): HttpRoutes {
  return (app, guard, gateway) => {
    if (!broker.config.metricsEnabled) return;
    // Built now, not at the first scrape: prom-client's event-loop delay monitor then has samples by
    // the first scrape (with none it reports a mean of NaN, which prom-client spells "Nan").
    const registry = createBrokerRegistry({ broker, gateway: () => gateway.stats });
    app.get(
      METRICS_PATH,
      guard.http('metrics', async (r) => {
        // registry.metrics() is async (prom-client's default collectors may await): the answer is
        // written after the callback returned, which GuardedResponse.end corks (or skips if aborted).
        const text = await registry.metrics();
        r.end('200 OK', text, { 'content-type': registry.contentType });
      }),
    );
  };
}
