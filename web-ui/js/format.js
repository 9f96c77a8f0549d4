// Small helpers: DOM building without innerHTML (names come from users), and formatting for people.

/** h('td', {class: 'num'}, 'text', childNode, ...): text children become text nodes, never markup. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** 1023 B, 1.0 KiB, 4.5 MiB: the same rule as the CLI. */
export function bytes(n) {
  if (n === undefined || n === null || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  let value = n;
  let unit = -1;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

const numberFormat = new Intl.NumberFormat('en-US');
export function count(n) {
  return n === undefined || n === null ? '—' : numberFormat.format(n);
}

/** "4 s ago", "3 min ago", "2 h ago", "5 d ago". */
export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 90) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min ago`;
  const hours = Math.round(m / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

/** Recent times as an age ("5 min ago"), older ones as a date. */
export function when(iso, now = Date.now()) {
  const t = Date.parse(iso || '');
  if (Number.isNaN(t)) return '—';
  return now - t < 24 * 3600 * 1000 ? ago(iso, now) : dateTime(iso).slice(0, 10);
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const pad = (v) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function clock(iso) {
  const d = iso ? new Date(iso) : new Date();
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

export function percent(part, whole) {
  return whole > 0 ? Math.min(100, Math.max(0, (part / whole) * 100)) : 0;
}

/** A bar: level "warn"/"bad" from how full it is unless given. */
export function bar(pct, level, extraClass = '') {
  const lv = level || (pct >= 90 ? 'bad' : pct >= 75 ? 'warn' : undefined);
  return h('div', { class: `bar ${extraClass}`.trim(), 'data-level': lv, 'data-nonzero': pct > 0, role: 'progressbar',
    'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(pct) },
  h('span', { style: `width:${pct.toFixed(1)}%` }));
}

export function badge(text, level) {
  return h('span', { class: 'badge', 'data-level': level }, text);
}

/** A file's health from its desired and live replica counts. */
export function health(file) {
  if (file.liveReplicas <= 0) return { label: 'lost', level: 'bad' };
  if (file.liveReplicas < file.replicas) return { label: 'under-replicated', level: 'warn' };
  return { label: 'healthy', level: 'ok' };
}
