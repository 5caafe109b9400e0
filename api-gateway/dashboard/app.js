/*
 * app.js — the Vectron dashboard (api-gateway/dashboard.h).
 *
 * Two halves. `vx` holds what has no DOM in it: the REST client, request
 * building and checking, the /metrics parser, formatting. startUi(doc, win)
 * wires it to index.html. Node loads both for tests
 * (tests/integration/dashboard_check.js): the helpers, and the page driven
 * through a stand-in DOM, against the real gateway.
 *
 * Invariants:
 *  - server data (ids, metadata, messages) reaches the page only through
 *    textContent, never as HTML: a stored value cannot run as code (the
 *    page's Content-Security-Policy forbids inline script as a second wall);
 *  - every URL is relative to the page, so the dashboard works behind a
 *    reverse proxy that mounts the gateway under a prefix;
 *  - the API key stays in this tab's sessionStorage and goes only into the
 *    Authorization header of the gateway's own routes.
 */
'use strict';

const vx = (function () {
  /* Same limits as the gateway (proto/vx_proto.h); checked here only to
   * answer before a round trip — the gateway checks them again. */
  const MAX_K = 1000;
  const POINTS_PAGE = 20;

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /* A REST client on top of fetchFn (window.fetch, or Node's). base ends
   * with '/'; getKey() returns the API key or ''. Every method resolves to
   * the parsed JSON answer or rejects with an ApiError carrying the
   * gateway's {"error": {code, message}}. */
  function makeApi(fetchFn, base, getKey) {
    async function call(method, path, body) {
      const headers = {};
      const key = getKey();
      if (key) headers['Authorization'] = 'Bearer ' + key;
      const init = { method, headers };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      let res;
      try {
        res = await fetchFn(base + path, init);
      } catch (e) {
        throw new ApiError(0, 'unreachable', 'the gateway did not answer: ' + e.message);
      }
      const text = await res.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
      if (!res.ok) {
        const err = json && json.error ? json.error : {};
        throw new ApiError(res.status, err.code || 'http_' + res.status,
                           err.message || text.slice(0, 200) || res.statusText);
      }
      return json !== null ? json : text;
    }
    const c = (name) => 'collections/' + encodeURIComponent(name);
    return {
      health: () => call('GET', 'health'),
      models: () => call('GET', 'models'),
      metrics: () => call('GET', 'metrics'),
      collections: () => call('GET', 'collections'),
      info: (name) => call('GET', c(name)),
      create: (name, settings) => call('PUT', c(name), settings),
      drop: (name) => call('DELETE', c(name)),
      points: (name, cursor) =>
        call('GET', c(name) + '/points?limit=' + POINTS_PAGE +
             (cursor ? '&cursor=' + encodeURIComponent(cursor) : '')),
      point: (name, id) => call('GET', c(name) + '/points/' + encodeURIComponent(id)),
      search: (name, body) => call('POST', c(name) + '/search', body),
    };
  }

  /* The create-collection body from the form's strings; throws an Error
   * naming the field. */
  function buildCreateBody(f) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(f.name))
      throw new Error('name: 1 to 64 letters, digits, "_" or "-"');
    const dimension = Number(f.dimension);
    if (!Number.isInteger(dimension) || dimension < 1)
      throw new Error('dimension: a whole number of at least 1');
    const body = { dimension, metric: f.metric, index: { type: f.index } };
    if (f.model) body.model = f.model;
    return body;
  }

  /* The search body from the form's strings; throws an Error naming the
   * field. mode is 'text' or 'vector'. */
  function buildSearchBody(f) {
    const body = {};
    if (f.mode === 'text') {
      if (!f.query.trim()) throw new Error('text: type something to search for');
      body.text = f.query;
    } else {
      let v;
      try { v = JSON.parse(f.query); } catch (e) { throw new Error('vector: not JSON (' + e.message + ')'); }
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number'))
        throw new Error('vector: a JSON array of numbers, e.g. [0.1, 0.2]');
      body.vector = v;
    }
    const k = Number(f.k);
    if (!Number.isInteger(k) || k < 1 || k > MAX_K)
      throw new Error('k: a whole number from 1 to ' + MAX_K);
    body.k = k;
    if (f.filter && f.filter.trim()) {
      let filter;
      try { filter = JSON.parse(f.filter); } catch (e) { throw new Error('filter: not JSON (' + e.message + ')'); }
      if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
        throw new Error('filter: a JSON object, e.g. {"lang": "en"}');
      body.filter = filter;
    }
    if (f.exact) body.exact = true;
    return body;
  }

  /* Prometheus text format → [{name, labels, value}]; comments skipped. */
  function parseMetrics(text) {
    const out = [];
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const l of text.split('\n')) {
      if (!l || l[0] === '#') continue;
      const m = line.exec(l);
      if (!m) continue;
      const labels = {};
      for (const lm of (m[2] || '').matchAll(label))
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, ch) => (ch === 'n' ? '\n' : ch));
      const v = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
      if (Number.isNaN(v) && m[3] !== 'NaN') continue; /* not a sample line */
      out.push({ name: m[1], labels, value: v });
    }
    return out;
  }

  /* The traffic table: [label, value-as-text] rows from parseMetrics. */
  function trafficRows(samples) {
    let total = 0, client = 0, server = 0;
    const gauges = {};
    for (const s of samples) {
      if (s.name === 'vectron_http_requests_total') {
        total += s.value;
        if (/^4/.test(s.labels.code || '')) client += s.value;
        if (/^5/.test(s.labels.code || '')) server += s.value;
      } else if (!Object.keys(s.labels).length) {
        gauges[s.name] = s.value;
      }
    }
    const rows = [
      ['HTTP requests', String(total)],
      ['answered 4xx', String(client)],
      ['answered 5xx', String(server)],
    ];
    if ('vectron_store_points' in gauges) rows.push(['points stored', String(gauges.vectron_store_points)]);
    if ('vectron_store_memory_bytes' in gauges)
      rows.push(['store memory', formatBytes(gauges.vectron_store_memory_bytes)]);
    if ('vectron_embed_cache_hits_total' in gauges)
      rows.push(['embedding cache hits', String(gauges.vectron_embed_cache_hits_total)]);
    return rows;
  }

  function formatBytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
  }

  /* "[0.1, -0.2, …] (512 numbers)": the first `head` components. */
  function vectorPreview(v, head = 8) {
    if (!Array.isArray(v)) return String(v);
    const shown = v.slice(0, head).map((x) => String(x)).join(', ');
    return '[' + shown + (v.length > head ? ', …' : '') + '] (' + v.length + ' numbers)';
  }

  return { ApiError, makeApi, buildCreateBody, buildSearchBody, parseMetrics, trafficRows,
           formatBytes, vectorPreview, MAX_K, POINTS_PAGE };
})();

/* Node (tests): the helpers, and startUi to drive with a stand-in DOM. */
if (typeof module !== 'undefined') module.exports = Object.assign({ startUi }, vx);

/* ---- the page ------------------------------------------------------------ */

function startUi(doc, win) {
  const $ = (id) => doc.getElementById(id);
  const KEY_SLOT = 'vectron.apiKey';
  const META_CHARS = 300; /* metadata shown per row in lists; the point view shows it all */
  const base = new URL('.', win.location.href).href;
  const api = vx.makeApi(win.fetch.bind(win), base, () => win.sessionStorage.getItem(KEY_SLOT) || '');
  let current = null; /* the collection shown: its info */
  let nextCursor = null;
  /* Every view change (another collection, another key) takes a new number;
   * an answer that arrives for an older view is dropped, so a slow answer
   * never lands in the pane of the collection opened after it. */
  let view = 0;
  let epoch = 0; /* the same for the key: what an older key's answers show is dropped */
  let lastHealth = '';

  function showError(e) {
    const box = $('error');
    if (!e) { box.hidden = true; box.textContent = ''; return; }
    const hint = e.status === 401 ? ' — enter an API key above'
               : e.status === 403 ? ' — use a key with that role' : '';
    box.textContent = (e.code ? e.code + ': ' : '') + e.message + hint;
    box.hidden = false;
  }
  function notice(text) {
    $('notice').textContent = text;
    $('notice').hidden = !text;
  }
  async function guarded(fn) {
    try { await fn(); showError(null); } catch (e) { showError(e); }
  }
  function cell(tr, text, cls) {
    const td = doc.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function fill(tbody, rows, build) {
    tbody.replaceChildren();
    for (const r of rows) {
      const tr = doc.createElement('tr');
      build(tr, r);
      tbody.appendChild(tr);
    }
  }
  const json = (v) => (v === undefined ? '' : JSON.stringify(v));
  const short = (t) => (t.length > META_CHARS ? t.slice(0, META_CHARS) + ' …' : t);
  /* A cell that acts like a link: click, or Enter when focused. */
  function clickable(el, fn) {
    el.tabIndex = 0;
    el.addEventListener('click', () => guarded(fn));
    el.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') guarded(fn); });
  }
  function clearDetail() {
    current = null;
    nextCursor = null;
    $('detail').hidden = true;
    $('results').tBodies[0].replaceChildren();
    $('points').tBodies[0].replaceChildren();
    $('s-took').textContent = '';
    $('point').hidden = true;
  }

  async function loadHealth() {
    const h = await api.health();
    $('version').textContent = 'v' + h.version;
    const badges = $('health');
    badges.replaceChildren();
    for (const [svc, state] of Object.entries(h.services || {})) {
      const b = doc.createElement('span');
      b.className = 'badge ' + (state === 'ok' ? 'ok' : 'bad');
      b.textContent = svc + ': ' + state;
      badges.appendChild(b);
    }
    const now = JSON.stringify(h.services || {});
    const changed = lastHealth && now !== lastHealth;
    lastHealth = now;
    if (changed) await guarded(loadModels); /* a service came back (or went): the models it lists */
  }

  async function loadCollections() {
    const my = epoch;
    const { collections } = await api.collections();
    if (my !== epoch) return;
    collections.sort((a, b) => a.name.localeCompare(b.name));
    $('no-collections').hidden = collections.length > 0;
    fill($('collections').tBodies[0], collections, (tr, c) => {
      clickable(cell(tr, c.name, 'link'), () => openCollection(c.name));
      cell(tr, String(c.count), 'num');
      cell(tr, String(c.dimension), 'num');
      cell(tr, c.metric);
      cell(tr, c.index ? c.index.type : '');
      cell(tr, vx.formatBytes(c.memory_bytes), 'num');
    });
    if (current && !collections.some((c) => c.name === current.name)) {
      view++;
      clearDetail();
      win.history.replaceState(null, '', '#');
    }
  }

  let modelDims = {};
  async function loadModels() {
    const my = epoch;
    let m;
    try {
      m = await api.models();
      if (my !== epoch) return;
    } catch (e) {
      if (my !== epoch) return;
      fill($('models').tBodies[0], [e], (tr) => { cell(tr, 'not available: ' + e.message, 'muted').colSpan = 4; });
      throw e;
    }
    const ids = Object.keys(m.models).sort();
    fill($('models').tBodies[0], ids, (tr, id) => {
      const info = m.models[id];
      cell(tr, id + (id === m.default ? ' (default)' : ''));
      cell(tr, info.provider);
      cell(tr, String(info.dimensions), 'num');
      cell(tr, info.available ? 'yes' : 'no: ' + (info.reason || ''));
    });
    modelDims = {};
    const sel = $('c-model');
    sel.replaceChildren(sel.options[0]);
    for (const id of ids.filter((i) => m.models[i].available)) {
      const o = doc.createElement('option');
      o.value = id;
      o.textContent = id + ' (' + m.models[id].dimensions + ')';
      sel.appendChild(o);
      modelDims[id] = m.models[id].dimensions;
    }
  }

  async function loadTraffic() {
    const my = epoch;
    const rows = vx.trafficRows(vx.parseMetrics(await api.metrics()));
    if (my !== epoch) return;
    fill($('traffic').tBodies[0], rows, (tr, r) => { cell(tr, r[0]); cell(tr, r[1], 'num'); });
  }

  async function openCollection(name) {
    const my = ++view;
    const info = await api.info(name);
    if (my !== view) return; /* another collection was opened meanwhile */
    clearDetail();
    current = info;
    win.history.replaceState(null, '', '#c=' + encodeURIComponent(name)); /* a link to this view */
    $('detail').hidden = false;
    $('d-name').textContent = current.name;
    const rows = [
      ['dimension', String(current.dimension)], ['metric', current.metric],
      ['index', json(current.index)], ['model', current.model || '(none)'],
      ['points', String(current.count)], ['memory', vx.formatBytes(current.memory_bytes)],
    ];
    fill($('d-info').tBodies[0], rows, (tr, r) => {
      const th = doc.createElement('th');
      th.textContent = r[0];
      tr.appendChild(th);
      cell(tr, r[1]);
    });
    $('s-mode').value = current.model ? 'text' : 'vector';
    await loadPoints(null);
  }

  async function loadPoints(cursor) {
    const my = view, name = current.name;
    const page = await api.points(name, cursor);
    if (my !== view) return;
    nextCursor = page.next_cursor || null;
    $('p-next').disabled = !nextCursor;
    $('point').hidden = true;
    fill($('points').tBodies[0], page.points, (tr, p) => {
      clickable(cell(tr, p.id, 'link'), () => showPoint(p.id));
      cell(tr, short(json(p.metadata)), 'meta');
    });
  }

  async function showPoint(id) {
    const my = view;
    const p = await api.point(current.name, id);
    if (my !== view) return;
    $('point').hidden = false;
    $('pt-id').textContent = p.id;
    $('pt-vector').textContent = vx.vectorPreview(p.vector);
    $('pt-meta').textContent = JSON.stringify(p.metadata, null, 2);
    if ($('point').scrollIntoView) $('point').scrollIntoView({ block: 'nearest' });
  }

  async function search() {
    const my = view;
    $('results').tBodies[0].replaceChildren(); /* a failed search must not leave the last answer up */
    $('s-took').textContent = '';
    const body = vx.buildSearchBody({
      mode: $('s-mode').value, query: $('s-query').value, k: $('s-k').value,
      filter: $('s-filter').value, exact: $('s-exact').checked,
    });
    $('s-took').textContent = 'searching…';
    let r;
    try {
      r = await api.search(current.name, body);
    } finally {
      if (my === view) $('s-took').textContent = '';
    }
    if (my !== view) return;
    $('s-took').textContent = r.results.length + ' results in ' + r.took_ms + ' ms' +
      (r.used_index === undefined ? '' : r.used_index ? ' (HNSW index)' : ' (exact scan)');
    fill($('results').tBodies[0], r.results.map((x, i) => [i + 1, x]), (tr, [rank, x]) => {
      cell(tr, String(rank), 'num');
      clickable(cell(tr, x.id, 'link'), () => showPoint(x.id));
      cell(tr, String(x.score), 'num');
      cell(tr, short(json(x.metadata)), 'meta');
    });
  }

  /* Each part loads on its own: a service that is down (say, the embed
   * service for the models table) leaves its part empty and its error
   * shown, not the whole page. The open collection is reloaded too. */
  async function refresh() {
    const parts = [loadHealth(), loadCollections(), loadModels(), loadTraffic()];
    if (current) parts.push(openCollection(current.name));
    const results = await Promise.allSettled(parts);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  $('key').value = win.sessionStorage.getItem(KEY_SLOT) || '';
  $('key-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $('key').value.trim();
    if (!/^[\x21-\x7e]*$/.test(key)) {
      showError(new vx.ApiError(0, '', 'API key: printable ASCII only (no spaces)'));
      return;
    }
    win.sessionStorage.setItem(KEY_SLOT, key);
    /* what the previous key could see goes away with it */
    epoch++;
    view++;
    clearDetail();
    for (const id of ['collections', 'models', 'traffic']) $(id).tBodies[0].replaceChildren();
    notice('');
    guarded(refresh);
  });
  $('refresh').addEventListener('click', () => guarded(refresh));
  $('c-model').addEventListener('change', () => {
    const dim = modelDims[$('c-model').value];
    if (dim) $('c-dim').value = String(dim); /* a model fixes the dimension */
  });
  $('create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(async () => {
      const name = $('c-name').value.trim();
      const created = await api.create(name, vx.buildCreateBody({
        name, dimension: $('c-dim').value, metric: $('c-metric').value,
        index: $('c-index').value, model: $('c-model').value,
      }));
      notice(created.count ? 'Collection "' + name + '" already exists with these settings (' + created.count +
                             ' points).' : 'Created collection "' + name + '".');
      $('create-form').reset();
      await loadCollections();
      await openCollection(name);
    });
  });
  $('d-delete').addEventListener('click', () => guarded(async () => {
    const name = current.name;
    const typed = win.prompt('This deletes every point of "' + name + '". Type its name to confirm:');
    if (typed !== name) {
      notice(typed === null ? '' : 'Not deleted: "' + typed + '" is not the collection\'s name.');
      return;
    }
    await api.drop(name);
    notice('Deleted collection "' + name + '".');
    await loadCollections();
  }));
  $('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); guarded(search); });
  $('p-first').addEventListener('click', () => guarded(() => loadPoints(null)));
  $('p-next').addEventListener('click', () => guarded(() => loadPoints(nextCursor)));

  const linkedName = () => {
    const m = /^#c=(.+)$/.exec(win.location.hash || '');
    return m ? decodeURIComponent(m[1]) : null;
  };
  if (win.addEventListener) {
    win.addEventListener('hashchange', () => {
      const name = linkedName();
      if (name && (!current || current.name !== name)) guarded(() => openCollection(name));
    });
  }
  const linked = linkedName();
  guarded(async () => {
    let failed = null; /* a part that did not load (say, models) does not stop the link */
    await refresh().catch((e) => { failed = e; });
    if (linked) await openCollection(linked);
    if (failed) throw failed;
  });
  win.setInterval(() => {
    if (!doc.hidden) loadHealth().then(() => loadTraffic()).catch(showError);
  }, 5000);
}

if (typeof document !== 'undefined') document.addEventListener('DOMContentLoaded', () => startUi(document, window));
