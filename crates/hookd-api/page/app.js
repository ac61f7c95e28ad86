// hookd admin page: vanilla JS over the JSON API under /api/. No framework, no build step.
//
// Rule: server data reaches the DOM only through textContent / attributes set by el() below,
// never parsed as HTML (no inner/outer HTML assignment), so a webhook name or a receiver's response body cannot inject markup.
'use strict';

(() => {
  const TOKEN_KEY = 'hookd.adminToken';
  const PAGE_SIZE = 25;
  const LOG_PAGE_SIZE = 20;

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    eventTypes: null, // [{slug, name, description, sample_payload}]
    renderSeq: 0,
    list: { search: '', event: '', active: '', offset: 0, selected: new Set(), items: [] },
    flash: null, // one-shot message for the next view: {kind, title, text, secret}
  };

  // Content-Security-Policy violations are recorded for the browser test to assert there are none.
  window.__hookdCspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__hookdCspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
  });

  // ---------- DOM helpers ----------

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  /** el('a.link#id', {href, on: {click}}, child, ...): strings become text nodes. */
  function el(spec, props, ...children) {
    if (props instanceof Node || typeof props === 'string' || Array.isArray(props)) {
      children.unshift(props);
      props = null;
    }
    const m = spec.match(/^([a-z0-9]+)((?:[.#][\w-]+)*)$/i);
    if (!m) throw new Error(`bad element spec ${spec}`);
    const node = document.createElement(m[1]);
    for (const part of m[2].match(/[.#][\w-]+/g) || []) {
      if (part[0] === '.') node.classList.add(part.slice(1));
      else node.id = part.slice(1);
    }
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'on') {
        for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
      } else if (key === 'text') {
        node.textContent = String(value);
      } else if (key === 'class') {
        for (const c of String(value).split(/\s+/).filter(Boolean)) node.classList.add(c);
      } else if (key === 'dataset') {
        Object.assign(node.dataset, value);
      } else if (['value', 'checked', 'disabled', 'hidden', 'selected', 'open'].includes(key)) {
        node[key] = value;
      } else {
        node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // ---------- Formatting ----------

  const REASONS = {
    200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
    303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized',
    403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict',
    410: 'Gone', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity',
    429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
    503: 'Service Unavailable', 504: 'Gateway Timeout',
  };
  const ERROR_NAMES = {
    timeout: 'timed out', connect: 'connection failed', dns: 'DNS lookup failed', tls: 'TLS error',
    redirect: 'redirect (not followed)', refused_target: 'target refused by the network guard', request: 'request error',
  };

  const statusText = (code) => (REASONS[code] ? `${code} ${REASONS[code]}` : String(code));
  const is2xx = (code) => typeof code === 'number' && code >= 200 && code <= 299;

  const dateFmt = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const logFmt = new Intl.DateTimeFormat(undefined, {
    month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });

  function fmtDate(iso) {
    return iso ? dateFmt.format(new Date(iso)) : '—';
  }

  function relTime(iso) {
    if (!iso) return '—';
    const secs = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (secs < 0) return `in ${humanSpan(-secs)}`;
    if (secs < 10) return 'just now';
    return `${humanSpan(secs)} ago`;
  }

  function humanSpan(secs) {
    if (secs < 60) return `${secs}s`;
    if (secs < 3600) return `${Math.round(secs / 60)} min`;
    if (secs < 86400 * 2) return `${Math.round(secs / 3600)} h`;
    return `${Math.round(secs / 86400)} days`;
  }

  /** An <time> element: relative text, the full date on hover. */
  function timeEl(iso, cls) {
    if (!iso) return el('span.muted', '—');
    return el('time', { datetime: iso, title: fmtDate(iso), class: cls }, relTime(iso));
  }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '—';
    return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s` : `${ms} ms`;
  }

  function shortUrl(url, max = 46) {
    const plain = url.replace(/^https?:\/\//, '');
    return plain.length > max ? `${plain.slice(0, max - 1)}…` : plain;
  }

  function titleCase(s) {
    return String(s).replace(/[_-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  function eventName(slug) {
    if (slug === '*') return 'All events';
    const t = (state.eventTypes || []).find((e) => e.slug === slug);
    return t ? t.name : slug;
  }

  // ---------- Toasts, confirm, copy ----------

  function toast(message, kind = 'info') {
    const node = el(`div.toast.toast-${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, message);
    $('#toasts').append(node);
    setTimeout(() => node.remove(), kind === 'error' ? 8000 : 4000);
  }

  function toastError(err, what) {
    if (err && err.status === 401) return; // the sign-in form says it
    toast(`${what}: ${err && err.message ? err.message : err}`, 'error');
  }

  function confirmDialog({ title, message, confirm = 'Confirm', danger = false }) {
    const dlg = $('#confirm-dialog');
    $('#confirm-title').textContent = title;
    $('#confirm-message').textContent = message;
    const ok = $('#confirm-ok');
    ok.textContent = confirm;
    ok.className = `btn ${danger ? 'btn-danger-solid' : 'btn-primary'}`;
    return new Promise((resolve) => {
      const done = (answer) => {
        ok.removeEventListener('click', yes);
        $('#confirm-cancel').removeEventListener('click', no);
        dlg.removeEventListener('cancel', no);
        if (dlg.open) dlg.close();
        resolve(answer);
      };
      const yes = () => done(true);
      const no = (e) => { if (e) e.preventDefault(); done(false); };
      ok.addEventListener('click', yes);
      $('#confirm-cancel').addEventListener('click', no);
      dlg.addEventListener('cancel', no);
      dlg.showModal();
      ok.focus();
    });
  }

  async function copyText(text, what = 'Copied') {
    try {
      await navigator.clipboard.writeText(text);
      toast(`${what} to the clipboard`, 'success');
    } catch {
      // Clipboard API refused (no permission, not focused): fall back to a selection copy.
      const area = el('textarea', { readonly: true, class: 'offscreen' });
      area.value = text;
      area.style.position = 'fixed';
      area.style.top = '-1000px';
      document.body.append(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      area.remove();
      toast(ok ? `${what} to the clipboard` : 'Copy failed: select the text and copy it by hand', ok ? 'success' : 'error');
    }
  }

  function setBusy(button, busy) {
    if (!button) return;
    button.disabled = busy;
    button.classList.toggle('busy', busy);
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.kind = body && body.error;
      this.field = body && body.field;
    }
  }

  async function api(method, path, body, token = state.token) {
    const headers = { Accept: 'application/json', Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, { error: 'network', message: `cannot reach hookd (${e.message})` });
    }
    if (res.status === 401 && token === state.token && state.token) {
      signOut('Wrong token: hookd refused it (401 Unauthorized). Enter the admin token again.');
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (!res.ok) {
      throw new ApiError(res.status, data && typeof data === 'object' && data.message ? data
        : { error: 'http', message: `${statusText(res.status)}${text && !data ? `: ${text.slice(0, 200)}` : ''}` });
    }
    return data;
  }

  async function loadEventTypes(force = false) {
    if (!state.eventTypes || force) state.eventTypes = await api('GET', '/api/event-types');
    return state.eventTypes;
  }

  // ---------- Sign in ----------

  function showLogin(message) {
    $('#app').hidden = true;
    $('#login').hidden = false;
    const error = $('#login-error');
    error.hidden = !message;
    error.textContent = message || '';
    closeAllDialogs();
    $('#login-token').focus();
  }

  function signOut(message) {
    state.token = null;
    state.eventTypes = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(message);
  }

  function closeAllDialogs() {
    for (const d of $$('dialog')) if (d.open) d.close();
  }

  $('#login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('#login-token');
    const token = input.value.trim();
    const error = $('#login-error');
    if (!token || !/^[\x21-\x7e]+$/.test(token)) {
      error.textContent = token ? 'Wrong token: an admin token is printable ASCII without spaces.' : 'Enter the admin token.';
      error.hidden = false;
      input.focus();
      return;
    }
    const button = $('#login-submit');
    setBusy(button, true);
    try {
      const types = await api('GET', '/api/event-types', undefined, token);
      state.token = token;
      state.eventTypes = types;
      sessionStorage.setItem(TOKEN_KEY, token);
      input.value = '';
      error.hidden = true;
      showApp();
    } catch (err) {
      error.textContent = err.status === 401
        ? 'Wrong token: hookd refused it (401 Unauthorized). Check HOOKD_ADMIN_TOKEN and try again.'
        : `Could not sign in: ${err.message}`;
      error.hidden = false;
      input.select();
    } finally {
      setBusy(button, false);
    }
  });

  $('#signout').addEventListener('click', () => signOut(null));

  function showApp() {
    $('#login').hidden = true;
    $('#app').hidden = false;
    route();
  }

  // ---------- Routing ----------

  function route() {
    if (!state.token) {
      showLogin(null);
      return;
    }
    const hash = location.hash || '#/webhooks';
    let m;
    let section = 'webhooks';
    if (hash === '#/webhooks' || hash === '#/' || hash === '#') {
      renderList();
    } else if ((m = hash.match(/^#\/webhooks\/([0-9a-fA-F-]{36})$/))) {
      renderEdit(m[1]);
    } else if (hash === '#/events') {
      section = 'events';
      renderCatalog();
    } else {
      location.replace('#/webhooks');
      return;
    }
    for (const a of $$('[data-nav]')) a.classList.toggle('active', a.dataset.nav === section);
  }

  window.addEventListener('hashchange', route);

  /** Starts a render: returns {view, live()} where live() is false once another render began. */
  function beginRender(title) {
    const seq = ++state.renderSeq;
    document.title = `${title} · hookd`;
    const view = clear($('#view'));
    view.append(el('div.loading', el('span.spinner'), 'Loading…'));
    return { view, live: () => seq === state.renderSeq };
  }

  function renderError(view, err, what) {
    clear(view).append(el('div.card', el('div.empty',
      el('h3', err.status === 404 ? `${what} not found` : `Could not load ${what.toLowerCase()}`),
      el('p', err.message),
      el('a.btn', { href: '#/webhooks' }, 'Back to webhooks'))));
  }

  function takeFlash(view) {
    if (!state.flash) return;
    const f = state.flash;
    state.flash = null;
    const box = el(`div.callout.callout-${f.kind || 'success'}#flash`, { role: 'status' }, el('strong', f.title), f.text ? ` ${f.text}` : '');
    if (f.secret) {
      box.append(el('div.secret-box', el('span.break#flash-secret', f.secret)),
        el('div.secret-actions', el('button.btn.btn-sm', { type: 'button', on: { click: () => copyText(f.secret, 'Secret copied') } }, 'Copy secret')));
    }
    view.prepend(box);
  }

  // ---------- Event picker (Add dialog and edit page) ----------

  /** A list of <select>s over the catalog; "All events (*)" replaces the rest. */
  function eventPicker(container, initial, onChange) {
    clear(container);
    const rows = el('div.event-rows.event-picker');
    const addBtn = el('button.link-btn.event-add', { type: 'button' }, '+ Add another event');
    container.append(rows, addBtn);

    function options(selected) {
      const opts = [el('option', { value: '*', selected: selected === '*' }, 'All events (*)')];
      for (const t of state.eventTypes || []) {
        opts.push(el('option', { value: t.slug, selected: selected === t.slug }, `${t.name} — ${t.slug}`));
      }
      return opts;
    }

    function addRow(selected) {
      const select = el('select.event-select', { 'aria-label': 'Event' }, options(selected));
      const remove = el('button.icon-btn.event-remove', { type: 'button', 'aria-label': 'Remove this event', title: 'Remove' }, '×');
      const row = el('div.event-row', select, remove);
      select.addEventListener('change', () => { sync(); onChange && onChange(select.value); });
      remove.addEventListener('click', () => { row.remove(); sync(); onChange && onChange(value()[0]); });
      rows.append(row);
      return select;
    }

    function value() {
      const vals = $$('select', rows).map((s) => s.value);
      if (vals.includes('*')) return ['*'];
      return [...new Set(vals)];
    }

    function sync() {
      const selects = $$('select', rows);
      const all = selects.some((s) => s.value === '*');
      addBtn.hidden = all || selects.length >= (state.eventTypes || []).length;
      for (const r of $$('.event-row', rows)) $('.event-remove', r).hidden = selects.length < 2;
    }

    addBtn.addEventListener('click', () => {
      const used = new Set(value());
      const next = (state.eventTypes || []).find((t) => !used.has(t.slug));
      const select = addRow(next ? next.slug : '*');
      sync();
      select.focus();
      onChange && onChange(select.value);
    });

    const start = initial && initial.length ? initial : [(state.eventTypes && state.eventTypes[0] && state.eventTypes[0].slug) || '*'];
    for (const slug of start) addRow(slug);
    sync();
    return { value, focus: () => $('select', rows).focus() };
  }

  // ---------- Field errors (422) ----------

  function clearFieldErrors(root) {
    for (const p of $$('[data-error-for]', root)) { p.hidden = true; p.textContent = ''; }
    for (const i of $$('.invalid', root)) i.classList.remove('invalid');
  }

  /** Shows a 422 under its field; returns false when the error names no field shown in root. */
  function showFieldError(root, err, inputs) {
    const field = err.field === 'event' ? 'events' : err.field;
    const p = field && $(`[data-error-for="${field}"]`, root);
    if (!p) return false;
    p.textContent = err.message;
    p.hidden = false;
    const input = inputs && inputs[field];
    if (input) { input.classList.add('invalid'); input.focus(); }
    return true;
  }

  // ---------- Send Test Event dialog ----------

  /**
   * Opens the dialog, runs `send()` (a promise of the API's test result) and shows what the
   * receiver answered. Success is claimed only when the API says `success` (a 2xx, no error).
   */
  async function runTest({ event, url, send, saved = true }) {
    const dlg = $('#test-dialog');
    dlg.dataset.state = 'pending';
    delete dlg.dataset.outcome;
    $('#test-pending').hidden = false;
    $('#test-result').hidden = true;
    $('#test-pending-event').textContent = event;
    $('#test-pending-url').textContent = url;
    if (!dlg.open) dlg.showModal();
    let result;
    let failure = null;
    try {
      result = await send();
    } catch (err) {
      if (err.status === 401) return null;
      failure = err;
    }
    showTestResult({ event, url, result, failure, saved });
    return result || null;
  }

  function showTestResult({ event, url, result, failure, saved }) {
    const dlg = $('#test-dialog');
    const ok = !!(result && result.success === true && !failure);
    const code = result ? result.status_code : null;
    dlg.dataset.state = 'done';
    dlg.dataset.outcome = ok ? 'success' : 'failure';
    $('#test-pending').hidden = true;
    $('#test-result').hidden = false;

    $('#test-outcome').className = `outcome ${ok ? 'outcome-success' : 'outcome-failure'}`;
    $('#test-outcome-icon').textContent = ok ? '✓' : '!';
    let headline;
    let reason;
    if (failure) {
      headline = 'Failed: hookd could not run the test';
      reason = failure.message;
    } else if (ok) {
      headline = `Success: the receiver answered ${statusText(code)}`;
      reason = 'The endpoint accepted the test event.';
    } else if (result.error) {
      const name = ERROR_NAMES[result.error] || result.error;
      headline = code ? `Failed: ${statusText(code)} (${name})` : `Failed: no HTTP response (${name})`;
      reason = result.error_detail || `error class: ${result.error}`;
    } else {
      headline = `Failed: the receiver answered ${statusText(code)}`;
      reason = is2xx(code) ? (result.error_detail || 'hookd did not count this as a success.')
        : `Only a 2xx answer counts as success.${result.error_detail ? ` ${result.error_detail}` : ''}`;
    }
    $('#test-headline').textContent = headline;
    $('#test-reason').textContent = reason;

    const status = $('#test-status');
    clear(status).append(code
      ? el(`span.badge.${is2xx(code) && ok ? 'badge-green' : 'badge-red'}`, statusText(code))
      : el('span.badge.badge-red', result && result.error ? result.error : 'no response'));
    $('#test-duration').textContent = result ? fmtDuration(result.duration_ms) : '—';
    $('#test-event').textContent = (result && result.event_type) || event;
    $('#test-url').textContent = url;

    const headers = (result && result.response_headers) || {};
    const headerLines = Array.isArray(headers)
      ? headers.map((h) => (Array.isArray(h) ? `${h[0]}: ${h[1]}` : `${h.name}: ${h.value}`))
      : Object.entries(headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    $('#test-headers-wrap').hidden = headerLines.length === 0;
    $('#test-headers-summary').textContent = `Response headers (${headerLines.length})`;
    $('#test-headers').textContent = headerLines.join('\n');

    const bodyEl = clear($('#test-body'));
    const raw = result ? result.body_excerpt : null;
    let kind = 'text';
    if (!result) {
      bodyEl.append(el('span.empty-body', '(no response)'));
      kind = 'none';
    } else if (raw === null || raw === undefined || raw === '') {
      bodyEl.append(el('span.empty-body', '(empty body)'));
      kind = 'empty';
    } else if (result.body_is_json) {
      kind = 'JSON';
      try { bodyEl.textContent = pretty(JSON.parse(raw)); } catch { bodyEl.textContent = raw; }
    } else {
      bodyEl.textContent = raw;
    }
    bodyEl.classList.toggle('wrap', kind === 'text');
    $('#test-body-kind').textContent = result && result.body_truncated ? `${kind}, first part` : kind;
    $('#test-body-copy').hidden = !raw;
    $('#test-body-copy').onclick = () => copyText(bodyEl.textContent, 'Response body copied');

    let logged = '';
    if (result && result.attempt_id && saved) {
      logged = `Recorded in the delivery log as test attempt #${result.attempt_id}. Test sends are not counted as deliveries.`;
    } else if (result && result.attempt_id) {
      logged = `Recorded as test attempt #${result.attempt_id} (hookd.attempt_log, no webhook yet).`;
    }
    $('#test-logged').textContent = logged;
    $('#test-close').focus();
  }

  function firstEvent(webhook) {
    const e = webhook.events.find((x) => x !== '*');
    return e || (state.eventTypes && state.eventTypes[0] ? state.eventTypes[0].slug : 'payment_received');
  }

  // ---------- Webhooks list ----------

  async function renderList() {
    const { view, live } = beginRender('Webhooks');
    const L = state.list;
    let data;
    try {
      await loadEventTypes();
      const q = new URLSearchParams({ limit: PAGE_SIZE, offset: L.offset });
      if (L.search) q.set('search', L.search);
      if (L.event) q.set('event', L.event);
      if (L.active) q.set('active', L.active);
      data = await api('GET', `/api/webhooks?${q}`);
    } catch (err) {
      if (live() && err.status !== 401) renderError(view, err, 'Webhooks');
      return;
    }
    if (!live()) return;
    L.items = data.items;
    const ids = new Set(data.items.map((w) => w.id));
    for (const id of [...L.selected]) if (!ids.has(id)) L.selected.delete(id);

    clear(view);
    takeFlash(view);
    view.append(el('div.page-head',
      el('div', el('h1', 'Webhooks'),
        el('p.subtitle', 'Endpoints that receive your events as signed JSON POSTs, retried until they answer 2xx.')),
      el('button.btn.btn-primary#add-webhook', { type: 'button', on: { click: openAddDialog } }, el('span.plus', '+'), 'Add New Webhook')));

    const search = el('input#search', {
      type: 'search', placeholder: 'Search webhooks by name or URL', value: L.search, 'aria-label': 'Search webhooks',
    });
    let timer;
    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => { L.search = search.value.trim(); L.offset = 0; renderListKeepFocus('#search'); }, 250);
    });
    const eventFilter = el('select#filter-event', { 'aria-label': 'Filter by event' },
      el('option', { value: '' }, 'All event types'),
      (state.eventTypes || []).map((t) => el('option', { value: t.slug, selected: L.event === t.slug }, t.name)));
    eventFilter.addEventListener('change', () => { L.event = eventFilter.value; L.offset = 0; renderList(); });
    const activeFilter = el('select#filter-active', { 'aria-label': 'Filter by status' },
      el('option', { value: '' }, 'Any status'),
      el('option', { value: 'true', selected: L.active === 'true' }, 'Active'),
      el('option', { value: 'false', selected: L.active === 'false' }, 'Inactive'));
    activeFilter.addEventListener('change', () => { L.active = activeFilter.value; L.offset = 0; renderList(); });

    const card = el('div.card');
    card.append(el('div.toolbar', el('div.search', search), eventFilter, activeFilter));

    const bulkCount = el('span.count#bulk-count');
    const bulkBar = el('div.bulkbar#bulk-bar', bulkCount,
      el('button.btn.btn-sm#bulk-activate', { type: 'button', on: { click: () => bulk('activate') } }, 'Activate'),
      el('button.btn.btn-sm#bulk-deactivate', { type: 'button', on: { click: () => bulk('deactivate') } }, 'Deactivate'),
      el('button.btn.btn-sm.btn-danger#bulk-delete', { type: 'button', on: { click: () => bulk('delete') } }, 'Delete'),
      el('span.spacer'),
      el('button.btn.btn-sm.btn-ghost', { type: 'button', on: { click: () => { L.selected.clear(); syncSelection(); } } }, 'Clear selection'));
    card.append(bulkBar);

    if (data.items.length === 0) {
      const filtered = L.search || L.event || L.active;
      card.append(el('div.empty',
        el('h3', filtered ? 'No webhooks match' : 'No webhooks yet'),
        el('p', filtered ? 'Try another search or filter.' : 'Add a webhook to start receiving events at your endpoint.'),
        filtered ? null : el('button.btn.btn-primary', { type: 'button', on: { click: openAddDialog } }, 'Create a new Webhook')));
    } else {
      const all = el('input#select-all', { type: 'checkbox', 'aria-label': 'Select all webhooks on this page' });
      all.addEventListener('change', () => {
        for (const w of data.items) (all.checked ? L.selected.add(w.id) : L.selected.delete(w.id));
        syncSelection();
      });
      const tbody = el('tbody');
      for (const w of data.items) tbody.append(webhookRow(w));
      card.append(el('div.table-wrap', el('table.table.responsive.table-webhooks#webhooks-table',
        el('thead', el('tr',
          el('th.check', all), el('th', 'Name'), el('th', 'URL'), el('th', 'Event(s)'), el('th.num', 'Count'),
          el('th', 'Integration'), el('th', 'Active'), el('th', 'Last failure'), el('th', 'ID'))),
        tbody)));
    }
    card.append(pager(data, PAGE_SIZE, (offset) => { L.offset = offset; renderList(); }, 'webhook'));
    view.append(card);
    syncSelection();

    function syncSelection() {
      const n = L.selected.size;
      bulkBar.hidden = n === 0;
      bulkCount.textContent = `${n} selected`;
      for (const cb of $$('input.row-check', view)) {
        cb.checked = L.selected.has(cb.value);
        cb.closest('tr').classList.toggle('selected', cb.checked);
      }
      const all = $('#select-all', view);
      if (all) {
        const onPage = data.items.filter((w) => L.selected.has(w.id)).length;
        all.checked = onPage > 0 && onPage === data.items.length;
        all.indeterminate = onPage > 0 && onPage < data.items.length;
      }
    }

    function webhookRow(w) {
      const check = el('input.row-check', { type: 'checkbox', value: w.id, 'aria-label': `Select ${w.name}` });
      check.addEventListener('change', () => { (check.checked ? L.selected.add(w.id) : L.selected.delete(w.id)); syncSelection(); });
      const events = w.events.includes('*')
        ? [el('span.pill.pill-all', { title: 'Every event type' }, 'All events (*)')]
        : w.events.slice(0, 2).map((e) => el('span.pill', { title: eventName(e) }, e))
          .concat(w.events.length > 2 ? [el('span.pill', { title: w.events.slice(2).join(', ') }, `+${w.events.length - 2}`)] : []);
      const activeBadge = w.active
        ? el('span.badge.badge-green.badge-dot', 'Active')
        : el('span.badge.badge-grey.badge-dot', { title: w.disabled_reason || 'Deactivated' }, 'Inactive');
      return el('tr', { dataset: { id: w.id } },
        el('td.check', check),
        el('td.cell-name', { 'data-label': 'Name' },
          el('a', { href: `#/webhooks/${w.id}` }, w.name),
          el('div.row-actions',
            el('a', { href: `#/webhooks/${w.id}` }, 'Edit'), '·',
            el('button.link-btn.row-test', { type: 'button', on: { click: () => listTest(w) } }, 'Send Test'), '·',
            el('button.link-btn.danger.row-delete', { type: 'button', on: { click: () => deleteWebhook(w, renderList) } }, 'Delete'))),
        el('td', { 'data-label': 'URL' }, el('span.pill.pill-url', { title: w.url }, shortUrl(w.url))),
        el('td', { 'data-label': 'Event(s)' }, el('div.pills', events)),
        el('td.num', { 'data-label': 'Count', title: 'Successful real deliveries (test sends are not counted)' }, String(w.event_count)),
        el('td', { 'data-label': 'Integration' }, titleCase(w.integration || 'manual')),
        el('td', { 'data-label': 'Active' }, activeBadge),
        el('td.nowrap', { 'data-label': 'Last failure' }, timeEl(w.last_failed_at, 'fail-time')),
        el('td', { 'data-label': 'ID' }, el('span.mono.muted', { title: w.id }, w.id.slice(0, 8))));
    }

    async function bulk(action) {
      const ids = [...L.selected];
      if (!ids.length) return;
      const n = ids.length;
      const noun = n === 1 ? 'webhook' : 'webhooks';
      if (action === 'delete') {
        const yes = await confirmDialog({
          title: `Delete ${n} ${noun}?`,
          message: 'Pending deliveries are cancelled; past attempts stay in the log. This cannot be undone.',
          confirm: `Delete ${n} ${noun}`, danger: true,
        });
        if (!yes) return;
      } else if (action === 'deactivate') {
        const yes = await confirmDialog({
          title: `Deactivate ${n} ${noun}?`,
          message: 'Inactive webhooks receive nothing, and their pending deliveries are cancelled.',
          confirm: 'Deactivate',
        });
        if (!yes) return;
      }
      try {
        const res = await api('POST', '/api/webhooks/bulk', { action, ids });
        const affected = res && typeof res.affected === 'number' ? res.affected : n;
        const verb = { activate: 'Activated', deactivate: 'Deactivated', delete: 'Deleted' }[action];
        toast(`${verb} ${affected} ${affected === 1 ? 'webhook' : 'webhooks'}`, 'success');
        if (action === 'delete') L.selected.clear();
        renderList();
      } catch (err) {
        toastError(err, `Bulk ${action} failed`);
      }
    }
  }

  async function renderListKeepFocus(selector) {
    await renderList();
    const input = $(selector);
    if (input) {
      input.focus();
      const len = input.value.length;
      input.setSelectionRange(len, len);
    }
  }

  function pager(data, size, go, noun) {
    const total = data.total || 0;
    const from = total === 0 ? 0 : data.offset + 1;
    const to = Math.min(data.offset + data.items.length, total);
    const prev = el('button.btn.btn-sm', { type: 'button', disabled: data.offset <= 0 }, '‹ Previous');
    const next = el('button.btn.btn-sm', { type: 'button', disabled: data.offset + data.items.length >= total }, 'Next ›');
    prev.addEventListener('click', () => go(Math.max(0, data.offset - size)));
    next.addEventListener('click', () => go(data.offset + size));
    return el('div.pager', el('span', total === 0 ? `0 ${noun}s` : `${from}–${to} of ${total} ${total === 1 ? noun : `${noun}s`}`),
      el('span.spacer'), prev, next);
  }

  async function listTest(w) {
    const event = firstEvent(w);
    await runTest({ event, url: w.url, send: () => api('POST', `/api/webhooks/${w.id}/test`, { event }) });
    if (location.hash === '#/webhooks' || location.hash === '') renderList();
  }

  async function deleteWebhook(w, after) {
    const yes = await confirmDialog({
      title: `Delete “${w.name}”?`,
      message: 'Its pending deliveries are cancelled; past attempts stay in the log. This cannot be undone.',
      confirm: 'Delete webhook', danger: true,
    });
    if (!yes) return;
    try {
      await api('DELETE', `/api/webhooks/${w.id}`);
      state.list.selected.delete(w.id);
      toast(`Deleted “${w.name}”`, 'success');
      after();
    } catch (err) {
      toastError(err, 'Delete failed');
    }
  }

  // ---------- Add New Webhook ----------

  let addPicker = null;

  async function openAddDialog() {
    try {
      await loadEventTypes();
    } catch (err) {
      toastError(err, 'Could not load the event catalog');
      return;
    }
    const form = $('#add-form');
    form.reset();
    clearFieldErrors(form);
    $('#add-error').hidden = true;
    addPicker = eventPicker($('#add-events'), null, null);
    $('#add-dialog').showModal();
    $('#add-name').focus();
  }

  $('#add-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = $('#add-form');
    clearFieldErrors(form);
    $('#add-error').hidden = true;
    const body = { name: $('#add-name').value.trim(), url: $('#add-url').value.trim(), events: addPicker.value() };
    const button = $('#add-submit');
    setBusy(button, true);
    try {
      const created = await api('POST', '/api/webhooks', body);
      $('#add-dialog').close();
      state.flash = {
        kind: 'success', title: `Webhook “${created.name}” created.`,
        text: created.secret ? 'Its signing secret is below: receivers verify the webhook-signature header with it. You can reveal it again under Signing secret.' : '',
        secret: created.secret,
      };
      location.hash = `#/webhooks/${created.id}`;
    } catch (err) {
      if (err.status === 401) return;
      if (!(err.status === 422 && showFieldError(form, err, { name: $('#add-name'), url: $('#add-url'), events: $('select', $('#add-events')) }))) {
        $('#add-error').textContent = err.message;
        $('#add-error').hidden = false;
      }
    } finally {
      setBusy(button, false);
    }
  });

  $('#add-test').addEventListener('click', async () => {
    const form = $('#add-form');
    clearFieldErrors(form);
    const url = $('#add-url').value.trim();
    if (!url) {
      showFieldError(form, { field: 'url', message: 'Enter a URL to send a test to.' }, { url: $('#add-url') });
      return;
    }
    const events = addPicker.value();
    const event = events[0] === '*' ? (state.eventTypes[0] && state.eventTypes[0].slug) : events[0];
    await runTest({ event, url, saved: false, send: () => api('POST', '/api/test', { url, event }) });
  });

  // ---------- Edit page ----------

  async function renderEdit(id) {
    const { view, live } = beginRender('Webhook');
    let w;
    try {
      await loadEventTypes();
      w = await api('GET', `/api/webhooks/${id}`);
    } catch (err) {
      if (live() && err.status !== 401) renderError(view, err, 'Webhook');
      return;
    }
    if (!live()) return;
    document.title = `${w.name} · hookd`;
    clear(view);
    takeFlash(view);

    // Header
    const headBadge = el('span#head-badge');
    const headName = el('h1#edit-title', w.name);
    view.append(
      el('div.breadcrumb', el('a', { href: '#/webhooks' }, 'Webhooks'), ' / ', el('span', w.name)),
      el('div.page-head',
        el('div',
          el('div.page-title-row', headName, headBadge),
          el('p.subtitle', el('span.mono', w.id)))));
    const disabledBox = el('div.callout.callout-warn#disabled-reason', { role: 'status' });
    view.append(disabledBox);

    // --- Endpoint form
    const nameInput = el('input#edit-name', { type: 'text', value: w.name, autocomplete: 'off' });
    const urlInput = el('input#edit-url', { type: 'url', value: w.url, autocomplete: 'off', spellcheck: 'false' });
    const testBtn = el('button.btn.btn-secondary#edit-send-test', { type: 'button' }, 'Send Test Event');
    const urlHint = el('p.help.callout-inline#url-unsaved', { hidden: true });
    const eventsBox = el('div#edit-events');
    const saveBtn = el('button.btn.btn-primary#edit-save', { type: 'submit' }, 'Save changes');
    const resetBtn = el('button.btn.btn-ghost#edit-reset', { type: 'button' }, 'Discard');
    const form = el('form#edit-form', { novalidate: true },
      el('div.field', el('label', { for: 'edit-name' }, 'Name'), nameInput, el('p.field-error', { 'data-error-for': 'name', hidden: true })),
      el('div.field', el('label', { for: 'edit-url' }, 'Endpoint URL'), el('div.input-row', urlInput, testBtn),
        el('p.help', 'The URL where hookd POSTs the payload when the event triggers.'), urlHint,
        el('p.field-error', { 'data-error-for': 'url', hidden: true })),
      el('div.field', el('span.label', 'Events'), eventsBox,
        el('p.help', 'The events that trigger this webhook.'),
        el('p.field-error', { 'data-error-for': 'events', hidden: true })),
      el('div.form-actions', saveBtn, resetBtn, el('span.spacer'), el('span.muted.small#saved-at')));

    // --- Payload preview
    const previewSelect = el('select#preview-event', { 'aria-label': 'Event to preview' });
    const previewDesc = el('p.help#preview-desc');
    const previewPre = el('pre.code#payload-preview');
    const copyBtn = el('button.btn.btn-sm#payload-copy', { type: 'button' }, 'Copy');

    // --- Delivery log
    const logBody = el('div#log');
    const logCount = el('span.muted.small#log-count');
    const refreshBtn = el('button.btn.btn-sm.btn-ghost#log-refresh', { type: 'button' }, 'Refresh');

    // --- Sidebar
    const activeInput = el('input#active-toggle', { type: 'checkbox', checked: w.active });
    const activeNote = el('p.status-note#active-note');
    const secretValue = el('span.break#secret-value', '••••••••••••••••••••••••');
    const secretNote = el('p.status-note#secret-note', { hidden: true });
    const revealBtn = el('button.btn.btn-sm#secret-reveal', { type: 'button' }, 'Reveal');
    const secretCopy = el('button.btn.btn-sm#secret-copy', { type: 'button' }, 'Copy');
    const rotateBtn = el('button.btn.btn-sm.btn-danger#secret-rotate', { type: 'button' }, 'Rotate');
    const details = el('dl.kv#details');

    view.append(el('div.grid-edit',
      el('div',
        el('section.card', el('div.card-head', el('h2', 'Endpoint')), el('div.card-body', form)),
        el('section.card#payload-card',
          el('div.card-head', el('h2', 'Event payload'), el('span.spacer'), previewSelect, copyBtn,
            el('p.help', 'The sample payload that Send Test Event POSTs for the selected event.')),
          el('div.card-body', previewDesc, previewPre)),
        el('section.card#log-card',
          el('div.card-head', el('h2', 'Delivery log'), logCount, el('span.spacer'), refreshBtn,
            el('p.help', 'Every attempt to this webhook, newest first: real deliveries and test sends.')),
          logBody)),
      el('aside',
        el('section.card', el('div.card-head', el('h2', 'Status')),
          el('div.card-body',
            el('div.status-line',
              el('label.switch', { for: 'active-toggle' }, activeInput, el('span.switch-track'), el('span#active-label')),
              el('span#active-badge')),
            activeNote)),
        el('section.card', el('div.card-head', el('h2', 'Signing secret')),
          el('div.card-body',
            el('div.secret-box', secretValue),
            el('div.secret-actions', revealBtn, secretCopy, rotateBtn),
            secretNote,
            el('p.status-note', 'Receivers verify the webhook-signature header with this secret (Standard Webhooks).'))),
        el('section.card', el('div.card-head', el('h2', 'Details')), el('div.card-body', details)),
        el('section.card.danger-card', el('div.card-head', el('h2', 'Delete webhook')),
          el('div.card-body',
            el('p.status-note', 'Pending deliveries are cancelled; past attempts stay in the log. This cannot be undone.'),
            el('div.secret-actions', el('button.btn.btn-danger#edit-delete', { type: 'button' }, 'Delete webhook')))))));

    let picker;
    let previewSlug = firstEvent(w);

    function paint() {
      headName.textContent = w.name;
      $('.breadcrumb span', view).textContent = w.name;
      clear(headBadge).append(w.active
        ? el('span.badge.badge-green.badge-dot', 'Active')
        : el('span.badge.badge-grey.badge-dot', 'Inactive'));
      activeInput.checked = w.active;
      $('#active-label', view).textContent = w.active ? 'Active' : 'Inactive';
      clear($('#active-badge', view));
      activeNote.textContent = w.active
        ? 'Events this webhook subscribes to are delivered.'
        : 'Nothing is sent while inactive: new events are not delivered and pending deliveries were cancelled.';
      disabledBox.hidden = !w.disabled_reason && w.active;
      clear(disabledBox);
      if (!w.active) {
        disabledBox.append(el('strong', 'This webhook is inactive'),
          w.disabled_reason ? el('span#disabled-reason-text', ` — disabled: ${w.disabled_reason}`) : ' — it receives nothing until you turn it back on.',
          w.disabled_at ? el('span.muted', ` (since ${fmtDate(w.disabled_at)})`) : '');
      }
      clear(details).append(
        el('dt', 'Integration'), el('dd', titleCase(w.integration || 'manual')),
        el('dt', 'Deliveries'), el('dd', { title: 'Successful real deliveries; test sends are not counted' }, String(w.event_count)),
        el('dt', 'Last failure'), el('dd', w.last_failed_at ? timeEl(w.last_failed_at) : '—'),
        el('dt', 'Created'), el('dd', fmtDate(w.created_at)),
        el('dt', 'Updated'), el('dd', fmtDate(w.updated_at)),
        el('dt', 'ID'), el('dd.mono.small', w.id));
    }

    function resetForm() {
      nameInput.value = w.name;
      urlInput.value = w.url;
      clearFieldErrors(form);
      picker = eventPicker(eventsBox, w.events, (slug) => { if (slug && slug !== '*') { previewSlug = slug; } fillPreview(); });
      urlDirty();
      fillPreview();
    }

    function urlDirty() {
      const dirty = urlInput.value.trim() !== w.url;
      urlHint.hidden = !dirty;
      urlHint.textContent = dirty ? 'Not saved yet: Send Test Event goes to the saved URL. Save changes to test the new one.' : '';
    }
    urlInput.addEventListener('input', urlDirty);

    function previewChoices() {
      const chosen = picker ? picker.value() : w.events;
      return chosen.includes('*') ? state.eventTypes.map((t) => t.slug) : chosen;
    }

    function fillPreview() {
      const choices = previewChoices();
      if (!choices.includes(previewSlug)) previewSlug = choices[0];
      append(clear(previewSelect), choices.map((slug) => el('option', { value: slug, selected: slug === previewSlug }, `${eventName(slug)} — ${slug}`)));
      const t = state.eventTypes.find((e) => e.slug === previewSlug);
      previewDesc.textContent = t ? t.description : 'This event type is not in the catalog.';
      previewPre.textContent = t ? pretty(t.sample_payload) : '';
      previewPre.dataset.event = previewSlug || '';
    }
    previewSelect.addEventListener('change', () => { previewSlug = previewSelect.value; fillPreview(); });
    copyBtn.addEventListener('click', () => copyText(previewPre.textContent, 'Payload copied'));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const patch = {};
      const name = nameInput.value.trim();
      const url = urlInput.value.trim();
      const events = picker.value();
      if (name !== w.name) patch.name = name;
      if (url !== w.url) patch.url = url;
      if (events.join('\n') !== w.events.join('\n')) patch.events = events;
      if (!Object.keys(patch).length) {
        toast('Nothing to save: no changes', 'info');
        return;
      }
      setBusy(saveBtn, true);
      try {
        w = await api('PATCH', `/api/webhooks/${w.id}`, patch);
        toast('Webhook updated', 'success');
        $('#saved-at', view).textContent = `Saved ${timeFmt.format(new Date())}`;
        paint();
        resetForm();
      } catch (err) {
        if (err.status === 401) return;
        if (!(err.status === 422 && showFieldError(form, err, { name: nameInput, url: urlInput, events: $('select', eventsBox) }))) {
          toastError(err, 'Save failed');
        }
      } finally {
        setBusy(saveBtn, false);
      }
    });
    resetBtn.addEventListener('click', resetForm);

    async function sendTest() {
      const event = previewSlug || firstEvent(w);
      await runTest({ event, url: w.url, send: () => api('POST', `/api/webhooks/${w.id}/test`, { event }) });
      logOffset = 0;
      if (live()) await refresh();
    }
    testBtn.addEventListener('click', sendTest);

    activeInput.addEventListener('change', async () => {
      const want = activeInput.checked;
      activeInput.disabled = true;
      try {
        w = await api('PATCH', `/api/webhooks/${w.id}`, { active: want });
        toast(want ? 'Webhook activated' : 'Webhook deactivated: pending deliveries cancelled', 'success');
      } catch (err) {
        toastError(err, want ? 'Activate failed' : 'Deactivate failed');
      } finally {
        activeInput.disabled = false;
        paint();
        if (live()) loadLog(logOffset);
      }
    });

    // Secret
    let secret = null;
    let revealed = false;
    function paintSecret() {
      secretValue.textContent = revealed && secret ? secret : '••••••••••••••••••••••••';
      secretValue.classList.toggle('muted', !revealed);
      revealBtn.textContent = revealed ? 'Hide' : 'Reveal';
    }
    function noteExpiry(res) {
      if (res && res.previous_secret_expires_at) {
        secretNote.hidden = false;
        secretNote.textContent = `The previous secret also signs (a second signature) until ${fmtDate(res.previous_secret_expires_at)}.`;
      } else {
        secretNote.hidden = true;
      }
    }
    async function fetchSecret() {
      const res = await api('GET', `/api/webhooks/${w.id}/secret`);
      secret = res.secret;
      noteExpiry(res);
      return secret;
    }
    revealBtn.addEventListener('click', async () => {
      if (revealed) { revealed = false; paintSecret(); return; }
      setBusy(revealBtn, true);
      try { await fetchSecret(); revealed = true; } catch (err) { toastError(err, 'Could not reveal the secret'); }
      setBusy(revealBtn, false);
      paintSecret();
    });
    secretCopy.addEventListener('click', async () => {
      try { copyText(secret || await fetchSecret(), 'Secret copied'); } catch (err) { toastError(err, 'Could not read the secret'); }
    });
    rotateBtn.addEventListener('click', async () => {
      const yes = await confirmDialog({
        title: 'Rotate the signing secret?',
        message: 'A new secret signs from now on. The current one keeps signing beside it (two signatures) for a grace period, so receivers can switch without dropping events.',
        confirm: 'Rotate secret', danger: true,
      });
      if (!yes) return;
      setBusy(rotateBtn, true);
      try {
        const res = await api('POST', `/api/webhooks/${w.id}/rotate-secret`);
        secret = res.secret;
        revealed = true;
        noteExpiry(res);
        toast('Signing secret rotated', 'success');
      } catch (err) {
        toastError(err, 'Rotate failed');
      }
      setBusy(rotateBtn, false);
      paintSecret();
    });

    $('#edit-delete', view).addEventListener('click', () => deleteWebhook(w, () => { location.hash = '#/webhooks'; }));

    // Delivery log
    let logOffset = 0;
    async function loadLog(offset) {
      logOffset = offset;
      let data;
      setBusy(refreshBtn, true);
      try {
        data = await api('GET', `/api/webhooks/${w.id}/attempts?limit=${LOG_PAGE_SIZE}&offset=${offset}`);
      } catch (err) {
        setBusy(refreshBtn, false);
        if (err.status !== 401 && live()) clear(logBody).append(el('div.empty', el('p', `Could not load the log: ${err.message}`)));
        return;
      }
      setBusy(refreshBtn, false);
      if (!live()) return;
      logCount.textContent = data.total ? `${data.total} ${data.total === 1 ? 'attempt' : 'attempts'}` : '';
      clear(logBody);
      if (!data.items.length) {
        logBody.append(el('div.empty#log-empty', el('h3', 'No attempts yet'),
          el('p', 'Send a test event, or publish an event this webhook subscribes to.')));
        return;
      }
      const tbody = el('tbody');
      const retryable = new Set(); // Retry once per delivery: on its newest attempt (rows are newest first).
      for (const a of data.items) {
        const offer = a.delivery_state === 'failed' && a.delivery_id && !retryable.has(a.delivery_id);
        if (offer) retryable.add(a.delivery_id);
        tbody.append(attemptRow(a, offer));
      }
      logBody.append(el('div.table-wrap', el('table.table.responsive#log-table',
        el('thead', el('tr', el('th', 'Time'), el('th', 'Event'), el('th.num', 'Attempt'), el('th', 'Status'),
          el('th.num', 'Duration'), el('th', 'Response'), el('th', ''))),
        tbody)));
      if (data.total > LOG_PAGE_SIZE) logBody.append(pager(data, LOG_PAGE_SIZE, loadLog, 'attempt'));
    }
    /** The log and the webhook's own fields (count, last failure, active) as they are now. */
    async function refresh() {
      try {
        const fresh = await api('GET', `/api/webhooks/${w.id}`);
        if (!live()) return;
        w = fresh;
        paint();
      } catch (err) {
        toastError(err, 'Could not reload the webhook');
      }
      await loadLog(logOffset);
    }
    refreshBtn.addEventListener('click', refresh);

    function attemptRow(a, offerRetry) {
      const ok = a.succeeded;
      const status = a.status_code
        ? el(`span.badge.${ok ? 'badge-green' : 'badge-red'}`, { title: statusText(a.status_code) }, String(a.status_code))
        : el('span.badge.badge-red', a.error || 'error');
      const errLine = !ok && (a.error || a.error_detail)
        ? el('div.log-error', [a.status_code && a.error ? a.error : null, a.error_detail].filter(Boolean).join(': '))
        : null;
      let retry = null;
      if (offerRetry) {
        retry = el('button.btn.btn-sm.log-retry', { type: 'button', title: 'Queue this delivery again with a fresh retry schedule' }, 'Retry');
        retry.addEventListener('click', async () => {
          setBusy(retry, true);
          try {
            await api('POST', `/api/deliveries/${a.delivery_id}/retry`);
            toast('Delivery queued for retry', 'success');
            loadLog(logOffset);
          } catch (err) {
            setBusy(retry, false);
            toastError(err, 'Retry failed');
          }
        });
      }
      const excerpt = a.response_excerpt || '';
      return el('tr', { dataset: { attemptId: a.attempt_id, test: a.test ? 'true' : 'false', status: a.status_code || '' } },
        el('td.time-cell', { 'data-label': 'Time' }, el('time', { datetime: a.started_at, title: fmtDate(a.started_at) }, logFmt.format(new Date(a.started_at)))),
        el('td', { 'data-label': 'Event' }, el('div.log-event', el('span.mono', a.event_type),
          a.test ? el('span.badge.badge-test', { title: 'Sent with Send Test Event' }, 'test') : null)),
        el('td.num', { 'data-label': 'Attempt' }, `#${a.attempt}`),
        el('td', { 'data-label': 'Status' }, el('div', status, errLine)),
        el('td.num.nowrap', { 'data-label': 'Duration' }, fmtDuration(a.duration_ms)),
        el('td', { 'data-label': 'Response' }, excerpt ? el('span.excerpt', { title: excerpt.slice(0, 500) }, excerpt) : el('span.muted', '—')),
        el('td', { 'data-label': retry ? 'Delivery' : '' }, retry));
    }

    paint();
    resetForm();
    paintSecret();
    loadLog(0);
  }

  // ---------- Event catalog ----------

  async function renderCatalog() {
    const { view, live } = beginRender('Event catalog');
    try {
      await loadEventTypes(true);
    } catch (err) {
      if (live() && err.status !== 401) renderError(view, err, 'Event catalog');
      return;
    }
    if (!live()) return;
    clear(view);
    const toggle = el('button.btn.btn-secondary#expand-all', { type: 'button' }, 'Expand all payloads');
    view.append(el('div.page-head',
      el('div', el('h1', 'Event catalog'),
        el('p.subtitle', `The ${state.eventTypes.length} event types a webhook can subscribe to, with the sample payload that Send Test Event posts. Publish one with INSERT INTO hookd.outbox (event_type, payload).`)),
      toggle));
    const list = el('div.catalog#catalog');
    for (const t of state.eventTypes) {
      const pre = el('pre.code', pretty(t.sample_payload));
      const keys = t.sample_payload && typeof t.sample_payload === 'object' ? Object.keys(t.sample_payload).length : 0;
      list.append(el('section.card.event-card', { id: `event-${t.slug}`, dataset: { slug: t.slug } },
        el('div.card-head', el('h2', t.name), el('span.pill', t.slug)),
        el('div.card-body',
          el('p.desc', t.description),
          el('details.disclosure',
            el('summary', `Sample payload (${keys} ${keys === 1 ? 'field' : 'fields'})`),
            el('div.code-wrap', pre,
              el('button.btn.btn-sm.btn-on-dark.code-copy', { type: 'button', on: { click: () => copyText(pre.textContent, 'Payload copied') } }, 'Copy'))))));
    }
    view.append(list);
    toggle.addEventListener('click', () => {
      const all = $$('details', list);
      const open = !all.every((d) => d.open);
      for (const d of all) d.open = open;
      toggle.textContent = open ? 'Collapse all payloads' : 'Expand all payloads';
    });
  }

  // ---------- Dialog plumbing ----------

  for (const dlg of $$('dialog')) {
    for (const btn of $$('[data-close]', dlg)) btn.addEventListener('click', () => dlg.close());
    // A click on the backdrop (outside the dialog box) closes it.
    dlg.addEventListener('click', (e) => {
      if (e.target !== dlg || dlg.id === 'confirm-dialog') return;
      const r = dlg.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) dlg.close();
    });
  }

  // ---------- Start ----------

  if (state.token) showApp();
  else showLogin(null);
})();
