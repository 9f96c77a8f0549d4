// Events: what happened in the cluster, newest first. The admin sees every client's deposits and
// deletions; a client sees node-level events and its own files' events only (filtered by the gateway).
import { h, fill, bytes, clock, count } from '../format.js';

let root;

const KINDS = {
  'node.up': ['node up', 'ok'],
  'node.registered': ['node joined', 'ok'],
  'node.down': ['node down', 'bad'],
  'node.unregistered': ['node left', undefined],
  'file.deposited': ['deposit', 'ok'],
  'file.deleted': ['deletion', undefined],
  'file.replicas': ['replicas', undefined],
  'replica.added': ['repair', 'warn'],
  'replica.removed': ['trim', undefined],
  'leader.elected': ['election', 'ok'],
  'leader.unavailable': ['election', 'bad'],
};

function who(event, ctx) {
  if (!ctx.store.viewer.admin) return 'You';
  return (event.owner && ctx.nickname(event.owner)) || event.owner || 'a client';
}

/** One line for people. */
export function describe(event, ctx) {
  const name = event.name ? `“${event.name}”` : 'a file';
  switch (event.type) {
    case 'node.up': return `${event.node} is up`;
    case 'node.registered': return `${event.node} joined the cluster`;
    case 'node.down': return `${event.node} is down: missed its heartbeats`;
    case 'node.unregistered': return `${event.node} left the cluster`;
    case 'file.deposited':
      return `${who(event, ctx)} deposited ${name}${event.size !== undefined ? ` (${bytes(event.size)})` : ''}`
        + (event.deduplicated ? ', same content as before' : '');
    case 'file.deleted': return `${who(event, ctx)} deleted ${name}`;
    case 'file.replicas':
      return `${who(event, ctx)} set ${name} to ${count(event.replicas)} replica${event.replicas === 1 ? '' : 's'}`
        + (event.liveReplicas !== undefined ? ` (${event.liveReplicas} live)` : '');
    case 'replica.added': return `Copied a replica to ${event.node}`;
    case 'replica.removed': return `Removed a surplus replica from ${event.node}`;
    case 'leader.elected':
      return event.previous ? `${event.node} now leads the coordinators (was ${event.previous})`
        : `${event.node} leads the coordinators`;
    case 'leader.unavailable': return `No coordinator answers (was ${event.previous})`;
    default: return event.type;
  }
}

export function item(event, ctx) {
  const [label, level] = KINDS[event.type] || [event.type, undefined];
  return h('li', { 'data-type': event.type, 'data-seq': event.seq },
    h('time', { datetime: event.at, title: event.at }, clock(event.at)),
    h('span', {}, h('span', { class: 'badge', 'data-level': level }, label)),
    h('span', { class: 'what' }, describe(event, ctx)));
}

export function mount(section) {
  root = section;
}

export function render(ctx) {
  const { store } = ctx;
  const events = store.events;
  fill(root,
    h('div', { class: 'section-head' },
      h('h2', {}, 'Events'),
      h('span', { class: 'muted' }, store.viewer.admin ? 'Everything the cluster reports, newest first'
        : 'Node events and your own files, newest first')),
    h('div', { class: 'card table-card' },
      events.length
        ? h('ul', { class: 'events', id: 'events-list' }, events.map((e) => item(e, ctx)))
        : h('div', { class: 'empty', id: 'events-list' }, 'No events yet. They appear here as they happen.')));
}
