// The HTTP API, with the viewer's token. Every change the page makes goes through here (the event-bus
// bridge carries nothing inbound).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

let token = null;

export function setToken(value) {
  token = value;
}

function headers(extra) {
  return { Authorization: `Bearer ${token}`, ...extra };
}

async function failure(res) {
  let body = {};
  try {
    body = await res.json();
  } catch (e) {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, body.error, body.message || res.statusText);
}

export async function get(path) {
  const res = await fetch(path, { headers: headers(), cache: 'no-store' });
  if (!res.ok) throw await failure(res);
  return res.json();
}

async function send(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  if (!res.ok) throw await failure(res);
  return res.status === 204 ? null : res.json();
}

/** The path of one file; the admin names the owner. */
export function filePath(name, owner, suffix = '') {
  const base = `/api/v1/files/${encodeURIComponent(name)}${suffix}`;
  return owner ? `${base}?owner=${encodeURIComponent(owner)}` : base;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  session: () => get('/api/v1/session'),
  health: async () => {
    const res = await fetch('/health', { cache: 'no-store' });
    return res.json(); // 503 still carries the JSON answer
  },
  nodes: () => get('/api/v1/nodes'),
  stats: () => get('/api/v1/stats'),
  clients: () => get('/api/v1/clients'),
  files: (params) => get(`/api/v1/files${query(params)}`),
  events: (since) => get(`/api/v1/events${query({ since, limit: 200 })}`),
  remove: (name, owner) => send('DELETE', filePath(name, owner)),
  replicas: (name, owner, replicas) => send('PUT', filePath(name, owner, '/replicas'), { replicas }),

  /** Downloads through fetch (the token travels in a header) and hands the bytes to the browser. */
  async download(name, owner) {
    const res = await fetch(filePath(name, owner), { headers: headers() });
    if (!res.ok) throw await failure(res);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
  },

  /** PUT with XMLHttpRequest for upload progress; resolves to the stored record. */
  upload(file, name, replicas, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const q = replicas ? `?replicas=${encodeURIComponent(replicas)}` : '';
      xhr.open('PUT', `/api/v1/files/${encodeURIComponent(name)}${q}`);
      xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded, e.total);
      };
      xhr.onload = () => {
        let body = {};
        try {
          body = JSON.parse(xhr.responseText || '{}');
        } catch (e) {
          // not JSON
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new ApiError(xhr.status, body.error, body.message || xhr.statusText));
      };
      xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload was interrupted'));
      xhr.send(file);
    });
  },
};
