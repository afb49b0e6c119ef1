// The fleet dashboard of one stack tag: every product's versions by stage, lifecycles in flight,
// recent failures and findings per version (view: lambdas/api/pages/dashboard_view.py).
(function () {
  var el = Page.el;

  function tiles(summary) {
    var box = el('div', 'tiles');
    summary.forEach(function (tile) {
      var node = el('div', 'tile');
      node.appendChild(el('b', null, tile.text));
      node.appendChild(el('span', null, tile.label));
      box.appendChild(node);
    });
    return box;
  }

  function versions(cell) {
    var box = el('div', 'c-' + cell.column);
    box.setAttribute('data-column', cell.column);
    cell.versions.forEach(function (version) {
      var node = el('div', 'version');
      node.setAttribute('data-semver', version.semver);
      node.appendChild(el('b', null, version.semver));
      node.appendChild(el('code', null, version.ami || 'no AMI yet'));
      node.appendChild(el('span', null, version.note));
      box.appendChild(node);
    });
    return box;
  }

  function trend(points) {
    var box = el('div', 'trend');
    if (!points.length) { box.appendChild(document.createTextNode('no scan yet')); }
    points.forEach(function (point, index) {
      if (index) { box.appendChild(document.createTextNode(' \u2192 ')); }
      box.appendChild(el('span', null, point.semver + ': ' + point.text));
    });
    return box;
  }

  function products(view) {
    var section = Page.section('Products and versions by stage');
    if (!view.products.length) {
      section.appendChild(el('p', 'muted', 'No lifecycle on this stack tag yet.'));
      return section;
    }
    var head = ['Product'].concat(view.columns.map(function (column) { return column.title; }), ['Findings by version']);
    var table = Page.grid(head, view.products.map(function (product) {
      return [el('b', null, product.name)].concat(product.cells.map(versions), [trend(product.findings)]);
    }), 'fleet');
    view.products.forEach(function (product, index) {
      table.rows[index + 1].setAttribute('data-product', product.name);
    });
    section.appendChild(table);
    return section;
  }

  function listing(title, empty, head, rows, name) {
    var section = Page.section(title, name);
    section.appendChild(rows.length ? Page.grid(head, rows) : el('p', 'muted', empty));
    return section;
  }

  Page.start(function (view, zoneNote) {
    var root = el('div', 'dashboard');
    root.appendChild(el('h1', null, view.title));
    root.appendChild(tiles(view.summary));
    root.appendChild(zoneNote);
    root.appendChild(products(view));
    root.appendChild(listing('In flight', 'Nothing is running.',
      ['Product', 'Version', 'Run', 'Event', 'Attempt', 'Started', 'Running for'],
      view.in_flight.map(function (item) {
        return [{text: item.product}, {text: item.semver}, {text: item.kind}, {text: item.title + ' (' + item.event + ')'},
          {text: String(item.attempt)}, {time: item.started_at}, {text: item.running_for}];
      }), 'in-flight'));
    root.appendChild(listing('Recent failures', 'No failure.',
      ['When', 'Product', 'Version', 'Event', 'Status', 'Reason'],
      view.failures.map(function (item) {
        return [{time: item.at}, {text: item.product}, {text: item.semver + ' (' + item.kind + ')'},
          {text: item.title + ' (' + item.event + ')'}, {text: item.status}, {text: item.reason}];
      }), 'failures'));
    if (view.note) { root.appendChild(el('p', 'muted', view.note)); }
    return root;
  });
})();
