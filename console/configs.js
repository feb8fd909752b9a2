// Broker configs: every setting with its value and where it comes from (as DescribeConfigs shows
// it), with a filter. Read once per visit: they change only through AlterConfigs.
import { api, fill, h, table } from './lib.js';

export function configsPage(main) {
  const error = h('p', { class: 'error', role: 'alert' });
  const filter = h('input', { id: 'config-filter', type: 'search', autocomplete: 'off', placeholder: 'log.retention' });
  const list = h('div', { id: 'configs-list' });
  main.append(
    h('h1', { tabindex: '-1' }, 'Broker configs'),
    error,
    h('div', { class: 'field inline' }, h('label', { for: 'config-filter' }, 'Filter by name'), filter),
    list,
  );
  let configs = [];
  let nodeId;
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    fill(
      list,
      table(
        `Settings of broker ${nodeId ?? ''}`,
        [{ label: 'Name' }, { label: 'Value' }, { label: 'Source' }, { label: 'Changeable' }],
        configs.filter((c) => c.name.includes(q)).map((c) => [c.name, h('span', { class: 'mono' }, c.value ?? '–'), c.source.toLowerCase().replace(/_/g, ' '), c.readOnly ? 'read-only' : 'dynamic']),
        { empty: 'No setting matches.' },
      ),
    );
  };
  filter.addEventListener('input', render);
  let live = true;
  api('configs/broker')
    .then((d) => {
      if (!live) return;
      configs = d.configs;
      nodeId = d.nodeId;
      render();
    })
    .catch((e) => {
      error.textContent = e.message;
    });
  return () => {
    live = false;
  };
}
