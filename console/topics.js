// Topics: the list with create and delete, and a topic's page (partitions, configs, a live tail
// over /ws/v1 with the client library the broker serves, and a produce form).
import { connect } from '../client/index.js';
import { announce, api, bytes, confirmDialog, every, fact, h, link, load, num, table, token, update, wsUrl } from './lib.js';

export function topicsPage(main) {
  const list = h('div', { id: 'topics-list' });
  const error = h('p', { class: 'error', role: 'alert' });
  const status = h('p', { class: 'status', role: 'status' });
  const form = createForm(status, () => refresh());
  main.append(h('h1', { tabindex: '-1' }, 'Topics'), error, status, list, form);

  async function refresh() {
    const data = await load('topics', error);
    if (data === undefined) return;
    update(
      list,
      table(
        'Topics on this broker',
        [{ label: 'Name' }, { label: 'Partitions', num: true }, { label: 'Records', num: true }, { label: 'Size', num: true }, { label: 'Segments', num: true }, { label: 'Actions' }],
        data.topics.map((t) => [
          link(t.name, 'topics', t.name),
          num(t.partitions),
          num(t.records),
          bytes(t.size),
          num(t.segments),
          t.internal ? h('span', { class: 'muted' }, 'internal') : h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete topic ${t.name}`, onclick: () => remove(t.name) }, 'Delete'),
        ]),
        { empty: 'No topics yet.' },
      ),
    );
  }

  async function remove(name) {
    const ok = await confirmDialog({ title: `Delete topic ${name}?`, message: `Every record of ${name} and the committed offsets of every group on it are deleted. This cannot be undone.`, confirm: 'Delete topic' });
    if (!ok) return;
    try {
      await api(`topics/${encodeURIComponent(name)}`, { method: 'DELETE' });
      announce(status, `Deleted topic ${name}.`);
    } catch (e) {
      announce(status, `Could not delete ${name}: ${e.message}`, 'error');
    }
    await refresh();
  }

  const stop = every(3000, refresh);
  return stop;
}

function createForm(status, done) {
  const name = h('input', { id: 'new-topic-name', name: 'name', required: true, pattern: '[a-zA-Z0-9._\\-]{1,249}', autocomplete: 'off', 'aria-describedby': 'new-topic-name-help' });
  const partitions = h('input', { id: 'new-topic-partitions', name: 'partitions', type: 'number', min: '1', max: '10000', placeholder: 'broker default' });
  const configs = h('textarea', { id: 'new-topic-configs', name: 'configs', rows: '3', placeholder: 'retention.ms=86400000\ncleanup.policy=compact', 'aria-describedby': 'new-topic-configs-help' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create a topic'),
    h('div', { class: 'field' }, h('label', { for: 'new-topic-name' }, 'Name'), name, h('small', { id: 'new-topic-name-help' }, "Letters, digits, '.', '_' and '-'.")),
    h('div', { class: 'field' }, h('label', { for: 'new-topic-partitions' }, 'Partitions'), partitions),
    h('div', { class: 'field' }, h('label', { for: 'new-topic-configs' }, 'Configs'), configs, h('small', { id: 'new-topic-configs-help' }, 'One name=value per line; optional.')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'create-topic' }, 'Create topic')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim() };
    if (partitions.value !== '') body.partitions = Number(partitions.value);
    const lines = configs.value.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length > 0) {
      body.configs = {};
      for (const l of lines) {
        const i = l.indexOf('=');
        if (i <= 0) {
          announce(status, `Config line "${l}" is not name=value.`, 'error');
          configs.focus();
          return;
        }
        body.configs[l.slice(0, i).trim()] = l.slice(i + 1).trim();
      }
    }
    try {
      const t = await api('topics', { method: 'POST', body });
      announce(status, `Created topic ${t.name} with ${t.partitions} partition(s).`);
      form.reset();
    } catch (err) {
      announce(status, `Could not create ${body.name}: ${err.message}`, 'error');
    }
    await done();
  });
  return form;
}

export function topicPage(main, name) {
  const error = h('p', { class: 'error', role: 'alert' });
  const summary = h('dl', { class: 'facts', id: 'topic-facts' });
  const parts = h('div', { id: 'partitions' });
  const configs = h('div', { id: 'topic-configs' });
  const tail = tailSection(name);
  const produce = produceForm(name, tail);
  main.append(
    h('p', { class: 'crumbs' }, link('Topics', 'topics')),
    h('h1', { tabindex: '-1' }, `Topic ${name}`),
    error,
    summary,
    h('section', { 'aria-labelledby': 'partitions-title' }, h('h2', { id: 'partitions-title' }, 'Partitions'), parts),
    tail.section,
    produce,
    h('section', { 'aria-labelledby': 'configs-title' }, h('h2', { id: 'configs-title' }, 'Configs'), configs),
  );

  let configsShown = false;
  const stop = every(2000, async () => {
    const t = await load(`topics/${encodeURIComponent(name)}`, error, `Topic ${name} does not exist (any more).`);
    if (t === undefined) return;
    update(summary, fact('Id', t.id), fact('Partitions', num(t.partitions)), fact('Records', num(t.records)), fact('Size', bytes(t.size)), fact('Segments', num(t.segments)));
    update(
      parts,
      table(
        `Partitions of ${name}`,
        [{ label: 'Partition' }, { label: 'Log start', num: true }, { label: 'Log end', num: true }, { label: 'Records', num: true }, { label: 'Size', num: true }, { label: 'Segments', num: true }],
        t.partitionDetails.map((p) => [String(p.partition), num(p.logStartOffset), num(p.logEndOffset), num(p.logEndOffset - p.logStartOffset), bytes(p.size), num(p.segments)]),
      ),
    );
    // Configs rarely change; shown once per visit so the table does not jump under the reader.
    if (!configsShown) {
      configsShown = true;
      update(
        configs,
        table(
          `Configs of ${name}`,
          [{ label: 'Name' }, { label: 'Value' }, { label: 'Source' }],
          t.configs.map((c) => [c.name, c.value ?? '–', c.source === 'TOPIC_CONFIG' ? h('strong', {}, 'topic override') : c.source.toLowerCase().replace(/_/g, ' ')]),
        ),
      );
    }
  });
  return () => {
    stop();
    tail.close();
  };
}

const TAIL_ROWS = 200;

/** Live tail: `live` mode from the end of the log, newest first, at most TAIL_ROWS rows. */
function tailSection(topic) {
  const body = h('tbody', { id: 'tail-rows' });
  const status = h('p', { class: 'status', role: 'status', id: 'tail-status' }, 'Connecting…');
  const pause = h('button', { type: 'button', id: 'tail-pause', 'aria-pressed': 'false' }, 'Pause');
  const clear = h('button', { type: 'button', id: 'tail-clear' }, 'Clear');
  const section = h(
    'section',
    { 'aria-labelledby': 'tail-title' },
    h('h2', { id: 'tail-title' }, 'Live tail'),
    h('div', { class: 'actions left' }, pause, clear),
    status,
    h(
      'div',
      // Focusable, so the keyboard can scroll it.
      { class: 'table-wrap tail', tabindex: '0', role: 'region', 'aria-label': `Live tail of ${topic}` },
      h(
        'table',
        {},
        h('caption', {}, `Records arriving on ${topic}, newest first`),
        h('thead', {}, h('tr', {}, ['Partition', 'Offset', 'Time (UTC)', 'Key', 'Value'].map((c, i) => h('th', { scope: 'col', class: i < 2 ? 'num' : undefined }, c)))),
        body,
      ),
    ),
  );
  let paused = false;
  let held = []; // records that arrived while paused (the newest TAIL_ROWS)
  let shown = 0;
  const client = connect(wsUrl(), { token: token(), protocol: 'bin' });
  const sub = client.subscribe({ topic, mode: 'live', from: 'latest' });
  const decoder = new TextDecoder();
  const text = (bytesOrNull) => (bytesOrNull === null ? '∅' : decoder.decode(bytesOrNull));
  const row = (r) =>
    h(
      'tr',
      { 'data-offset': r.offset, 'data-partition': r.partition },
      h('td', { class: 'num' }, String(r.partition)),
      h('td', { class: 'num' }, String(r.offset)),
      h('td', {}, new Date(r.timestamp).toISOString().replace('T', ' ').replace('Z', '')),
      h('td', { class: 'mono' }, text(r.key)),
      h('td', { class: 'mono value' }, r.deleted ? h('em', {}, 'tombstone') : text(r.value)),
    );
  const render = (records) => {
    // A fast topic can deliver thousands per frame: only the rows that stay on the page are built.
    const rows = (records.length > TAIL_ROWS ? records.slice(-TAIL_ROWS) : records).map(row).reverse();
    body.prepend(...rows);
    while (body.rows.length > TAIL_ROWS) body.lastElementChild.remove();
    shown += records.length;
    status.textContent = `${shown} record(s) received.`;
  };
  sub.on('records', (records) => {
    if (paused) {
      held.push(...records);
      if (held.length > TAIL_ROWS) held = held.slice(-TAIL_ROWS);
      status.textContent = `Paused: ${held.length} new record(s) held.`;
    } else render(records);
  });
  sub.on('gap', (g) => {
    status.textContent = `Skipped offsets ${g.from}–${g.to - 1} of partition ${g.partition} (${g.reason}).`;
  });
  client.on('open', () => {
    status.textContent = paused ? 'Paused.' : `Live: waiting for records on ${topic}.`;
  });
  client.on('close', (e) => {
    status.textContent = `Disconnected (${e.code}${e.reason ? ` ${e.reason}` : ''}); reconnecting…`;
  });
  client.on('error', (e) => {
    status.textContent = `Live tail: ${e.message}`;
  });
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (!paused) {
      const h2 = held;
      held = [];
      if (h2.length > 0) render(h2);
      else status.textContent = `Live: waiting for records on ${topic}.`;
    } else status.textContent = 'Paused.';
  });
  clear.addEventListener('click', () => {
    body.replaceChildren();
    held = [];
  });
  return { section, close: () => client.close(), client };
}

function produceForm(topic, tail) {
  const key = h('input', { id: 'produce-key', name: 'key', autocomplete: 'off' });
  const value = h('textarea', { id: 'produce-value', name: 'value', rows: '2', required: true });
  const partition = h('input', { id: 'produce-partition', name: 'partition', type: 'number', min: '0', placeholder: 'by key' });
  const status = h('p', { class: 'status', role: 'status', id: 'produce-status' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'produce-title' },
    h('h2', { id: 'produce-title' }, 'Produce a record'),
    h('div', { class: 'field' }, h('label', { for: 'produce-key' }, 'Key (optional)'), key),
    h('div', { class: 'field' }, h('label', { for: 'produce-value' }, 'Value'), value),
    h('div', { class: 'field' }, h('label', { for: 'produce-partition' }, 'Partition (optional)'), partition),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'produce-submit' }, 'Produce')),
    status,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const opts = {};
    if (key.value !== '') opts.key = key.value;
    if (partition.value !== '') opts.partition = Number(partition.value);
    try {
      const r = await tail.client.publish(topic, value.value, opts);
      announce(status, `Written to partition ${r.partition} at offset ${r.offset}.`);
      value.value = '';
    } catch (err) {
      announce(status, `Not written: ${err.message}`, 'error');
    }
  });
  return form;
}
