// Files: upload (drag and drop or picker, with progress), and a server-side sorted, filtered, paginated
// table, so 100,000 files cost one page of rows. Download, delete and change replicas per row.
import { api } from '../api.js';
import { h, fill, bytes, count, dateTime, when, badge, health, percent } from '../format.js';

const PAGE_SIZES = [25, 50, 100, 200];
const COLUMNS = [
  { key: 'owner', label: 'Owner', adminOnly: true },
  { key: 'name', label: 'Name', sort: 'name' },
  { key: 'size', label: 'Size', sort: 'size', num: true },
  { key: 'sha256', label: 'SHA-256' },
  { key: 'replicas', label: 'Replicas', sort: 'replicas', num: true },
  { key: 'health', label: 'Health' },
  { key: 'nodes', label: 'Nodes' },
  { key: 'depositedAt', label: 'Deposited', sort: 'depositedAt' },
  { key: 'actions', label: '' },
];

const page = { q: '', sort: 'depositedAt', order: 'desc', offset: 0, limit: 50, files: null, total: 0, error: null, version: 0 };
let rendered = '';
let els = {};
let seq = 0;

export function mount(section, ctx) {
  const admin = ctx.store.viewer.admin;
  const input = h('input', { type: 'file', id: 'file-input', multiple: true, hidden: true,
    onchange: () => {
      uploadAll([...input.files], ctx);
      input.value = '';
    } });
  const replicas = h('select', { id: 'upload-replicas', 'aria-label': 'Replicas for new uploads', disabled: admin },
    h('option', { value: '' }, 'Replicas: server default'),
    [1, 2, 3, 4, 5].map((n) => h('option', { value: n }, `${n} replica${n === 1 ? '' : 's'}`)));
  const zone = h('div', { class: 'dropzone', id: 'dropzone', 'data-disabled': admin ? 'true' : 'false' },
    h('div', { class: 'grow' },
      admin ? [h('strong', {}, 'Uploads need a client token. '), 'The admin token can look, download, delete and change replicas, but not deposit.']
        : [h('strong', {}, 'Drop files here'), ' or choose them to deposit; the cluster keeps the chosen number of replicas.']),
    replicas,
    h('button', { type: 'button', class: 'btn btn-primary', id: 'upload-button', disabled: admin, onclick: () => input.click() }, 'Choose files…'),
    input);
  if (!admin) {
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('dragover');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('dragover'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('dragover');
      uploadAll([...(e.dataTransfer ? e.dataTransfer.files : [])], ctx);
    });
  }

  let searchTimer;
  const search = h('input', { type: 'search', id: 'file-search', class: 'search', placeholder: 'Filter by name…',
    'aria-label': 'Filter files by name',
    oninput: () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        page.q = search.value.trim();
        page.offset = 0;
        reload(ctx).then(() => render(ctx));
      }, 250);
    } });

  const head = h('tr', {}, COLUMNS.filter((c) => admin || !c.adminOnly).map((c) => h('th', {
    class: c.num ? 'num' : undefined, 'data-sort': c.sort, scope: 'col',
    onclick: c.sort ? () => {
      page.order = page.sort === c.sort && page.order === 'asc' ? 'desc' : 'asc';
      page.sort = c.sort;
      page.offset = 0;
      reload(ctx).then(() => render(ctx));
    } : undefined,
  }, c.label)));
  els = {
    count: h('span', { class: 'muted', id: 'files-count' }),
    uploads: h('ul', { class: 'uploads', id: 'uploads' }),
    head,
    body: h('tbody', {}),
    pager: h('div', { class: 'pager', id: 'files-pager' }),
  };
  fill(section,
    h('div', { class: 'section-head' }, h('h2', {}, admin ? 'All files' : 'Your files'), els.count),
    zone,
    els.uploads,
    h('div', { class: 'toolbar' }, search),
    h('div', { class: 'card table-card' },
      h('div', { class: 'table-wrap' }, h('table', { id: 'files-table' }, h('thead', {}, head), els.body)),
      els.pager));
}

/** Loads the current page; an answer that arrives after a newer request is dropped. */
export async function reload() {
  const mine = ++seq;
  try {
    const answer = await api.files({ q: page.q, sort: page.sort, order: page.order, offset: page.offset, limit: page.limit });
    if (mine !== seq) return;
    page.files = answer.files;
    page.total = answer.total;
    page.version++;
    page.error = null;
    if (page.offset > 0 && page.offset >= page.total) {
      page.offset = Math.max(0, Math.floor((page.total - 1) / page.limit) * page.limit);
      await reload();
    }
  } catch (err) {
    if (mine === seq) page.error = err.message;
  }
}

function nodeChips(file, ctx) {
  return file.nodes.map((id) => {
    const status = ctx.nodeStatus(id);
    return h('span', { class: `chip${status && status !== 'UP' ? ' down' : ''}`, title: status ? `${id}: ${status}` : id }, id);
  });
}

function row(file, ctx) {
  const admin = ctx.store.viewer.admin;
  const owner = admin ? file.owner : undefined;
  const state = health(file);
  return h('tr', { 'data-file-name': file.name, 'data-owner': file.owner },
    admin ? h('td', { class: 'nowrap', title: file.owner }, file.ownerNickname || file.owner) : null,
    h('td', { class: 'name-cell', title: file.name }, file.name),
    h('td', { class: 'num nowrap', title: `${count(file.size)} bytes` }, bytes(file.size)),
    h('td', { class: 'mono', title: file.sha256 }, (file.sha256 || '').slice(0, 12)),
    h('td', { class: 'num nowrap' }, `${file.liveReplicas} / ${file.replicas}`),
    h('td', {}, badge(state.label, state.level)),
    h('td', { class: 'nodes-cell' }, nodeChips(file, ctx)),
    h('td', { class: 'nowrap', title: dateTime(file.depositedAt) }, when(file.depositedAt)),
    h('td', {}, h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'download',
        onclick: () => api.download(file.name, owner).catch((e) => ctx.toast(`Download failed: ${e.message}`, 'bad')) }, 'Download'),
      h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'replicas',
        onclick: () => changeReplicas(file, owner, ctx) }, 'Replicas…'),
      h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'delete',
        onclick: () => remove(file, owner, ctx) }, 'Delete'))));
}

async function remove(file, owner, ctx) {
  const ok = await ctx.confirm('Delete this file?', `“${file.name}” (${bytes(file.size)}) and all its replicas will be deleted. This cannot be undone.`);
  if (!ok) return;
  try {
    await api.remove(file.name, owner);
    ctx.toast(`Deleted “${file.name}”`);
  } catch (e) {
    ctx.toast(`Delete failed: ${e.message}`, 'bad');
  }
  ctx.refresh('files', 'cluster', 'mine', 'clients');
}

async function changeReplicas(file, owner, ctx) {
  const n = await ctx.askReplicas(file.name, file.replicas);
  if (n === null || n === file.replicas) return;
  ctx.toast(`Asking for ${n} replica${n === 1 ? '' : 's'} of “${file.name}”…`);
  try {
    const record = await api.replicas(file.name, owner, n);
    ctx.toast(`“${file.name}”: ${record.liveReplicas} of ${record.replicas} replica${record.replicas === 1 ? '' : 's'} live`);
  } catch (e) {
    ctx.toast(`Could not change replicas: ${e.message}`, 'bad');
  }
  ctx.refresh('files', 'cluster', 'mine');
}

// ---- uploads ----

let queue = Promise.resolve();

function uploadAll(files, ctx) {
  const replicas = document.getElementById('upload-replicas').value;
  for (const file of files) {
    const fill$ = h('span', { style: 'width:0%' });
    const state = h('span', { class: 'up-state' }, 'waiting');
    const li = h('li', { class: 'card', 'data-upload-name': file.name, 'data-state': 'waiting' },
      h('span', { class: 'up-name', title: file.name }, file.name, h('span', { class: 'muted' }, ` · ${bytes(file.size)}`)),
      state,
      h('div', { class: 'bar' }, fill$));
    els.uploads.prepend(li);
    queue = queue.then(() => uploadOne(file, replicas, li, fill$, state, ctx));
  }
}

async function uploadOne(file, replicas, li, fill$, state, ctx) {
  li.dataset.state = 'uploading';
  state.textContent = '0%';
  try {
    const record = await api.upload(file, file.name, replicas, (sent, total) => {
      const pct = percent(sent, total);
      fill$.style.width = `${pct.toFixed(1)}%`;
      state.textContent = pct >= 100 ? 'storing replicas…' : `${Math.floor(pct)}%`;
    });
    fill$.style.width = '100%';
    li.dataset.state = 'done';
    state.textContent = `stored · ${record.liveReplicas} of ${record.replicas} replicas`;
    ctx.toast(`Deposited “${file.name}” with ${record.liveReplicas} replicas`);
    setTimeout(() => li.remove(), 15000);
  } catch (e) {
    li.dataset.state = 'failed';
    state.textContent = `failed: ${e.message}`;
    ctx.toast(`Upload of “${file.name}” failed: ${e.message}`, 'bad');
  }
  ctx.refresh('files', 'cluster', 'mine', 'clients');
}

// ---- rendering ----

function pager(ctx) {
  const { offset, limit, total } = page;
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  const go = (o) => {
    page.offset = Math.max(0, o);
    reload(ctx).then(() => render(ctx));
  };
  const size = h('select', { 'aria-label': 'Rows per page', id: 'files-page-size',
    onchange: () => {
      page.limit = Number(size.value);
      page.offset = 0;
      reload(ctx).then(() => render(ctx));
    } }, PAGE_SIZES.map((n) => h('option', { value: n, selected: n === limit }, `${n} per page`)));
  return [
    h('span', { class: 'muted' }, `${count(from)}–${count(to)} of ${count(total)}`),
    h('div', { class: 'controls' },
      size,
      h('button', { type: 'button', class: 'btn btn-sm', id: 'files-prev', disabled: offset === 0, onclick: () => go(offset - limit) }, '‹ Prev'),
      h('button', { type: 'button', class: 'btn btn-sm', id: 'files-next', disabled: to >= total, onclick: () => go(offset + limit) }, 'Next ›')),
  ];
}

export function render(ctx) {
  // Re-render only when something shown changed, so a periodic refresh never swallows a click.
  const key = [page.version, page.error, page.offset, page.limit, page.sort, page.order,
    (ctx.store.nodes || []).map((n) => n.status).join(), (ctx.store.clients || []).length].join('|');
  if (key === rendered) return;
  rendered = key;
  for (const th of els.head.children) {
    const key = th.dataset.sort;
    if (!key) continue;
    if (key === page.sort) th.setAttribute('aria-sort', page.order === 'asc' ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  const columns = els.head.children.length;
  els.count.textContent = page.files ? `${count(page.total)} file${page.total === 1 ? '' : 's'}${page.q ? ` matching “${page.q}”` : ''}` : '';
  if (page.error) {
    fill(els.body, h('tr', {}, h('td', { colspan: columns, class: 'empty' }, `Could not load files: ${page.error}`)));
  } else if (!page.files) {
    fill(els.body, h('tr', {}, h('td', { colspan: columns, class: 'empty' }, 'Loading…')));
  } else if (page.files.length === 0) {
    fill(els.body, h('tr', {}, h('td', { colspan: columns, class: 'empty' },
      page.q ? 'No file matches the filter.' : 'No files yet. Drop one above to deposit it.')));
  } else {
    fill(els.body, page.files.map((f) => row(f, ctx)));
  }
  fill(els.pager, pager(ctx));
}
