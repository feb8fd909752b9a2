// Consumer groups: the list, and a group's page with its members (Kafka clients and WebSocket
// subscriptions alike), committed offsets and lag per partition (table and live chart), and the
// offset reset, which the broker refuses while the group has members.
import { liveChart } from './charts.js';
import { announce, api, confirmDialog, every, fact, h, link, load, num, table, update } from './lib.js';

export function groupsPage(main) {
  const list = h('div', { id: 'groups-list' });
  const error = h('p', { class: 'error', role: 'alert' });
  main.append(h('h1', { tabindex: '-1' }, 'Consumer groups'), error, list);
  return every(2000, async () => {
    const data = await load('groups', error);
    if (data === undefined) return;
    update(
      list,
      table(
        'Consumer groups',
        [{ label: 'Group' }, { label: 'State' }, { label: 'Protocol type' }, { label: 'Protocol' }, { label: 'Members', num: true }, { label: 'Partitions', num: true }, { label: 'Lag', num: true }],
        data.groups.map((g) => [link(g.groupId, 'groups', g.groupId), g.state, g.protocolType || '–', g.protocol || '–', num(g.members), num(g.partitions), num(g.lag)]),
        { empty: 'No consumer groups yet.' },
      ),
    );
  });
}

export function groupPage(main, groupId) {
  const error = h('p', { class: 'error', role: 'alert' });
  const facts = h('dl', { class: 'facts', id: 'group-facts' });
  const members = h('div', { id: 'group-members' });
  const offsets = h('div', { id: 'group-offsets' });
  const lagSection = h('section', { 'aria-labelledby': 'lag-title' }, h('h2', { id: 'lag-title' }, 'Lag'));
  const reset = resetForm(groupId);
  main.append(
    h('p', { class: 'crumbs' }, link('Consumer groups', 'groups')),
    h('h1', { tabindex: '-1' }, `Group ${groupId}`),
    error,
    facts,
    h('section', { 'aria-labelledby': 'members-title' }, h('h2', { id: 'members-title' }, 'Members'), members),
    h('section', { 'aria-labelledby': 'offsets-title' }, h('h2', { id: 'offsets-title' }, 'Offsets'), offsets),
    lagSection,
    reset.form,
  );
  const chart = liveChart(lagSection, { label: 'Lag per partition (records behind the log end)', format: (v) => (v < 10 ? String(Math.round(v * 10) / 10) : num(Math.round(v))), id: 'chart-lag' });

  const stop = every(1000, async () => {
    const g = await load(`groups/${encodeURIComponent(groupId)}`, error, `Group ${groupId} does not exist (any more).`);
    if (g === undefined) return;
    update(facts, fact('State', g.state), fact('Protocol type', g.protocolType || '–'), fact('Protocol', g.protocol || '–'), fact('Members', num(g.members.length)), fact('Total lag', num(g.totalLag)));
    update(
      members,
      table(
        `Members of ${groupId}`,
        [{ label: 'Member id' }, { label: 'Kind' }, { label: 'Client id' }, { label: 'Host' }, { label: 'Instance id' }, { label: 'Assigned partitions' }],
        g.members.map((m) => [
          h('span', { class: 'mono' }, m.memberId),
          m.kind === 'websocket' ? 'WebSocket' : 'Kafka client',
          m.clientId,
          m.clientHost,
          m.groupInstanceId ?? '–',
          m.assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(', ') || '–',
        ]),
        { empty: 'No members: the group is empty, its offsets can be reset.' },
      ),
    );
    update(
      offsets,
      table(
        `Committed offsets and lag of ${groupId}`,
        [{ label: 'Topic' }, { label: 'Partition', num: true }, { label: 'Committed', num: true }, { label: 'Log end', num: true }, { label: 'Lag', num: true }, { label: 'Member' }],
        g.offsets.map((o) => [link(o.topic, 'topics', o.topic), String(o.partition), num(o.committed), num(o.logEndOffset), num(o.lag), o.memberId ? h('span', { class: 'mono' }, o.memberId) : '–']),
        { empty: 'No committed offsets.' },
      ),
    );
    const lags = {};
    for (const o of g.offsets) if (o.lag !== null) lags[`${o.topic}-${o.partition}`] = o.lag;
    chart.push(g.now, lags);
    reset.topics(g.offsets.map((o) => o.topic));
  });
  return () => {
    stop();
    chart.destroy();
  };
}

function resetForm(groupId) {
  const topic = h('input', { id: 'reset-topic', name: 'topic', required: true, list: 'reset-topics', autocomplete: 'off' });
  const topicList = h('datalist', { id: 'reset-topics' });
  const to = h(
    'select',
    { id: 'reset-to', name: 'to' },
    h('option', { value: 'earliest' }, 'Earliest (log start)'),
    h('option', { value: 'latest' }, 'Latest (log end)'),
    h('option', { value: 'offset' }, 'A given offset'),
    h('option', { value: 'timestamp' }, 'A point in time'),
  );
  const offset = h('input', { id: 'reset-offset', name: 'offset', type: 'number', min: '0' });
  const time = h('input', { id: 'reset-time', name: 'time', type: 'datetime-local', step: '1' });
  const partitions = h('input', { id: 'reset-partitions', name: 'partitions', placeholder: 'all', 'aria-describedby': 'reset-partitions-help', autocomplete: 'off' });
  const offsetField = h('div', { class: 'field', hidden: true }, h('label', { for: 'reset-offset' }, 'Offset'), offset);
  const timeField = h('div', { class: 'field', hidden: true }, h('label', { for: 'reset-time' }, 'Time (local)'), time);
  const status = h('p', { class: 'status', role: 'status', id: 'reset-status' });
  to.addEventListener('change', () => {
    offsetField.hidden = to.value !== 'offset';
    timeField.hidden = to.value !== 'timestamp';
  });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'reset-title' },
    h('h2', { id: 'reset-title' }, 'Reset offsets'),
    h('p', { class: 'muted' }, 'Only while the group has no members: stop its consumers first, as with kafka-consumer-groups --reset-offsets.'),
    h('div', { class: 'field' }, h('label', { for: 'reset-topic' }, 'Topic'), topic, topicList),
    h('div', { class: 'field' }, h('label', { for: 'reset-partitions' }, 'Partitions'), partitions, h('small', { id: 'reset-partitions-help' }, 'Comma-separated numbers; empty for every partition.')),
    h('div', { class: 'field' }, h('label', { for: 'reset-to' }, 'Reset to'), to),
    offsetField,
    timeField,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger', id: 'reset-submit' }, 'Reset offsets')),
    status,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { topic: topic.value.trim() };
    if (to.value === 'offset') body.to = { offset: Number(offset.value) };
    else if (to.value === 'timestamp') body.to = { timestamp: new Date(time.value).getTime() };
    else body.to = to.value;
    if (partitions.value.trim() !== '') body.partitions = partitions.value.split(',').map((p) => Number(p.trim()));
    const where = body.partitions ? `partition(s) ${body.partitions.join(', ')} of ${body.topic}` : `every partition of ${body.topic}`;
    const ok = await confirmDialog({ title: `Reset offsets of ${groupId}?`, message: `The committed offsets of ${where} are moved; the group's consumers will start from there.`, confirm: 'Reset offsets' });
    if (!ok) return;
    try {
      const r = await api(`groups/${encodeURIComponent(groupId)}/offsets`, { method: 'POST', body });
      announce(status, `Reset: ${r.offsets.map((o) => `${r.topic}-${o.partition} → ${o.offset}`).join(', ')}.`);
    } catch (err) {
      announce(status, `Not reset: ${err.message}`, 'error');
    }
  });
  let known = '';
  return {
    form,
    topics(names) {
      const unique = [...new Set(names)].sort();
      if (unique.join('\u0000') === known) return;
      known = unique.join('\u0000');
      update(topicList, unique.map((n) => h('option', { value: n })));
      if (topic.value === '' && unique.length === 1) topic.value = unique[0];
    },
  };
}
