// Clients (admin): who deposits, how much they hold, when they were last seen.
import { h, fill, bytes, count, ago, dateTime } from '../format.js';

const PAGE = 50;
const SORTS = {
  nickname: (a, b) => (a.nickname || '').localeCompare(b.nickname || ''),
  files: (a, b) => a.files - b.files,
  bytes: (a, b) => a.bytes - b.bytes,
  lastSeen: (a, b) => (a.lastSeen || '').localeCompare(b.lastSeen || ''),
};
const view = { q: '', sort: 'nickname', order: 'asc', offset: 0 };
let els = {};

export function mount(section, ctx) {
  const search = h('input', { type: 'search', class: 'search', id: 'client-search', placeholder: 'Filter by nickname or id…',
    'aria-label': 'Filter clients',
    oninput: () => {
      view.q = search.value.trim().toLowerCase();
      view.offset = 0;
      render(ctx);
    } });
  const th = (label, sort, num) => h('th', { class: num ? 'num' : undefined, 'data-sort': sort, scope: 'col',
    onclick: sort ? () => {
      view.order = view.sort === sort && view.order === 'asc' ? 'desc' : 'asc';
      view.sort = sort;
      render(ctx);
    } : undefined }, label);
  els = {
    count: h('span', { class: 'muted' }),
    head: h('tr', {}, th('Nickname', 'nickname'), th('Client id'), th('Files', 'files', true), th('Bytes', 'bytes', true),
      th('Last seen', 'lastSeen'), th('Registered')),
    body: h('tbody', {}),
    pager: h('div', { class: 'pager' }),
  };
  fill(section,
    h('div', { class: 'section-head' }, h('h2', {}, 'Clients'), els.count),
    h('div', { class: 'toolbar' }, search),
    h('div', { class: 'card table-card' },
      h('div', { class: 'table-wrap' }, h('table', { id: 'clients-table' }, h('thead', {}, els.head), els.body)),
      els.pager));
}

export function render(ctx) {
  const all = ctx.store.clients;
  for (const th of els.head.children) {
    if (th.dataset.sort === view.sort) th.setAttribute('aria-sort', view.order === 'asc' ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  if (!all) {
    fill(els.body, h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'Loading…')));
    return;
  }
  const shown = all.filter((c) => !view.q || (c.nickname || '').toLowerCase().includes(view.q) || c.clientId.toLowerCase().includes(view.q));
  shown.sort(SORTS[view.sort]);
  if (view.order === 'desc') shown.reverse();
  const pageRows = shown.slice(view.offset, view.offset + PAGE);
  els.count.textContent = `${count(all.length)} client${all.length === 1 ? '' : 's'}`;
  fill(els.body, pageRows.length ? pageRows.map((c) => h('tr', { 'data-client-id': c.clientId },
    h('td', { class: 'nowrap' }, h('strong', {}, c.nickname)),
    h('td', { class: 'mono nowrap' }, c.clientId),
    h('td', { class: 'num' }, count(c.files)),
    h('td', { class: 'num nowrap' }, bytes(c.bytes)),
    h('td', { class: 'nowrap', title: c.lastSeen || 'not since the coordinator started' }, c.lastSeen ? ago(c.lastSeen) : '—'),
    h('td', { class: 'nowrap' }, dateTime(c.createdAt))))
    : h('tr', {}, h('td', { colspan: 6, class: 'empty' }, view.q ? 'No client matches the filter.' : 'No clients registered yet.')));
  const to = Math.min(view.offset + PAGE, shown.length);
  const go = (o) => {
    view.offset = Math.max(0, o);
    render(ctx);
  };
  fill(els.pager,
    h('span', { class: 'muted' }, `${count(shown.length ? view.offset + 1 : 0)}–${count(to)} of ${count(shown.length)}`),
    h('div', { class: 'controls' },
      h('button', { type: 'button', class: 'btn btn-sm', disabled: view.offset === 0, onclick: () => go(view.offset - PAGE) }, '‹ Prev'),
      h('button', { type: 'button', class: 'btn btn-sm', disabled: to >= shown.length, onclick: () => go(view.offset + PAGE) }, 'Next ›')));
}
