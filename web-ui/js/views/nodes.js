// Nodes (admin): every registered node, its status and heartbeat age, disk and replicas held; a storage
// node whose heap is nearly full (it takes no new replica) is marked beside its status.
import { h, fill, bytes, count, ago, percent, bar, badge } from '../format.js';

let root;

export function mount(section) {
  root = section;
}

function offset(n) {
  if (typeof n.clockOffsetMs !== 'number') return '—';
  return `${n.clockOffsetMs > 0 ? '+' : ''}${count(n.clockOffsetMs)} ms`;
}

function disk(n) {
  const total = (n.diskUsed || 0) + (n.diskFree || 0);
  if (total <= 0) return h('span', { class: 'muted' }, '—');
  const pct = percent(n.diskUsed, total);
  return h('div', { class: 'disk', title: `${pct.toFixed(1)}% used` },
    bar(pct),
    h('span', { class: 'sub' }, `${bytes(n.diskUsed)} used · ${bytes(n.diskFree)} free`));
}

function status(n, up) {
  if (!up || !n.heapFull) return badge(up ? 'UP' : 'DOWN', up ? 'ok' : 'bad');
  return h('span', { title: 'takes no new replica: its heap is nearly full (heapLimitPercent)' },
    badge('UP', 'ok'), ' ', badge('HEAP FULL', 'warn'));
}

function row(n) {
  const up = n.status === 'UP';
  return h('tr', { 'data-node-id': n.id, 'data-status': n.status, 'data-heap-full': String(!!n.heapFull) },
    h('td', { class: 'nowrap' }, h('strong', {}, n.id), n.leader ? h('span', { class: 'leader', title: 'leading coordinator' }, '★ leader') : null),
    h('td', {}, (n.roles || []).map((r) => h('span', { class: 'chip' }, r))),
    h('td', { class: 'mono nowrap' }, n.host || '—'),
    h('td', { class: 'num' }, n.rank ?? '—'),
    h('td', { class: 'status' }, status(n, up)),
    h('td', { class: 'nowrap heartbeat', 'data-at': n.lastHeartbeat || '' }, ago(n.lastHeartbeat)),
    h('td', {}, disk(n)),
    h('td', { class: 'num' }, (n.roles || []).includes('storage') ? count(n.replicas) : '—'),
    h('td', { class: 'num nowrap' }, offset(n)));
}

export function render(ctx) {
  const nodes = ctx.store.nodes;
  const up = (nodes || []).filter((n) => n.status === 'UP').length;
  fill(root,
    h('div', { class: 'section-head' },
      h('h2', {}, 'Nodes'),
      nodes ? h('span', { class: 'muted' }, `${up} up · ${nodes.length - up} down`) : null),
    h('div', { class: 'card table-card' }, h('div', { class: 'table-wrap' },
      h('table', { id: 'nodes-table' },
        h('thead', {}, h('tr', {},
          h('th', {}, 'Node'), h('th', {}, 'Roles'), h('th', {}, 'Host'), h('th', { class: 'num' }, 'Rank'),
          h('th', {}, 'Status'), h('th', {}, 'Last heartbeat'), h('th', {}, 'Disk'),
          h('th', { class: 'num' }, 'Replicas'), h('th', { class: 'num' }, 'Clock offset'))),
        h('tbody', {}, nodes ? nodes.map(row) : h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'Loading…')))))));
}

/** Once a second: heartbeat ages move on without a fetch. */
export function tick() {
  const now = Date.now();
  for (const td of root.querySelectorAll('td.heartbeat')) {
    td.textContent = ago(td.dataset.at, now);
  }
}
