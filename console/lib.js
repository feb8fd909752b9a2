// Shared helpers of the console's pages: the JSON API, DOM building, formatting, dialogs.
// Every URL is relative to the page (document.baseURI), so the console works behind a path prefix.

const TOKEN_KEY = 'brook.console.token';

/** The bearer token the user entered (ws.auth=token), kept for this tab only. */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || undefined;
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An API failure: `status` (HTTP) and `code` (Kafka error name or BAD_REQUEST, ...). */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthenticated = () => {};
export function whenUnauthenticated(fn) {
  onUnauthenticated = fn;
}

/** Calls `api/v1/<path>`; resolves with the JSON answer or rejects with an ApiError. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(`api/v1/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the broker cannot be reached (${e.message})`);
  }
  let data;
  try {
    data = await res.json();
  } catch {
    throw new ApiError(res.status, 'BAD_RESPONSE', `HTTP ${res.status} without a JSON answer`);
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthenticated(data.error);
    throw new ApiError(res.status, data.code ?? 'ERROR', data.error ?? `HTTP ${res.status}`);
  }
  return data;
}

/**
 * The answer of api(path) for a polled section, or undefined once `errorEl` shows why there is
 * none (its text is emptied on success). `notFound`, when given, is the text shown for a 404.
 */
export async function load(path, errorEl, notFound) {
  let data;
  try {
    data = await api(path);
  } catch (e) {
    errorEl.textContent = notFound !== undefined && e.status === 404 ? notFound : e.message;
    return undefined;
  }
  errorEl.textContent = '';
  return data;
}

/** The WebSocket URL of `/ws/v1` relative to this page. */
export function wsUrl() {
  const u = new URL('ws/v1', document.baseURI);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

/**
 * Builds an element: h('a', { href: '#/x', class: 'y' }, 'text', child). Text is always set as
 * text (never parsed as HTML), so topic names and record values cannot inject markup.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * For polled sections: replaces the children only when the new content differs, and then gives
 * the focus back to the matching element (same id, aria-label or link), so a keyboard user's place
 * survives the refresh and screen readers are not told of changes that are not there.
 */
export function update(el, ...children) {
  const next = document.createElement(el.tagName);
  append(next, children);
  if (next.innerHTML === el.innerHTML) return el;
  const focused = el.contains(document.activeElement) ? focusKey(document.activeElement) : undefined;
  el.replaceChildren(...next.childNodes);
  if (focused) el.querySelector(focused)?.focus();
  return el;
}

/** A selector finding an element again after its section was rebuilt; undefined if none. */
function focusKey(el) {
  if (!(el instanceof Element)) return undefined;
  if (el.id) return `#${CSS.escape(el.id)}`;
  const label = el.getAttribute('aria-label');
  if (label) return `${el.tagName.toLowerCase()}[aria-label="${CSS.escape(label)}"]`;
  const href = el.getAttribute('href');
  if (href) return `a[href="${CSS.escape(href)}"]`;
  return undefined;
}

/**
 * A table with a caption: columns [{label, num?}], rows of cells. The caption names it for screen
 * readers; `num` right-aligns a column.
 */
export function table(caption, columns, rows, { empty = 'None.', id } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty', id }, empty);
  return h(
    'div',
    { class: 'table-wrap', id },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : undefined }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell, i) => h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : undefined, class: columns[i]?.num ? 'num' : undefined }, cell))))),
    ),
  );
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function num(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
}

export function duration(ms) {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return d > 0 ? `${d}d ${hh}h ${mm}m` : hh > 0 ? `${hh}h ${mm}m ${ss}s` : mm > 0 ? `${mm}m ${ss}s` : `${ss}s`;
}

/** A #/... link to a route, its parts percent-encoded. */
export function link(text, ...parts) {
  return h('a', { href: `#/${parts.map(encodeURIComponent).join('/')}` }, text);
}

/**
 * Asks for confirmation in a modal dialog (focus trapped by <dialog>, Escape cancels). Resolves
 * true only for the confirm button. `danger` styles it as destructive.
 */
export function confirmDialog({ title, message, confirm = 'Confirm', danger = true }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-message' });
    const cancelButton = h('button', { type: 'button', value: 'cancel', onclick: () => dialog.close('cancel') }, 'Cancel');
    const okButton = h('button', { type: 'button', class: danger ? 'danger' : 'primary', value: 'confirm', onclick: () => dialog.close('confirm') }, confirm);
    dialog.append(h('h2', { id: 'confirm-title' }, title), h('p', { id: 'confirm-message' }, message), h('div', { class: 'actions' }, cancelButton, okButton));
    const back = document.activeElement;
    const backKey = focusKey(back);
    dialog.addEventListener('close', () => {
      dialog.remove();
      // The page may have rebuilt the section meanwhile: then its replacement takes the focus.
      const target = back instanceof HTMLElement && back.isConnected ? back : backKey ? document.querySelector(backKey) : null;
      if (target instanceof HTMLElement) target.focus();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelButton.focus(); // the safe choice has the focus
  });
}

/** A polite live region's text (role=status), for results screen readers should hear. */
export function announce(el, text, kind = 'info') {
  el.textContent = text;
  el.dataset.kind = kind;
}

/** One term and its value of a `dl.facts` list. */
export function fact(term, value) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}

/** Runs `fn` now and every `ms` until the returned stop() (one call in flight at a time). */
export function every(ms, fn) {
  let stopped = false;
  let timer;
  const tick = async () => {
    try {
      await fn();
    } catch (e) {
      if (!stopped) console.warn(e);
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
