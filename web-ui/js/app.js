// Depot dashboard: sign-in, routing between views, data loading and live refresh.
import { api, setToken } from './api.js';
import { connectLive } from './live.js';
import { h, fill, count } from './format.js';
import * as summaryView from './views/summary.js';
import * as nodesView from './views/nodes.js';
import * as filesView from './views/files.js';
import * as clientsView from './views/clients.js';
import * as eventsView from './views/events.js';

const TOKEN_KEY = 'depot.token';
const VIEWS = { summary: summaryView, nodes: nodesView, files: filesView, clients: clientsView, events: eventsView };
const ADMIN_ONLY = new Set(['nodes', 'clients']);
const MAX_EVENTS = 300;
/** A client's own summary is computed from its file list, read in one page of at most this many. */
const MINE_LIMIT = 5000;

const $ = (id) => document.getElementById(id);

/** Everything the views read. */
const store = {
  viewer: null,
  nodes: null,
  stats: null,
  health: null,
  clients: null,
  mine: null,
  events: [],
  lastSeq: 0,
  clusterError: null,
  live: 'connecting',
  liveMessages: 0,
  view: 'summary',
};

const ctx = {
  store,
  refresh,
  toast,
  confirm: confirmDialog,
  askReplicas,
  nickname(clientId) {
    return nicknames.get(clientId) || null;
  },
  nodeStatus(id) {
    const n = store.nodes && store.nodes.find((x) => x.id === id);
    return n ? n.status : null;
  },
  renderAll,
};
let nicknames = new Map();

// ---- sign-in ----

function start() {
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn($('token-input').value.trim());
  });
  $('signout-button').addEventListener('click', signOut);
  window.addEventListener('hashchange', () => store.viewer && show(viewFromHash()));
  // A file dropped outside the drop zone must not navigate away from the dashboard.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  else $('token-input').focus();
}

async function signIn(token) {
  if (!token) return;
  $('signin-error').textContent = '';
  $('signin-button').disabled = true;
  setToken(token);
  try {
    store.viewer = await api.session();
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token-input').value = '';
    enterApp();
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('signin-error').textContent = err.status === 401 || err.status === 403
      ? 'That token is not valid on this cluster.' : `Could not sign in: ${err.message}`;
  } finally {
    $('signin-button').disabled = false;
  }
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.replace(location.pathname);
}

let stopLive = null;

function enterApp() {
  const v = store.viewer;
  document.body.dataset.signedIn = 'true';
  document.body.dataset.role = v.admin ? 'admin' : 'client';
  $('signin').hidden = true;
  $('app').hidden = false;
  $('topbar-status').hidden = false;
  $('topbar-user').hidden = false;
  fill($('viewer-label'), v.admin ? h('span', {}, 'Signed in as ', h('strong', {}, 'admin'))
    : h('span', {}, 'Signed in as ', h('strong', {}, v.nickname || v.clientId)));
  for (const a of document.querySelectorAll('[data-admin-only]')) a.hidden = !v.admin;
  for (const [name, view] of Object.entries(VIEWS)) view.mount($(`view-${name}`), ctx);

  stopLive = connectLive(onLiveEvent, (state) => {
    store.live = state;
    renderLive();
    if (state === 'open') refresh('cluster', 'mine', 'files', 'clients', 'events'); // catch up on what was missed
  });
  show(viewFromHash());
  refresh('cluster', 'mine', 'files', 'clients', 'events');
  // Heartbeat ages and disk figures change without events; a slow sweep also covers a missed message.
  setInterval(() => refresh('cluster'), 5000);
  setInterval(() => refresh('mine', 'files', 'clients', 'events'), 20000);
  setInterval(() => VIEWS[store.view].tick && VIEWS[store.view].tick(), 1000);
  window.addEventListener('beforeunload', () => stopLive && stopLive());
}

// ---- routing ----

function viewFromHash() {
  const name = location.hash.replace(/^#\/?/, '') || 'summary';
  if (!VIEWS[name] || (ADMIN_ONLY.has(name) && !store.viewer.admin)) return 'summary';
  return name;
}

function show(name) {
  store.view = name;
  document.body.dataset.view = name;
  for (const a of document.querySelectorAll('#tabs a')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const section of document.querySelectorAll('.view')) {
    section.classList.toggle('active', section.dataset.view === name);
  }
  VIEWS[name].render(ctx);
  if (stale.size) {
    const parts = [...stale];
    stale.clear();
    refresh(...parts);
  }
}

// ---- data ----

const loaders = {
  async cluster() {
    try {
      if (store.viewer.admin) {
        const [nodes, stats] = await Promise.all([api.nodes(), api.stats()]);
        store.nodes = nodes.nodes;
        store.stats = stats;
      } else {
        store.health = await api.health();
      }
      store.clusterError = null;
    } catch (err) {
      store.clusterError = err.message;
    }
  },
  /** A client's own summary: its files and their health (the admin has /stats for this). */
  async mine() {
    if (store.viewer.admin) return;
    try {
      store.mine = summarize(await api.files({ limit: MINE_LIMIT }));
    } catch (err) {
      store.clusterError = err.message;
    }
  },
  async files() {
    if (store.view !== 'files') {
      stale.add('files');
      return;
    }
    await filesView.reload(ctx);
  },
  async clients() {
    if (!store.viewer.admin) return;
    if (store.view === 'nodes') {
      stale.add('clients'); // every other view shows nicknames
      return;
    }
    try {
      store.clients = (await api.clients()).clients;
      nicknames = new Map(store.clients.map((c) => [c.clientId, c.nickname]));
    } catch (err) {
      // keep the last list; the summary shows the connection problem
    }
  },
  async events() {
    try {
      const answer = await api.events(store.lastSeq);
      if (answer.latest < store.lastSeq) {
        // The gateway restarted and counts from zero again: start over.
        store.events = [];
        store.lastSeq = 0;
        await loaders.events();
        return;
      }
      store.events = answer.events.slice().reverse().concat(store.events).slice(0, MAX_EVENTS);
      store.lastSeq = answer.latest;
    } catch (err) {
      // try again with the next signal
    }
  },
};

function summarize(list) {
  const s = { files: list.total, bytes: 0, healthy: 0, underReplicated: 0, lost: 0, exact: list.total <= list.files.length };
  for (const f of list.files) {
    s.bytes += f.size;
    if (f.liveReplicas <= 0) s.lost++;
    else if (f.liveReplicas < f.replicas) s.underReplicated++;
    else s.healthy++;
  }
  return s;
}

/** Parts skipped while their view was hidden; loaded when it is shown. */
const stale = new Set();
const pending = new Set();
let refreshTimer = null;
let refreshing = false;

/** Loads the named parts soon; calls within a short window are merged, and never overlap. */
function refresh(...parts) {
  parts.forEach((p) => pending.add(p));
  if (!refreshTimer && !refreshing) refreshTimer = setTimeout(runRefresh, 120);
}

async function runRefresh() {
  refreshTimer = null;
  refreshing = true;
  const parts = [...pending];
  pending.clear();
  try {
    await Promise.all(parts.map((p) => loaders[p]()));
  } finally {
    refreshing = false;
    renderAll();
    if (pending.size) refreshTimer = setTimeout(runRefresh, 700);
  }
}

function onLiveEvent(event) {
  const type = event.type || '';
  store.liveMessages++;
  document.body.dataset.liveMessages = String(store.liveMessages);
  if (type.startsWith('node.') && store.nodes && event.node) {
    // Show the new status at once; the refresh that follows fills in the rest.
    const node = store.nodes.find((n) => n.id === event.node);
    if (node && event.status === 'GONE') store.nodes = store.nodes.filter((n) => n !== node);
    else if (node && event.status) node.status = event.status;
    renderAll();
  }
  // Files change with deposits, and their live replica counts with nodes coming and going.
  if (type === 'files.changed' || type.startsWith('node.')) refresh('cluster', 'mine', 'files', 'clients', 'events');
  else refresh('cluster', 'events');
}

// ---- rendering shared by every view ----

function renderAll() {
  renderStatus();
  renderLive();
  VIEWS[store.view].render(ctx);
}

/** The header pill and the banner: what is at risk, if anything. */
function risks() {
  const out = [];
  if (store.clusterError) {
    out.push({ level: 'bad', text: `Cannot reach the cluster: ${store.clusterError}` });
    return out;
  }
  if (store.viewer.admin) {
    const s = store.stats;
    if (s && s.lost > 0) out.push({ level: 'bad', text: `${count(s.lost)} file${s.lost === 1 ? '' : 's'} lost: no live replica` });
    if (s && s.underReplicated > 0) {
      out.push({ level: 'warn', text: `${count(s.underReplicated)} file${s.underReplicated === 1 ? '' : 's'} under-replicated` });
    }
    const down = (store.nodes || []).filter((n) => n.status !== 'UP');
    if (down.length) out.push({ level: 'warn', text: `${down.length} node${down.length === 1 ? '' : 's'} down: ${down.map((n) => n.id).join(', ')}` });
    const full = (store.nodes || []).filter((n) => n.status === 'UP' && n.heapFull);
    if (full.length) {
      out.push({ level: 'bad', text: `${full.length} node${full.length === 1 ? '' : 's'} refuse${full.length === 1 ? 's' : ''} new replicas, heap nearly full: ${full.map((n) => n.id).join(', ')}` });
    }
  } else {
    const m = store.mine;
    if (store.health && store.health.status !== 'UP') out.push({ level: 'bad', text: 'The cluster is not accepting work right now' });
    if (m && m.lost > 0) out.push({ level: 'bad', text: `${count(m.lost)} of your files lost: no live replica` });
    if (m && m.underReplicated > 0) out.push({ level: 'warn', text: `${count(m.underReplicated)} of your files under-replicated` });
  }
  return out;
}

function renderStatus() {
  const list = risks();
  const level = list.some((r) => r.level === 'bad') ? 'bad' : list.length ? 'warn' : 'ok';
  const loaded = store.viewer.admin ? store.stats || store.clusterError : store.health || store.clusterError;
  const pill = $('cluster-pill');
  pill.dataset.level = loaded ? level : 'unknown';
  pill.textContent = !loaded ? 'Loading…' : level === 'ok' ? 'Healthy' : level === 'warn' ? 'At risk' : 'Needs attention';
  const banner = $('risk-banner');
  banner.hidden = list.length === 0;
  banner.dataset.level = level;
  fill(banner, h('span', {}, list.map((r) => r.text).join(' · ')));
}

function renderLive() {
  const el = $('live-indicator');
  el.dataset.state = store.live;
  el.querySelector('.live-label').textContent = store.live === 'open' ? 'Live' : store.live === 'closed' ? 'Reconnecting…' : 'Connecting…';
}

// ---- dialogs and toasts ----

function toast(text, level) {
  const el = h('div', { class: 'toast', 'data-level': level, role: 'status' }, text);
  $('toasts').append(el);
  setTimeout(() => el.remove(), level === 'bad' ? 8000 : 4000);
}

function confirmDialog(title, text, okLabel = 'Delete') {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

function askReplicas(name, current) {
  const dialog = $('replicas-dialog');
  const input = $('replicas-input');
  $('replicas-text').textContent = `How many copies of “${name}” should the cluster keep?`;
  input.value = current;
  dialog.returnValue = '';
  dialog.showModal();
  input.select();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const n = Number(input.value);
      resolve(dialog.returnValue === 'ok' && Number.isInteger(n) && n >= 1 ? n : null);
    }, { once: true });
  });
}

start();
