// Summary: the cluster at a glance (admin), or the client's own files at a glance.
import { h, fill, bytes, count, percent, bar, badge } from '../format.js';
import { item } from './events.js';

let root;

export function mount(section) {
  root = section;
}

function stat(id, label, value, sub, level, wide) {
  return h('div', { class: `card stat${wide ? ' wide' : ''}`, id, 'data-level': level },
    h('span', { class: 'label' }, label),
    h('span', { class: 'value' }, value),
    sub && h('span', { class: 'sub' }, sub));
}

function capacity(nodes) {
  let used = 0;
  let free = 0;
  for (const n of nodes) {
    if (n.status === 'UP' && (n.roles || []).includes('storage')) {
      used += n.diskUsed || 0;
      free += n.diskFree || 0;
    }
  }
  return { used, free };
}

function adminCards(ctx) {
  const { stats, nodes } = ctx.store;
  const all = nodes || [];
  const live = all.filter((n) => n.status === 'UP').length;
  const dead = all.length - live;
  const storage = all.filter((n) => (n.roles || []).includes('storage'));
  const liveStorage = storage.filter((n) => n.status === 'UP').length;
  const cap = capacity(all);
  const pct = percent(cap.used, cap.used + cap.free);
  const s = stats || {};
  return [
    stat('card-nodes', 'Nodes', nodes ? `${live} up` : '—',
      nodes ? `${dead} down · ${liveStorage} of ${storage.length} storage live` : '', dead > 0 ? 'warn' : nodes ? 'ok' : undefined),
    stat('card-leader', 'Leading coordinator', s.leader || '—', s.lamport !== undefined ? `Lamport clock ${count(s.lamport)}` : ''),
    h('div', { class: 'card stat wide', id: 'card-capacity' },
      h('span', { class: 'label' }, 'Capacity'),
      h('span', { class: 'value' }, `${bytes(cap.used)} used`),
      bar(pct, undefined, 'bar-lg'),
      h('span', { class: 'sub' }, `${bytes(cap.free)} free on live storage nodes · ${pct.toFixed(1)}% used`)),
    stat('card-files', 'Files', count(s.files), `${count(s.clients)} client${s.clients === 1 ? '' : 's'}`),
    stat('card-bytes', 'Bytes stored', bytes(s.bytes), 'one copy of each file'),
    stat('card-under', 'Under-replicated', count(s.underReplicated), 'fewer live copies than wanted',
      s.underReplicated > 0 ? 'warn' : stats ? 'ok' : undefined),
    stat('card-lost', 'Lost', count(s.lost), 'no live copy at all', s.lost > 0 ? 'bad' : stats ? 'ok' : undefined),
  ];
}

function clientCards(ctx) {
  const { mine, health } = ctx.store;
  const m = mine || {};
  const approx = mine && !mine.exact ? ` (first ${count(5000)} files)` : '';
  return [
    stat('card-files', 'Your files', count(m.files), health ? `${count(m.healthy)} healthy${approx}` : ''),
    stat('card-bytes', 'Your bytes', bytes(m.bytes), `stored with replicas${approx}`),
    stat('card-under', 'Under-replicated', count(m.underReplicated), 'fewer live copies than wanted',
      m.underReplicated > 0 ? 'warn' : mine ? 'ok' : undefined),
    stat('card-lost', 'Lost', count(m.lost), 'no live copy at all', m.lost > 0 ? 'bad' : mine ? 'ok' : undefined),
    stat('card-nodes', 'Live storage nodes', health ? count(health.liveStorageNodes) : '—',
      health ? `cluster ${health.status === 'UP' ? 'accepting deposits' : 'unavailable'}` : '',
      health ? (health.status === 'UP' ? 'ok' : 'bad') : undefined),
  ];
}

function nodesPanel(ctx) {
  const nodes = ctx.store.nodes || [];
  return h('div', { class: 'card panel' },
    h('h3', {}, 'Nodes'),
    nodes.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'compact' },
      h('tbody', {}, nodes.map((n) => {
        const total = (n.diskUsed || 0) + (n.diskFree || 0);
        const storage = (n.roles || []).includes('storage');
        return h('tr', { 'data-status': n.status },
          h('td', { class: 'nowrap' }, n.id, n.leader ? h('span', { class: 'leader', title: 'leading coordinator' }, '★ leader') : null),
          h('td', { class: 'status' }, badge(n.status, n.status === 'UP' ? 'ok' : 'bad')),
          h('td', { style: 'width:40%' }, total > 0 ? bar(percent(n.diskUsed, total)) : h('span', { class: 'muted' }, '—')),
          h('td', { class: 'num nowrap muted' }, storage ? `${count(n.replicas)} replicas` : (n.roles || []).join(', ')));
      })))) : h('p', { class: 'muted' }, 'No nodes registered.'));
}

function activityPanel(ctx) {
  const recent = ctx.store.events.slice(0, 8);
  return h('div', { class: 'card panel' },
    h('h3', {}, 'Recent activity'),
    recent.length ? h('ul', { class: 'events' }, recent.map((e) => item(e, ctx)))
      : h('p', { class: 'muted' }, 'Nothing has happened yet.'));
}

export function render(ctx) {
  const admin = ctx.store.viewer.admin;
  fill(root,
    h('div', { class: 'section-head' },
      h('h2', {}, admin ? 'Cluster' : 'Your deposits'),
      ctx.store.clusterError ? h('span', { class: 'badge', 'data-level': 'bad' }, 'unreachable') : null),
    h('div', { class: `cards${admin ? ' admin' : ''}`, id: 'summary-cards' }, admin ? adminCards(ctx) : clientCards(ctx)),
    admin ? h('div', { class: 'two-col' }, nodesPanel(ctx), activityPanel(ctx)) : activityPanel(ctx));
}
