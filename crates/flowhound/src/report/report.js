(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var D = JSON.parse(document.getElementById('report-data').textContent);

  // ---- DOM helpers: data only ever goes through textContent ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function s(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }
  function tip(node, text) { var t = document.createElementNS(NS, 'title'); t.textContent = text; node.appendChild(t); return node; }
  function txt(parent, x, y, text, anchor, extra) {
    var t = s('text', Object.assign({ x: x, y: y, 'text-anchor': anchor || 'start' }, extra || {}), parent);
    t.textContent = String(text);
    return t;
  }
  function $(id) { return document.getElementById(id); }
  function fmtBytes(n) {
    if (n === null || n === undefined || !isFinite(n)) return '-';
    var u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], i = 0, v = Math.abs(n);
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (n < 0 ? '-' : '') + (i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : 1)) + ' ' + u[i];
  }
  function fmtNum(n) { return (n === null || n === undefined) ? '-' : Number(n).toLocaleString('en-US'); }
  function fmtSecs(x) { return x >= 3600 ? (x / 3600).toFixed(1) + ' h' : x >= 60 ? (x / 60).toFixed(1) + ' min' : x.toFixed(1) + ' s'; }
  function note(parent, text) { parent.appendChild(el('p', 'note', text)); }
  function kvTable(rows) {
    var t = el('table', 'kv');
    rows.forEach(function (r) { var tr = el('tr'); tr.appendChild(el('td', null, r[0])); tr.appendChild(el('td', r[2] || null, r[1])); t.appendChild(tr); });
    return t;
  }
  function chartBox(parent, id, title) {
    var box = el('div', 'chart'); box.id = id; box.setAttribute('data-chart', id);
    box.appendChild(el('h3', null, title)); parent.appendChild(box); return box;
  }
  function legend(box, items) {
    var l = el('div', 'legend');
    items.forEach(function (it) { var sp = el('span'); var i = el('i'); i.style.background = it[1]; sp.appendChild(i); sp.appendChild(document.createTextNode(it[0])); l.appendChild(sp); });
    box.appendChild(l);
  }

  // ---- generic charts ----
  function frame(box, W, H, m) {
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img' }, box);
    return { svg: svg, x0: m[3], x1: W - m[1], y0: H - m[2], y1: m[0], W: W, H: H };
  }
  function axes(f, xlabel, ylabel, yTicks, yPos, yFmt) {
    var g = s('g', { 'class': 'axis' }, f.svg), gr = s('g', { 'class': 'grid' }, f.svg);
    s('line', { x1: f.x0, y1: f.y0, x2: f.x1, y2: f.y0 }, g);
    s('line', { x1: f.x0, y1: f.y0, x2: f.x0, y2: f.y1 }, g);
    yTicks.forEach(function (v) {
      var y = yPos(v);
      s('line', { x1: f.x0, y1: y, x2: f.x1, y2: y }, gr);
      txt(g, f.x0 - 4, y + 4, yFmt(v), 'end');
    });
    txt(g, (f.x0 + f.x1) / 2, f.H - 4, xlabel, 'middle');
    txt(g, 12, (f.y0 + f.y1) / 2, ylabel, 'middle', { transform: 'rotate(-90 12 ' + ((f.y0 + f.y1) / 2) + ')' });
    return g;
  }
  function niceTicks(max, n) {
    if (!(max > 0)) return [0];
    var step = Math.pow(10, Math.floor(Math.log10(max / n))), r = max / n / step;
    step *= r > 5 ? 10 : r > 2 ? 5 : r > 1 ? 2 : 1;
    var out = []; for (var v = 0; v <= max * 1.0001; v += step) out.push(v); return out;
  }

  function barChart(box, rows, unitFmt, valueLabel) {
    if (!rows.length) { note(box, 'no data'); return; }
    var W = 560, rowH = 18, m = [10, 70, 30, 170], H = m[0] + m[2] + rows.length * rowH;
    var f = frame(box, W, H, m);
    var max = Math.max.apply(null, rows.map(function (r) { return r.value; })) || 1;
    var xs = function (v) { return f.x0 + (f.x1 - f.x0) * v / max; };
    var g = s('g', { 'class': 'axis' }, f.svg);
    s('line', { x1: f.x0, y1: f.y0, x2: f.x1, y2: f.y0 }, g);
    niceTicks(max, 4).forEach(function (v) { txt(g, xs(v), f.y0 + 14, unitFmt(v), 'middle'); });
    txt(g, (f.x0 + f.x1) / 2, H - 2, valueLabel, 'middle');
    rows.forEach(function (r, i) {
      var y = m[0] + i * rowH;
      var label = r.label.length > 26 ? r.label.slice(0, 25) + '\u2026' : r.label;
      txt(f.svg, f.x0 - 4, y + 13, label, 'end');
      var b = s('rect', { 'class': 'bar', x: f.x0, y: y + 2, width: Math.max(1, xs(r.value) - f.x0), height: rowH - 4 }, f.svg);
      tip(b, r.label + ': ' + r.title);
      txt(f.svg, xs(r.value) + 4, y + 13, unitFmt(r.value));
    });
  }
  function countBars(box, list, byFlows) {
    var rows = (list || []).map(function (c) {
      return { label: c.key, value: byFlows ? c.flows : c.bytes, title: fmtNum(c.flows) + ' flows, ' + fmtBytes(c.bytes) };
    });
    barChart(box, rows, byFlows ? fmtNum : fmtBytes, byFlows ? 'flows' : 'bytes (up + down)');
  }

  function logHist(box, series, thresholds, xlabel) {
    var all = []; series.forEach(function (sr) { all = all.concat(sr.bins); });
    if (!all.length) { note(box, 'no data'); return; }
    var lx = function (v) { return v <= 0 ? -0.25 : Math.log10(v); };
    var lo = Math.min.apply(null, all.map(function (b) { return lx(b.lo); }));
    var hi = Math.max.apply(null, all.map(function (b) { return lx(b.hi); }));
    thresholds.forEach(function (t) { if (t.value_bytes > 0) hi = Math.max(hi, lx(t.value_bytes) + 0.1); });
    var ymax = Math.log10(1 + Math.max.apply(null, all.map(function (b) { return b.count; })));
    var f = frame(box, 560, 260, [12, 30, 36, 56]);
    var xs = function (v) { return f.x0 + (f.x1 - f.x0) * (lx(v) - lo) / (hi - lo || 1); };
    var ys = function (c) { return f.y0 - (f.y0 - f.y1) * Math.log10(1 + c) / (ymax || 1); };
    var yt = []; for (var p = 0; Math.pow(10, p) <= Math.pow(10, ymax); p++) yt.push(Math.pow(10, p));
    var g = axes(f, xlabel, 'flows (log scale)', yt, ys, fmtNum);
    for (var d = Math.ceil(lo); d <= Math.floor(hi); d++) txt(g, xs(Math.pow(10, d)), f.y0 + 14, fmtBytes(Math.pow(10, d)), 'middle');
    series.forEach(function (sr) {
      var path = '';
      sr.bins.forEach(function (b, i) {
        var x0 = xs(b.lo), x1 = xs(b.hi), y = ys(b.count);
        path += (i === 0 ? 'M' + x0 + ' ' + f.y0 + ' L' : ' L') + x0 + ' ' + y + ' L' + x1 + ' ' + y;
        var r = s('rect', { x: x0, y: f.y1, width: Math.max(1, x1 - x0), height: f.y0 - f.y1, fill: 'transparent' }, f.svg);
        tip(r, sr.name + ': ' + fmtNum(b.count) + ' flows with ' + fmtBytes(b.lo) + ' to ' + fmtBytes(b.hi));
      });
      if (sr.bins.length) path += ' L' + xs(sr.bins[sr.bins.length - 1].hi) + ' ' + f.y0;
      s('path', { d: path, 'class': sr.cls }, f.svg);
    });
    thresholds.forEach(function (t, i) {
      if (!(t.value_bytes > 0)) return;
      var x = xs(t.value_bytes);
      tip(s('line', { x1: x, y1: f.y0, x2: x, y2: f.y1, 'class': 'thr' }, f.svg), t.rule + ': ' + fmtBytes(t.value_bytes));
      txt(f.svg, x + 3, f.y1 + 10 + 12 * i, t.rule, 'start', { fill: '#c0392b' });
    });
    legend(box, series.map(function (sr) { return [sr.name, sr.color]; }).concat(thresholds.length ? [['learned thresholds', '#c0392b']] : []));
  }

  function lineChart(box, series, opt) {
    var pts = []; series.forEach(function (sr) { pts = pts.concat(sr.points); });
    if (!pts.length) { note(box, 'no data'); return; }
    var xmin = Math.min.apply(null, pts.map(function (p) { return p[0]; })), xmax = Math.max.apply(null, pts.map(function (p) { return p[0]; }));
    var ymax = Math.max.apply(null, pts.map(function (p) { return p[1]; }).concat((opt.hlines || []).map(function (h) { return h.y; }))) || 1;
    var f = frame(box, opt.width || 560, opt.height || 240, [12, 30, 36, 64]);
    var xs = function (v) { return f.x0 + (f.x1 - f.x0) * (v - xmin) / ((xmax - xmin) || 1); };
    var ys = function (v) { return f.y0 - (f.y0 - f.y1) * v / ymax; };
    var g = axes(f, opt.xlabel, opt.ylabel, niceTicks(ymax, 4), ys, opt.yfmt);
    opt.xticks(xmin, xmax).forEach(function (v) { txt(g, xs(v), f.y0 + 14, opt.xfmt(v), 'middle'); });
    series.forEach(function (sr) {
      var d = sr.points.map(function (p, i) { return (i ? 'L' : 'M') + xs(p[0]) + ' ' + ys(p[1]); }).join(' ');
      s('path', { d: d, 'class': sr.cls }, f.svg);
      sr.points.forEach(function (p) { tip(s('circle', { cx: xs(p[0]), cy: ys(p[1]), r: 3, 'class': sr.cls }, f.svg), sr.name + ' ' + opt.xfmt(p[0]) + ': ' + opt.yfmt(p[1])); });
    });
    (opt.hlines || []).forEach(function (h) {
      tip(s('line', { x1: f.x0, y1: ys(h.y), x2: f.x1, y2: ys(h.y), 'class': h.cls }, f.svg), h.label + ': ' + opt.yfmt(h.y));
    });
    legend(box, series.map(function (sr) { return [sr.name, sr.color]; }).concat((opt.hlines || []).map(function (h) { return [h.label, h.color]; })));
  }

  function linearHist(box, bins, xlabel, median) {
    if (!bins.length) { note(box, 'no data'); return; }
    var f = frame(box, 460, 200, [12, 30, 36, 56]);
    var lo = bins[0].lo, hi = bins[bins.length - 1].hi;
    var ymax = Math.max.apply(null, bins.map(function (b) { return b.count; })) || 1;
    var xs = function (v) { return f.x0 + (f.x1 - f.x0) * (v - lo) / ((hi - lo) || 1); };
    var ys = function (v) { return f.y0 - (f.y0 - f.y1) * v / ymax; };
    var g = axes(f, xlabel, 'intervals', niceTicks(ymax, 4), ys, fmtNum);
    [lo, (lo + hi) / 2, hi].forEach(function (v) { txt(g, xs(v), f.y0 + 14, fmtSecs(v), 'middle'); });
    bins.forEach(function (b) {
      var r = s('rect', { 'class': 'bar', x: xs(b.lo) + 0.5, y: ys(b.count), width: Math.max(1, xs(b.hi) - xs(b.lo) - 1), height: f.y0 - ys(b.count) }, f.svg);
      tip(r, fmtNum(b.count) + ' intervals of ' + fmtSecs(b.lo) + ' to ' + fmtSecs(b.hi));
    });
    if (isFinite(median)) tip(s('line', { x1: xs(median), y1: f.y0, x2: xs(median), y2: f.y1, 'class': 'base' }, f.svg), 'median interval: ' + fmtSecs(median));
  }

  function graphChart(box, nodes, edges, hosts, size) {
    if (!edges.length) { note(box, 'no edges'); return; }
    var W = size || 560, H = W, cx = W / 2, cy = H / 2, R = W / 2 - 90;
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'class': 'graph' }, box);
    svg.style.maxWidth = W + 'px';
    var pos = {};
    nodes.forEach(function (n, i) { var a = 2 * Math.PI * i / nodes.length; pos[n] = [cx + R * Math.cos(a), cy + R * Math.sin(a), a]; });
    var wmax = Math.max.apply(null, edges.map(function (e) { return e.w; })) || 1;
    edges.forEach(function (e) {
      var a = pos[e.a], b = pos[e.b]; if (!a || !b) return;
      var l = s('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], 'class': e.isNew ? 'edge edge-new' : 'edge', 'stroke-width': e.isNew ? 2.5 : 0.5 + 2.5 * e.w / wmax }, svg);
      tip(l, e.a + ' \u2192 ' + e.b + ': ' + fmtNum(e.w) + ' flows' + (e.isNew ? ' (new: absent in the baseline)' : ''));
    });
    nodes.forEach(function (n) {
      var p = pos[n];
      tip(s('circle', { cx: p[0], cy: p[1], r: 4, 'class': hosts[n] ? 'node node-host' : 'node' }, svg), n);
      if (nodes.length <= 60) {
        var deg = p[2] * 180 / Math.PI, flip = deg > 90 && deg < 270;
        var lx = p[0] + (flip ? -7 : 7) * 1, t = txt(svg, lx, p[1] + 3, n, flip ? 'end' : 'start', { transform: 'rotate(' + (flip ? deg - 180 : deg) + ' ' + p[0] + ' ' + p[1] + ')' });
        t.setAttribute('class', 'mono');
      }
    });
  }

  // ---- sections ----
  var F = D.doc.findings || [];
  function span(a, b) { return (a || '?') + ' \u2013 ' + (b || '?'); }

  function summary() {
    var sec = $('summary'), doc = D.doc, inp = doc.input || {};
    var cards = el('div', 'cards');
    [['flows read', fmtNum(inp.rows_read)], ['rows skipped', fmtNum(inp.rows_skipped)], ['findings', fmtNum(F.length)]].forEach(function (c) {
      var d = el('div', 'card'); d.appendChild(el('b', null, c[1])); d.appendChild(document.createTextNode(c[0])); cards.appendChild(d);
    });
    ['critical', 'high', 'medium', 'low'].forEach(function (sv) {
      var d = el('div', 'card'); d.setAttribute('data-severity', sv);
      d.appendChild(el('b', null, fmtNum((doc.per_severity || {})[sv] || 0))); d.appendChild(el('span', 'sev sev-' + sv, sv)); cards.appendChild(d);
    });
    sec.appendChild(cards);
    var b = doc.baseline || {};
    var rows = [['test input', (inp.files || []).join(', ')], ['time span', span(inp.first_seen, inp.last_seen)],
      ['baseline', (b.source || '?') + ': ' + (b.inputs || []).join(', ') + ' (' + fmtNum(b.flows) + ' flows)'],
      ['detectors', (doc.detectors || []).join(', ')], ['generator', doc.generator || '']];
    (D.settings || []).forEach(function (kv) { rows.push([kv[0], kv[1]]); });
    sec.appendChild(el('h3', null, 'Data and settings'));
    sec.appendChild(kvTable(rows));
    sec.appendChild(el('h3', null, 'Top hosts (combined score of their findings)'));
    var top = doc.top_hosts || [];
    if (!top.length) { note(sec, 'no host was blamed'); return; }
    var t = el('table'); t.id = 'top-hosts';
    var hr = el('tr'); ['host', 'score', 'findings', 'kinds'].forEach(function (h) { hr.appendChild(el('th', null, h)); }); t.appendChild(hr);
    top.slice(0, 10).forEach(function (h) {
      var tr = el('tr'); tr.appendChild(el('td', 'mono', h.host)); tr.appendChild(el('td', 'num', h.score.toFixed(2)));
      tr.appendChild(el('td', 'num', h.findings)); tr.appendChild(el('td', null, (h.kinds || []).join(', '))); t.appendChild(tr);
    });
    sec.appendChild(t);
  }

  var COLS = [['id', 'id', false], ['severity', 'severity', false], ['score', 'score', true], ['kind', 'kind', false], ['detector', 'detector', false],
    ['hosts', 'hosts', false], ['peers', 'peers', false], ['flows', 'flows', true], ['first seen', 'first_seen', false], ['explanation', 'explanation', false]];
  var SEVRANK = { low: 0, medium: 1, high: 2, critical: 3 };
  function sortKey(f, key) {
    if (key === 'id') return parseInt(String(f.id).replace(/\D/g, ''), 10) || 0;
    if (key === 'severity') return SEVRANK[f.severity] || 0;
    if (key === 'hosts' || key === 'peers') return (f[key] || []).join(' ');
    if (key === 'explanation') return (f.evidence || {}).explanation || '';
    var v = f[key]; return v === null || v === undefined ? '' : v;
  }
  function peerList(f) {
    return (f.peers || []).map(function (p) { var e = (f.enrichment || {})[p] || {}; return p + (e.country ? ' (' + e.country + ')' : ''); });
  }
  function peerText(f) { return peerList(f).join(', '); }
  function short(list, n) { return list.slice(0, n).join(', ') + (list.length > n ? ' +' + (list.length - n) + ' more' : ''); }
  function evidenceTable(ev) {
    var rows = [['metric', ev.metric], ['observed', fmtNum(ev.observed)], ['baseline', ev.baseline === null || ev.baseline === undefined ? '-' : fmtNum(ev.baseline)],
      ['threshold', ev.threshold === null || ev.threshold === undefined ? '-' : fmtNum(ev.threshold)], ['explanation', ev.explanation]];
    Object.keys(ev.details || {}).forEach(function (k) { var v = ev.details[k]; rows.push([k, typeof v === 'string' ? v : JSON.stringify(v)]); });
    return kvTable(rows);
  }
  function enrichTable(f) {
    var t = el('table'); var hr = el('tr');
    ['address', 'country', 'AS', 'organisation', 'name'].forEach(function (h) { hr.appendChild(el('th', null, h)); }); t.appendChild(hr);
    Object.keys(f.enrichment || {}).forEach(function (ip) {
      var e = f.enrichment[ip], tr = el('tr');
      tr.appendChild(el('td', 'mono', ip)); tr.appendChild(el('td', null, e.country || '')); tr.appendChild(el('td', null, e.asn ? 'AS' + e.asn : ''));
      tr.appendChild(el('td', 'org', e.org || '')); tr.appendChild(el('td', 'mono ptr', e.name || '')); t.appendChild(tr);
    });
    return t;
  }
  function findingChart(box, f) {
    var c = (D.charts || {})[f.id];
    if (!c) { note(box, 'no chart for this finding: see the evidence table'); return; }
    var cb = chartBox(box, 'chart-' + f.id, '');
    cb.classList.add('finding-chart');
    if (c.type === 'intervals') {
      cb.firstChild.textContent = 'Time between consecutive flows (median ' + fmtSecs(c.median_secs) + ')';
      linearHist(cb, c.bins, 'seconds between flows', c.median_secs);
    } else if (c.type === 'upload') {
      cb.firstChild.textContent = 'Bytes sent by ' + c.host + ' per ' + fmtSecs(c.window_secs) + ' window, against its baseline';
      var hl = [];
      if (c.baseline_bytes !== null && c.baseline_bytes !== undefined) hl.push({ y: c.baseline_bytes, label: 'baseline (normal per window)', cls: 'base', color: '#2a9d55' });
      if (c.threshold_bytes !== null && c.threshold_bytes !== undefined) hl.push({ y: c.threshold_bytes, label: 'limit', cls: 'thr', color: '#c0392b' });
      lineChart(cb, [{ name: 'sent', points: c.points, cls: 's-test', color: '#2f6fb3' }], {
        xlabel: 'time (UTC)', ylabel: 'bytes sent', yfmt: fmtBytes, hlines: hl, height: 200, width: 460,
        xfmt: function (v) { return new Date(v * 1000).toISOString().slice(5, 16).replace('T', ' '); },
        xticks: function (a, b) { return a === b ? [a] : [a, (a + b) / 2, b]; }
      });
    } else if (c.type === 'members') {
      cb.firstChild.textContent = 'Members and who talked to whom';
      var hosts = {}; (f.hosts || []).forEach(function (h) { hosts[h] = true; });
      graphChart(cb, c.nodes, c.edges.map(function (e) { return { a: e[0], b: e[1], w: e[2], isNew: false }; }), hosts, 420);
    }
  }
  function detailRow(f) {
    var tr = el('tr', 'detail hidden'), td = el('td'); td.colSpan = COLS.length; tr.appendChild(td);
    tr.setAttribute('data-for', f.id);
    var grid = el('div', 'grid'), left = el('div');
    left.appendChild(el('h3', null, 'Evidence')); left.appendChild(evidenceTable(f.evidence || {}));
    (f.other_evidence || []).forEach(function (ev, i) { left.appendChild(el('h3', null, 'Other evidence ' + (i + 1))); left.appendChild(evidenceTable(ev)); });
    left.appendChild(el('h3', null, 'Addresses')); left.appendChild(enrichTable(f));
    if ((f.related || []).length) left.appendChild(el('p', null, 'Related findings: ' + f.related.join(', ')));
    var right = el('div'); findingChart(right, f);
    grid.appendChild(left); grid.appendChild(right); td.appendChild(grid);
    return tr;
  }
  function findingRow(f) {
    var tr = el('tr', 'finding'); tr.setAttribute('data-id', f.id); tr.setAttribute('data-severity', f.severity); tr.tabIndex = 0;
    tr.appendChild(el('td', 'mono', f.id));
    var sv = el('td'); sv.appendChild(el('span', 'sev sev-' + f.severity, f.severity)); tr.appendChild(sv);
    tr.appendChild(el('td', 'num', Number(f.score).toFixed(2)));
    tr.appendChild(el('td', null, f.kind)); tr.appendChild(el('td', null, f.detector));
    tr.appendChild(el('td', 'mono', short(f.hosts || [], 4))); tr.appendChild(el('td', 'mono', short(peerList(f), 3)));
    tr.appendChild(el('td', 'num', fmtNum(f.flows))); tr.appendChild(el('td', null, f.first_seen || ''));
    tr.appendChild(el('td', null, (f.evidence || {}).explanation || ''));
    return tr;
  }
  function findings() {
    var sec = $('findings');
    if (!F.length) { note(sec, 'no findings'); return; }
    var ctl = el('div', 'controls'), q = el('input'); q.id = 'filter'; q.type = 'search'; q.placeholder = 'filter: host, kind, country, text\u2026';
    var sel = el('select'); sel.id = 'severity-filter';
    ['any severity', 'low', 'medium', 'high', 'critical'].forEach(function (v, i) { var o = el('option', null, i ? '\u2265 ' + v : v); o.value = i ? v : ''; sel.appendChild(o); });
    var count = el('span', 'note'); count.id = 'shown-count';
    ctl.appendChild(q); ctl.appendChild(sel); ctl.appendChild(count); sec.appendChild(ctl);
    var t = el('table'); t.id = 'findings-table';
    var thead = el('thead'), hr = el('tr');
    COLS.forEach(function (c) { var th = el('th', 'sortable' + (c[2] ? ' num' : ''), c[0]); th.setAttribute('data-key', c[1]); hr.appendChild(th); });
    thead.appendChild(hr); t.appendChild(thead);
    var tbody = el('tbody'); t.appendChild(tbody); sec.appendChild(t);
    var pairs = F.map(function (f) { return { f: f, row: findingRow(f), detail: detailRow(f) }; });
    pairs.forEach(function (p) {
      p.row.addEventListener('click', function () { p.detail.classList.toggle('hidden'); p.row.setAttribute('aria-expanded', p.detail.classList.contains('hidden') ? 'false' : 'true'); });
      p.row.addEventListener('keydown', function (e) { if (e.key === 'Enter') p.row.click(); });
    });
    function apply() {
      var needle = q.value.toLowerCase(), min = sel.value ? SEVRANK[sel.value] : -1, shown = 0;
      tbody.textContent = '';
      pairs.forEach(function (p) {
        var ok = (SEVRANK[p.f.severity] || 0) >= min && (!needle || p.row.textContent.toLowerCase().indexOf(needle) >= 0 || (peerText(p.f) + ' ' + (p.f.hosts || []).join(' ')).toLowerCase().indexOf(needle) >= 0);
        p.row.classList.toggle('hidden', !ok); if (!ok) p.detail.classList.add('hidden'); else shown++;
        tbody.appendChild(p.row); tbody.appendChild(p.detail);
      });
      count.textContent = shown + ' of ' + pairs.length + ' findings shown';
    }
    hr.addEventListener('click', function (e) {
      var th = e.target.closest('th'); if (!th) return;
      var key = th.getAttribute('data-key'), dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      Array.prototype.forEach.call(hr.children, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir);
      var sign = dir === 'ascending' ? 1 : -1;
      pairs.sort(function (a, b) {
        var x = sortKey(a.f, key), y = sortKey(b.f, key);
        var c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
        return sign * c || sortKey(a.f, 'id') - sortKey(b.f, 'id');
      });
      apply();
    });
    q.addEventListener('input', apply); sel.addEventListener('change', apply);
    apply();
  }

  function traffic() {
    var sec = $('traffic'), N = D.normal, T = D.test;
    if (!N && !T) { note(sec, 'Traffic charts need the flows: run `flowhound analyze ... --html FILE`, or `flowhound report FINDINGS.json --test ... [--normal ...]`.'); return; }
    var grid = el('div', 'grid'); sec.appendChild(grid);
    function series(metric) {
      var out = [];
      if (N) out.push({ name: 'normal', bins: N[metric], cls: 's-normal', color: '#8a94a6' });
      if (T) out.push({ name: 'test', bins: T[metric], cls: 's-test', color: '#2f6fb3' });
      return out;
    }
    var thr = function (m) { return (D.thresholds || []).filter(function (t) { return t.metric === m; }); };
    logHist(chartBox(grid, 'chart-up', 'Upload bytes per flow (log scale) with learned thresholds'), series('up_hist'), thr('up_bytes'), 'up_bytes per flow');
    logHist(chartBox(grid, 'chart-down', 'Download bytes per flow (log scale) with learned thresholds'), series('down_hist'), thr('down_bytes'), 'down_bytes per flow');
    var hs = [];
    [[N, 'normal', 's-normal', '#8a94a6'], [T, 'test', 's-test', '#2f6fb3']].forEach(function (x) {
      if (!x[0]) return;
      var tot = x[0].by_hour_flows.reduce(function (a, b) { return a + b; }, 0) || 1;
      hs.push({ name: x[1], cls: x[2], color: x[3], points: x[0].by_hour_flows.map(function (v, h) { return [h, 100 * v / tot]; }) });
    });
    lineChart(chartBox(grid, 'chart-hours', 'Normal vs test traffic by hour of day (share of each period\'s flows)'), hs, {
      xlabel: 'hour of day (UTC)', ylabel: '% of flows', yfmt: function (v) { return v.toFixed(1) + ' %'; },
      xfmt: function (v) { return (v < 10 ? '0' : '') + v + ':00'; }, xticks: function () { return [0, 6, 12, 18, 23]; }
    });
    var src = T || N, which = T ? 'test' : 'normal';
    countBars(chartBox(grid, 'chart-talkers', 'Top talkers (' + which + ', by bytes)'), src.top_talkers, false);
    countBars(chartBox(grid, 'chart-ports', 'Destination ports (' + which + ', by bytes)'), src.ports, false);
    countBars(chartBox(grid, 'chart-protocols', 'Protocol mix (' + which + ', flows)'), src.protocols, true);
    countBars(chartBox(grid, 'chart-countries', 'Countries of external peers (' + which + ', by bytes)'), src.countries, false);
    countBars(chartBox(grid, 'chart-asns', 'Autonomous systems of external peers (' + which + ', by bytes)'), src.asns, false);
  }

  function graph() {
    var sec = $('graph'), E = D.graph || [];
    if (!E.length) { note(sec, D.test ? 'no internal-to-internal traffic' : 'The graph needs the test flows.'); return; }
    var nodes = [], seen = {};
    E.forEach(function (e) { [e.src, e.dst].forEach(function (n) { if (!seen[n]) { seen[n] = true; nodes.push(n); } }); });
    nodes.sort();
    var nNew = E.filter(function (e) { return e.new; }).length;
    sec.appendChild(el('p', null, E.length + ' internal pairs shown, ' + nNew + ' of them new (absent in the baseline, in red).'));
    var box = chartBox(sec, 'chart-graph', 'Internal communication graph');
    graphChart(box, nodes, E.map(function (e) { return { a: e.src, b: e.dst, w: e.flows, isNew: e.new }; }), {}, 720);
    legend(box, [['known pair', '#aab3c2'], ['new pair', '#c0392b']]);
    if (nNew) {
      var t = el('table'); t.id = 'new-edges'; var hr = el('tr');
      ['client', 'server side', 'flows'].forEach(function (h) { hr.appendChild(el('th', null, h)); }); t.appendChild(hr);
      E.filter(function (e) { return e.new; }).slice(0, 50).forEach(function (e) {
        var tr = el('tr'); tr.appendChild(el('td', 'mono', e.src)); tr.appendChild(el('td', 'mono', e.dst)); tr.appendChild(el('td', 'num', fmtNum(e.flows))); t.appendChild(tr);
      });
      sec.appendChild(el('h3', null, 'New internal pairs')); sec.appendChild(t);
    }
  }

  function attribution() {
    var sec = $('attribution'), A = D.attribution || [];
    if (!A.length) { note(sec, 'Geo data attribution: see `flowhound geo info`.'); return; }
    var ul = el('ul'); A.forEach(function (a) { ul.appendChild(el('li', null, a)); }); sec.appendChild(ul);
  }

  [summary, findings, traffic, graph, attribution].forEach(function (fn) { fn(); });
  document.body.setAttribute('data-ready', 'true');
})();
