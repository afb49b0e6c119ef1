// The timeline of one lifecycle: a step graphic of its events, progress, facts, next step, and each
// event's times, attempts and details (view: lambdas/api/pages/timeline_view.py).
(function () {
  var el = Page.el;
  var MARK = {COMPLETED: '\u2713', IN_PROGRESS: '\u2026', FAILED: '\u2715', ERROR: '!', NOT_STARTED: ''};

  function steps(events) {
    var list = el('ol', 'steps');
    events.forEach(function (event, index) {
      var item = el('li', 'step s-' + event.status + (event.requested ? '' : ' skipped'));
      item.setAttribute('data-step', event.name);
      item.appendChild(el('span', 'dot', MARK[event.status] || String(index + 1)));
      item.appendChild(el('span', 'step-title', event.title));
      item.appendChild(el('span', 'step-status', event.status_text + (event.duration ? ' \u00b7 ' + event.duration : '')));
      list.appendChild(item);
    });
    return list;
  }

  function attempts(earlier) {
    var list = el('ul', 'attempts');
    earlier.forEach(function (attempt) {
      var text = 'Attempt ' + attempt.attempt + ': ' + attempt.status + ', ' + Page.time(attempt.started_at) +
        ' to ' + Page.time(attempt.ended_at) + (attempt.duration ? ' (' + attempt.duration + ')' : '') +
        (attempt.reason ? ': ' + attempt.reason : '');
      list.appendChild(el('li', null, text));
    });
    return list;
  }

  function event(item) {
    var node = el('li', 'event s-' + item.status);
    node.setAttribute('data-event', item.name);
    node.setAttribute('data-status', item.status);
    var head = el('div', 'event-head');
    head.appendChild(el('b', null, item.title));
    head.appendChild(el('span', 'code', item.name));
    head.appendChild(el('span', 'status', item.status_text));
    node.appendChild(head);
    var rows = [];
    if (item.started_at) { rows.push({label: 'Started', time: item.started_at}); }
    if (item.ended_at) { rows.push({label: 'Ended', time: item.ended_at}); }
    if (item.duration) { rows.push({label: 'Duration', text: item.duration}); }
    if (item.attempt > 1) { rows.push({label: 'Attempt', text: item.attempt + ' (' + (item.attempt - 1) + ' earlier)'}); }
    if (item.reason) { rows.push({label: 'Reason', text: item.reason}); }
    rows = rows.concat(item.details);
    if (rows.length) { node.appendChild(Page.facts(rows, 'details')); }
    if (item.earlier_attempts.length) { node.appendChild(attempts(item.earlier_attempts)); }
    return node;
  }

  Page.start(function (view, zoneNote) {
    var root = el('div', 'timeline');
    root.appendChild(el('h1', null, view.title));
    var state = el('p', 'state k-' + view.state.kind, view.state.text);
    state.id = 'state';
    root.appendChild(state);
    var progress = el('div', 'progress'), bar = document.createElement('progress');
    bar.max = view.progress.total;
    bar.value = view.progress.done;
    progress.appendChild(bar);
    var count = el('span', 'progress-text', view.progress.text);
    count.id = 'progress';
    progress.appendChild(count);
    root.appendChild(progress);
    root.appendChild(steps(view.events));
    root.appendChild(zoneNote);
    var about = Page.section('Lifecycle');
    about.appendChild(Page.facts(view.header, 'facts'));
    root.appendChild(about);
    if (view.patch) {
      var patch = Page.section('Patch', 'patch');
      patch.appendChild(Page.facts(view.patch, 'facts'));
      root.appendChild(patch);
    }
    if (view.next_step.length) {
      var next = Page.section('Next step', 'next');
      next.appendChild(Page.lines(view.next_step));
      root.appendChild(next);
    }
    var events = Page.section('Events');
    var list = el('ol', 'events');
    view.events.forEach(function (item) { list.appendChild(event(item)); });
    events.appendChild(list);
    root.appendChild(events);
    return root;
  });
})();
