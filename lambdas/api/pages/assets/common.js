'use strict';
// Shared by the timeline page and the fleet dashboard (lambdas/api/pages/html.py). Every value reaches
// the DOM through textContent; the page is drawn by one function, on load and after each update.
var Page = (function () {
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  // One format everywhere on the page, in the viewer's time zone (named once, by zone()).
  function time(iso) {
    if (!iso) { return '-'; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return iso; }
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function zone() {
    var offset = -new Date().getTimezoneOffset(), abs = Math.abs(offset);
    var name = (Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time');
    return name + ' (UTC' + (offset < 0 ? '-' : '+') + pad(Math.floor(abs / 60)) + ':' + pad(abs % 60) + ')';
  }
  function cell(tag, row) {
    var node = el(tag, null, row.time ? time(row.time) : (row.text === null || row.text === undefined ? '-' : row.text));
    if (row.field) { node.setAttribute('data-field', row.field); }
    return node;
  }
  // rows: [{label, text | time, field?}]
  function facts(rows, className) {
    var table = el('table', className);
    rows.forEach(function (row) {
      var tr = el('tr');
      tr.appendChild(el('th', null, row.label));
      tr.appendChild(cell('td', row));
      table.appendChild(tr);
    });
    return table;
  }
  // head: column titles; rows: arrays of {text | time} or DOM nodes
  function grid(head, rows, className) {
    var table = el('table', className), tr = el('tr');
    head.forEach(function (title) { tr.appendChild(el('th', null, title)); });
    table.appendChild(tr);
    rows.forEach(function (row) {
      var line = el('tr');
      row.forEach(function (value) {
        if (value instanceof Node) { var td = el('td'); td.appendChild(value); line.appendChild(td); }
        else { line.appendChild(cell('td', value)); }
      });
      table.appendChild(line);
    });
    return table;
  }
  function section(title, className) {
    var node = el('section', className);
    node.appendChild(el('h2', null, title));
    return node;
  }
  // Lines of text; a line indented by two spaces is a command, shown as code.
  function lines(texts) {
    var box = el('div');
    texts.forEach(function (line) {
      box.appendChild(line.indexOf('  ') === 0 ? el('code', null, line.trim()) : el('p', null, line));
    });
    return box;
  }
  // draw(view, zoneNote) -> the page's content; zoneNote names the viewer's time zone.
  function start(draw) {
    var app = document.getElementById('app'), live = document.getElementById('live');
    var every = parseInt(document.body.getAttribute('data-refresh-ms'), 10) || 5000;
    var token = new URLSearchParams(location.search).get('token') || '';
    var dataUrl = location.pathname + '/data?token=' + encodeURIComponent(token);
    function show(view) {
      app.replaceChildren(draw(view, el('p', 'muted zone', 'Times are shown in ' + zone() + '.')));
    }
    function refresh() {
      fetch(dataUrl, {cache: 'no-store', credentials: 'omit'}).then(function (response) {
        if (response.status === 401) { live.textContent = 'This link has expired or is invalid: ask for a new one.'; return null; }
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      }).then(function (view) {
        if (view === null) { return; }
        show(view);
        live.textContent = 'Live: updated ' + time(new Date().toISOString());
        setTimeout(refresh, every);
      }).catch(function (error) {
        live.textContent = 'Live updates paused (' + error.message + '); retrying.';
        setTimeout(refresh, every * 2);
      });
    }
    show(JSON.parse(app.getAttribute('data-view')));
    setTimeout(refresh, every);
  }
  return {el: el, time: time, facts: facts, grid: grid, section: section, lines: lines, start: start};
})();
