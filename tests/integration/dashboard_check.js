/*
 * dashboard_check.js — runs the dashboard's own code (the `vx` half of
 * api-gateway/dashboard/app.js, as the gateway served it) against a running
 * gateway, so the page's requests and its reading of the answers are checked
 * against the real API. Called by test_dashboard.py:
 *
 *   node dashboard_check.js BASE_URL APP_JS_FILE [ADMIN_KEY]
 *
 * BASE_URL ends with '/'. With ADMIN_KEY the gateway has API keys: the
 * checks run with it, and a client without a key must get 401 from the data
 * routes. Prints one line per check; exits 1 on the first failure.
 */
'use strict';
const assert = require('assert');
const path = require('path');

const [base, appPath, key = ''] = process.argv.slice(2);
const vx = require(path.resolve(appPath)); /* no `document` here: the page half stays idle */
assert.ok(vx && vx.makeApi, 'app.js did not export its vx helpers');

function throwsNaming(fn, field) {
  assert.throws(fn, (e) => e.message.startsWith(field + ':'), 'expected an error naming ' + field);
}

async function rejectsWith(promise, status, code) {
  try {
    await promise;
  } catch (e) {
    assert.strictEqual(e.status, status, 'status: ' + e.message);
    assert.strictEqual(e.code, code, 'code: ' + e.message);
    assert.ok(e.message.length > 0, 'the gateway\'s message is kept');
    return;
  }
  assert.fail('expected HTTP ' + status + ' ' + code);
}

function checkPureHelpers() {
  const ok = vx.buildSearchBody({ mode: 'vector', query: '[1, 2.5, -3e-2]', k: '7',
                                  filter: '{"lang": {"$in": ["en", "fr"]}}', exact: true });
  assert.deepStrictEqual(ok,
                         { vector: [1, 2.5, -0.03], k: 7, filter: { lang: { $in: ['en', 'fr'] } }, exact: true });
  const text = vx.buildSearchBody({ mode: 'text', query: 'hello', k: '10', filter: '  ', exact: false });
  assert.deepStrictEqual(text, { text: 'hello', k: 10 });
  throwsNaming(() => vx.buildSearchBody({ mode: 'vector', query: '[1,', k: '1' }), 'vector');
  throwsNaming(() => vx.buildSearchBody({ mode: 'vector', query: '[1, "x"]', k: '1' }), 'vector');
  throwsNaming(() => vx.buildSearchBody({ mode: 'vector', query: '[]', k: '1' }), 'vector');
  throwsNaming(() => vx.buildSearchBody({ mode: 'text', query: '   ', k: '1' }), 'text');
  for (const k of ['0', '-1', '2.5', 'x', String(vx.MAX_K + 1)])
    throwsNaming(() => vx.buildSearchBody({ mode: 'text', query: 'a', k }), 'k');
  throwsNaming(() => vx.buildSearchBody({ mode: 'text', query: 'a', k: '1', filter: '[1]' }), 'filter');
  throwsNaming(() => vx.buildSearchBody({ mode: 'text', query: 'a', k: '1', filter: '{' }), 'filter');
  throwsNaming(() => vx.buildCreateBody({ name: 'a/b', dimension: '3' }), 'name');
  throwsNaming(() => vx.buildCreateBody({ name: 'x'.repeat(65), dimension: '3' }), 'name');
  throwsNaming(() => vx.buildCreateBody({ name: 'ok', dimension: '0' }), 'dimension');

  const m = vx.parseMetrics('# HELP x y\nvectron_http_requests_total{route="/a\\"b",code="404"} 3\n' +
                            'vectron_store_points 12\n\nbad line\nx_bucket{le="+Inf"} +Inf\n');
  assert.strictEqual(m.length, 3);
  assert.strictEqual(m[2].value, Infinity);
  assert.deepStrictEqual(m[0],
                         { name: 'vectron_http_requests_total', labels: { route: '/a"b', code: '404' }, value: 3 });
  const rows = Object.fromEntries(vx.trafficRows(m));
  assert.strictEqual(rows['HTTP requests'], '3');
  assert.strictEqual(rows['answered 4xx'], '3');
  assert.strictEqual(rows['points stored'], '12');
  assert.strictEqual(vx.formatBytes(0), '0 B');
  assert.strictEqual(vx.formatBytes(1536), '1.50 KiB');
  assert.strictEqual(vx.formatBytes(5 * 1024 * 1024 * 1024), '5.00 GiB');
  assert.strictEqual(vx.vectorPreview([1, 2, 3], 2), '[1, 2, …] (3 numbers)');
  console.log('ok pure helpers');
}

async function checkAgainstGateway() {
  const api = vx.makeApi(fetch, base, () => key);
  const health = await api.health();
  assert.strictEqual(health.services.store, 'ok', JSON.stringify(health)); /* embed may be off */

  const name = 'dashboard_check';
  const created = await api.create(name, vx.buildCreateBody({ name, dimension: '3', metric: 'l2', index: 'flat', model: '' }));
  assert.strictEqual(created.dimension, 3);
  await rejectsWith(api.create(name, { dimension: 4, metric: 'l2', index: { type: 'flat' } }), 409, 'conflict');

  const points = [];
  for (let i = 0; i < 45; i++)
    points.push({ id: ['a/b', 'é ü', 'sp ace'][i] || 'p' + i, vector: [i, -i / 4, 0.5], metadata: { i, even: i % 2 === 0 } });
  const headers = { 'Content-Type': 'application/json' };
  if (key) headers.Authorization = 'Bearer ' + key;
  const up = await fetch(base + 'collections/' + name + '/points', { method: 'POST', headers, body: JSON.stringify({ points }) });
  assert.strictEqual(up.status, 200, await up.text());

  const list = await api.collections();
  const mine = list.collections.find((c) => c.name === name);
  assert.ok(mine && mine.count === 45, JSON.stringify(list));
  const info = await api.info(name);
  assert.strictEqual(info.count, 45);

  /* the page's "Next page" walk sees every point once */
  const seen = [];
  let cursor = null, pages = 0;
  do {
    const page = await api.points(name, cursor);
    assert.ok(page.points.length <= vx.POINTS_PAGE);
    seen.push(...page.points.map((p) => p.id));
    cursor = page.next_cursor || null;
    pages++;
  } while (cursor && pages < 100);
  assert.deepStrictEqual(seen.slice().sort(), points.map((p) => p.id).sort());
  assert.ok(pages >= Math.ceil(45 / vx.POINTS_PAGE), 'pages: ' + pages);

  const p = await api.point(name, 'a/b');
  assert.deepStrictEqual(p.vector, [0, 0, 0.5]); /* JSON.stringify sent -0 as 0 */
  assert.strictEqual((await api.point(name, 'é ü')).metadata.i, 1);
  await rejectsWith(api.point(name, 'missing'), 404, 'not_found');

  /* a search as the form builds it: exact, filtered, l2 ascending */
  const q = [10, 0, 0];
  const r = await api.search(name, vx.buildSearchBody({ mode: 'vector', query: JSON.stringify(q), k: '5',
                                                       filter: '{"even": true}', exact: true }));
  const dist = (v) => Math.hypot(v[0] - q[0], v[1] - q[1], v[2] - q[2]);
  const want = points.filter((x) => x.metadata.even).sort((a, b) => dist(a.vector) - dist(b.vector)).slice(0, 5);
  assert.deepStrictEqual(r.results.map((x) => x.id), want.map((x) => x.id));
  for (let i = 0; i < 5; i++)
    assert.ok(Math.abs(r.results[i].score - dist(want[i].vector)) < 1e-4, JSON.stringify(r.results[i]));
  assert.ok(typeof r.took_ms === 'number');
  await rejectsWith(api.search(name, { vector: [1, 2], k: 1 }), 400, 'invalid_argument');

  if (health.services.embed === 'ok') {
    const models = await api.models();
    assert.ok(models.default in models.models, JSON.stringify(models));
  } else { /* the page shows this error in the models table and goes on */
    await rejectsWith(api.models(), 503, 'embedding_unavailable');
  }
  const traffic = Object.fromEntries(vx.trafficRows(vx.parseMetrics(await api.metrics())));
  assert.ok(Number(traffic['HTTP requests']) > 0, JSON.stringify(traffic));
  assert.ok(Number(traffic['answered 4xx']) >= 3, JSON.stringify(traffic));

  await api.drop(name);
  await rejectsWith(api.info(name), 404, 'not_found');
  console.log('ok dashboard client against the gateway');

  if (key) {
    const anon = vx.makeApi(fetch, base, () => '');
    assert.strictEqual((await anon.health()).services.store, 'ok');
    await rejectsWith(anon.collections(), 401, 'unauthorized');
    console.log('ok without a key: health only');
  }
}

/* ---- the page, through a stand-in DOM ------------------------------------
 * Just what startUi uses. getElementById knows exactly the ids of the page
 * the gateway served, so an id app.js needs and the page lacks fails here. */
class El {
  constructor(tag, id) {
    Object.assign(this, { tagName: tag, id, children: [], textContent: '', hidden: false, value: '',
                          checked: false, disabled: false, className: '', tabIndex: -1, listeners: {} });
  }
  appendChild(c) { this.children.push(c); return c; }
  replaceChildren(...cs) { this.children = cs.filter((c) => c !== undefined); }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  fire(type, ev = {}) { for (const fn of this.listeners[type] || []) fn(Object.assign({ preventDefault() {} }, ev)); }
  get tBodies() { return [this.tbody = this.tbody || new El('tbody')]; }
  get options() { return this.children; }
  reset() {}
  rows() { return this.tBodies[0].children.map((tr) => tr.children.map((td) => td.textContent)); }
}

function standInPage(html) {
  const els = {};
  for (const m of html.matchAll(/<(\w+)([^>]*)>/g)) {
    const id = /\bid="([^"]+)"/.exec(m[2]);
    if (!id) continue;
    const el = els[id[1]] = new El(m[1], id[1]);
    const value = /\bvalue="([^"]*)"/.exec(m[2]);
    Object.assign(el, { hidden: /\shidden\b/.test(m[2]), disabled: /\sdisabled\b/.test(m[2]),
                        value: value ? value[1] : '' });
  }
  const doc = { hidden: false, getElementById: (id) => els[id] || null, createElement: (tag) => new El(tag) };
  const store = {};
  const winListeners = {};
  const win = {
    location: { href: base + 'dashboard', hash: '' }, fetch: (...a) => win.fetchImpl(...a), fetchImpl: fetch,
    confirmAnswer: null,
    addEventListener(type, fn) { (winListeners[type] = winListeners[type] || []).push(fn); },
    fire(type) { for (const fn of winListeners[type] || []) fn({}); },
    history: { replaceState(state, title, url) { win.location.hash = url; } },
    sessionStorage: { getItem: (k) => (k in store ? store[k] : null), setItem: (k, v) => { store[k] = String(v); } },
    setInterval: () => 0, prompt() { return win.confirmAnswer; },
  };
  return { els, doc, win };
}

async function until(what, cond) {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail('the page did not get to: ' + what);
}

async function checkPage() {
  const html = await (await fetch(base + 'dashboard')).text();
  const { els, doc, win } = standInPage(html);
  const headers = { 'Content-Type': 'application/json' };
  if (key) headers.Authorization = 'Bearer ' + key;
  const name = 'dashboard_page';
  let r = await fetch(base + 'collections/' + name, { method: 'PUT', headers,
                                                       body: JSON.stringify({ dimension: 3, metric: 'dot', index: { type: 'flat' } }) });
  assert.strictEqual(r.status, 201, await r.text());
  const points = [];
  for (let i = 0; i < 25; i++) points.push({ id: 'q' + i, vector: [i, 1, 0], metadata: { tag: i < 5 ? 'top' : 'rest' } });
  r = await fetch(base + 'collections/' + name + '/points', { method: 'POST', headers, body: JSON.stringify({ points }) });
  assert.strictEqual(r.status, 200, await r.text());
  const other = name + '_other';
  r = await fetch(base + 'collections/' + other, { method: 'PUT', headers, body: JSON.stringify({ dimension: 2 }) });
  assert.strictEqual(r.status, 201, await r.text());
  const cellOf = (table, text) => els[table].tBodies[0].children.map((tr) => tr.children[0])
    .find((td) => td.textContent === text);
  const infoRow = (label) => (els['d-info'].rows().find((c) => c[0] === label) || [])[1];

  if (key) { /* no key yet: the page says what to do */
    vx.startUi(doc, win);
    await until('an auth error', () => !els.error.hidden);
    assert.ok(/unauthorized: .*enter an API key/.test(els.error.textContent), els.error.textContent);
    els.key.value = ' ' + key + ' ';
    els['key-form'].fire('submit');
  } else {
    vx.startUi(doc, win);
  }
  const row = () => els.collections.rows().find((cells) => cells[0] === name);
  await until('the collection list', () => row());
  assert.deepStrictEqual(row(), [name, '25', '3', 'dot', 'flat', row()[5]]);
  await until('the version', () => els.version.textContent.startsWith('v'));
  await until('the traffic table', () => els.traffic.rows().length >= 3);
  await until('the refresh settled', () => els.error.hidden || !/unauthorized/.test(els.error.textContent));
  const embedUp = (await vx.makeApi(fetch, base, () => '').health()).services.embed === 'ok';
  if (embedUp) {
    assert.ok(els.error.hidden, 'error shown: ' + els.error.textContent);
  } else { /* one part down: its error is shown, the rest of the page is there */
    assert.ok(/^embedding_unavailable: /.test(els.error.textContent), els.error.textContent);
    assert.ok(/^not available: /.test(els.models.rows()[0][0]), JSON.stringify(els.models.rows()));
  }

  /* open it: info, first page of points, next page */
  els.collections.tBodies[0].children.find((tr) => tr.children[0].textContent === name).children[0].fire('click');
  await until('the points page', () => !els.detail.hidden && els.points.rows().length === vx.POINTS_PAGE);
  assert.strictEqual(els['d-name'].textContent, name);
  assert.strictEqual(win.location.hash, '#c=' + name, 'the view has a link');
  assert.strictEqual(els['s-mode'].value, 'vector', 'no model: the search box takes a vector');
  assert.ok(!els['p-next'].disabled);
  els['p-next'].fire('click');
  await until('the last page', () => els.points.rows().length === 25 - vx.POINTS_PAGE);
  await until('no next page', () => els['p-next'].disabled);
  const pointCell = els.points.tBodies[0].children[0].children[0];
  pointCell.fire('keydown', { key: 'Enter' }); /* the keyboard opens it too */
  await until('the point', () => !els.point.hidden);
  assert.strictEqual(els['pt-id'].textContent, pointCell.textContent);
  assert.ok(els['pt-vector'].textContent.endsWith('(3 numbers)'), els['pt-vector'].textContent);

  /* search: dot product with [1, 0, 0] ranks by i; the filter keeps i < 5 */
  Object.assign(els['s-query'], { value: '[1, 0, 0]' });
  els['s-k'].value = '3';
  els['s-filter'].value = '{"tag": "top"}';
  els['search-form'].fire('submit');
  await until('the results', () => els.results.rows().length === 3);
  assert.deepStrictEqual(els.results.rows().map((c) => [c[0], c[1], c[2]]), [['1', 'q4', '4'], ['2', 'q3', '3'], ['3', 'q2', '2']]);
  assert.ok(els['s-took'].textContent.startsWith('3 results in'), els['s-took'].textContent);
  els.results.tBodies[0].children[0].children[1].fire('click'); /* a hit opens its point */
  await until('the hit\'s point', () => els['pt-id'].textContent === 'q4');
  els['s-k'].value = '0';
  els['search-form'].fire('submit');
  await until('the k error', () => !els.error.hidden);
  assert.ok(els.error.textContent.startsWith('k:'), els.error.textContent);
  assert.strictEqual(els.results.rows().length, 0, 'a failed search left the last answer up');

  /* a slow answer for the collection left behind is not shown in the next one */
  els['s-k'].value = '3';
  win.fetchImpl = (u, i) => (String(u).endsWith('/search')
    ? new Promise((res) => setTimeout(res, 400)).then(() => fetch(u, i)) : fetch(u, i));
  els['search-form'].fire('submit');
  cellOf('collections', other).fire('click');
  await until('the other collection', () => els['d-name'].textContent === other);
  await new Promise((res) => setTimeout(res, 700));
  win.fetchImpl = fetch;
  assert.strictEqual(els.results.rows().length, 0, 'results of the previous collection shown');
  assert.ok(!/results in/.test(els['s-took'].textContent), els['s-took'].textContent);

  /* refresh reloads the open collection */
  cellOf('collections', name).fire('click');
  await until('back', () => els['d-name'].textContent === name && infoRow('points') === '25');
  r = await fetch(base + 'collections/' + name + '/points', { method: 'POST', headers,
    body: JSON.stringify({ points: [{ id: 'late', vector: [0, 0, 1] }] }) });
  assert.strictEqual(r.status, 200);
  els.refresh.fire('click');
  await until('the new count', () => infoRow('points') === '26');

  /* delete needs the name typed back */
  win.confirmAnswer = 'something else';
  els['d-delete'].fire('click');
  await until('a word on it', () => /^Not deleted/.test(els.notice.textContent) && !els.notice.hidden);
  assert.ok(row(), 'deleted without confirmation');
  win.confirmAnswer = name;
  els['d-delete'].fire('click');
  await until('the collection gone', () => !row() && els.detail.hidden);
  assert.strictEqual(win.location.hash, '#');
  assert.strictEqual(els.notice.textContent, 'Deleted collection "' + name + '".');

  if (embedUp) { /* a model fixes the dimension */
    els['c-model'].value = 'use-lite';
    els['c-model'].fire('change');
    assert.strictEqual(els['c-dim'].value, '512');
  }

  /* create through the form */
  Object.assign(els['c-name'], { value: name + '_new' });
  els['c-dim'].value = '8';
  els['c-metric'].value = 'l2';
  els['c-index'].value = 'hnsw';
  els['c-model'].value = '';
  els['create-form'].fire('submit');
  await until('the new collection open', () => els['d-name'].textContent === name + '_new');
  assert.strictEqual(els.notice.textContent, 'Created collection "' + name + '_new".');
  const info = await (await fetch(base + 'collections/' + name + '_new', { headers })).json();
  assert.deepStrictEqual([info.dimension, info.metric, info.index.type], [8, 'l2', 'hnsw']);
  r = await fetch(base + 'collections/' + name + '_new', { method: 'DELETE', headers });
  assert.strictEqual(r.status, 200);
  /* a link to a collection opens it */
  r = await fetch(base + 'collections/' + name + '_link', { method: 'PUT', headers,
                                                            body: JSON.stringify({ dimension: 2, metric: 'l2' }) });
  assert.strictEqual(r.status, 201, await r.text());
  const linked = standInPage(html);
  linked.win.location.hash = '#c=' + name + '_link';
  if (key) linked.win.sessionStorage.setItem('vectron.apiKey', key);
  vx.startUi(linked.doc, linked.win);
  await until('the linked collection open', () => linked.els['d-name'].textContent === name + '_link');
  linked.win.location.hash = '#c=' + other; /* a link followed in the open tab */
  linked.win.fire('hashchange');
  await until('the followed link', () => linked.els['d-name'].textContent === other);
  r = await fetch(base + 'collections/' + name + '_link', { method: 'DELETE', headers });
  assert.strictEqual(r.status, 200);

  if (key) { /* another key: what the last one could see goes */
    els.key.value = 'not-a-key-0123456789abcdef';
    els['key-form'].fire('submit');
    assert.strictEqual(els.collections.rows().length, 0, 'the previous key\'s collections still shown');
    assert.ok(els.detail.hidden);
    await until('the auth error', () => /^unauthorized/.test(els.error.textContent));
    els.key.value = 'ключ';
    els['key-form'].fire('submit');
    assert.ok(/^API key: printable ASCII/.test(els.error.textContent), els.error.textContent);
  }
  r = await fetch(base + 'collections/' + other, { method: 'DELETE', headers });
  assert.strictEqual(r.status, 200);
  console.log('ok the page, driven through a stand-in DOM');
}

checkPureHelpers();
checkAgainstGateway().then(checkPage).catch((e) => {
  console.error('FAIL ' + (e.stack || e));
  process.exit(1);
});
