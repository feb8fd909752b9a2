// Overview: the broker, its counts, and bytes in/out per second from the cumulative counters
// (api/v1/overview, polled every second; the rate is the difference between two polls).
import { liveChart } from './charts.js';
import { bytes, duration, every, fact, h, load, num, update } from './lib.js';

export function overviewPage(main) {
  const facts = h('dl', { class: 'facts', id: 'overview-facts' });
  const error = h('p', { class: 'error', role: 'alert' });
  const charts = h('section', { class: 'charts', 'aria-labelledby': 'traffic-title' }, h('h2', { id: 'traffic-title' }, 'Traffic'));
  main.append(h('h1', { tabindex: '-1' }, 'Overview'), error, facts, charts);
  const bytesChart = liveChart(charts, { label: 'Bytes per second, in (produced) and out (fetched)', format: (v) => `${bytes(v)}/s`, id: 'chart-bytes' });
  const messagesChart = liveChart(charts, { label: 'Messages in per second', format: (v) => (v < 10 ? String(Math.round(v * 10) / 10) : num(Math.round(v))), id: 'chart-messages' });

  let last;
  const stop = every(1000, async () => {
    const o = await load('overview', error);
    if (o === undefined) return;
    const b = o.brokers[0];
    update(
      facts,
      fact('Cluster id', o.clusterId),
      fact('Version', `Brook ${o.version}`),
      fact('Uptime', duration(o.uptimeMs)),
      fact('Brokers', o.brokers.map((x) => `${x.nodeId} at ${x.host}:${x.port}`).join(', ') || (b ? '' : 'none')),
      fact('Topics', num(o.topics)),
      fact('Partitions', num(o.partitions)),
      fact('Consumer groups', num(o.groups)),
      fact('WebSocket connections', num(o.ws.connections)),
      fact('Bytes in (total)', bytes(o.totals.bytesIn)),
      fact('Bytes out (total)', bytes(o.totals.bytesOut)),
    );
    if (last && o.now > last.now) {
      const dt = (o.now - last.now) / 1000;
      // A restarted broker's counters start again at 0: no negative rates.
      const rate = (a, z) => Math.max(0, z - a) / dt;
      bytesChart.push(o.now, { in: rate(last.totals.bytesIn, o.totals.bytesIn), out: rate(last.totals.bytesOut, o.totals.bytesOut) });
      messagesChart.push(o.now, { in: rate(last.totals.messagesIn, o.totals.messagesIn) });
    }
    last = o;
  });
  return () => {
    stop();
    bytesChart.destroy();
    messagesChart.destroy();
  };
}
