// TaskSupervisor dashboard. Every text that comes from the server (keys, names, messages) is written with textContent,
// never parsed as markup; the page has no inline script and loads nothing from another origin.
'use strict';

(function () {
  const reconnectMs = 2000;
  const state = {
    session: null,
    supervisor: '',
    status: '',
    keyPrefix: '',
    order: 'oldest',
    skip: 0,
    take: 50,
    total: 0,
    armedKey: null,
    source: null,
    reconnectTimer: 0,
  };

  const $ = (id) => document.getElementById(id);
  const numbers = new Intl.NumberFormat('en-US');
  // The task table's rows by task id, for the supervisor shown.
  const rows = new Map();

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function formatAge(ms) {
    const s = ms / 1000;
    if (s < 60) return s.toFixed(1) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' m ' + Math.floor(s % 60) + ' s';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' m';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  function setConnection(kind) {
    const node = $('connection');
    node.dataset.state = kind;
    node.textContent = kind === 'live' ? 'Live' : kind === 'disconnected' ? 'Disconnected — reconnecting…' : 'Connecting…';
  }

  function query() {
    const q = new URLSearchParams();
    if (state.supervisor) q.set('supervisor', state.supervisor);
    if (state.status) q.set('status', state.status);
    if (state.keyPrefix) q.set('keyPrefix', state.keyPrefix);
    q.set('order', state.order);
    q.set('skip', String(state.skip));
    q.set('take', String(state.take));
    return q.toString();
  }

  // One stream per view: changing a filter or the page opens a new stream with the new query.
  function connect() {
    clearTimeout(state.reconnectTimer);
    if (state.source) state.source.close();
    setConnection('connecting');
    const source = new EventSource('api/events?' + query());
    state.source = source;
    source.addEventListener('open', () => { if (state.source === source) setConnection('live'); });
    source.addEventListener('update', (event) => {
      if (state.source !== source) return;
      setConnection('live');
      render(JSON.parse(event.data));
    });
    source.addEventListener('error', () => {
      if (state.source !== source) return;
      setConnection('disconnected');
      // The browser retries a dropped stream by itself; a refused one (an error status) it abandons, so retry here.
      if (source.readyState === EventSource.CLOSED) {
        state.reconnectTimer = setTimeout(connect, reconnectMs);
      }
    });
  }

  function render(update) {
    renderSupervisors(update.supervisors);
    if (update.tasks) renderTasks(update.tasks);
    if (update.failures) renderFailures(update.failures);
  }

  function renderSupervisors(supervisors) {
    const cards = supervisors.map((s) => {
      const card = el('button', 'card');
      card.type = 'button';
      card.dataset.supervisor = s.name;
      card.setAttribute('aria-pressed', String(s.name === state.supervisor));
      const title = el('h3', null, s.name);
      if (s.draining) title.append(el('span', 'badge draining', 'draining'));
      else if (s.closed) title.append(el('span', 'badge draining', 'closed'));
      else title.append(el('span', 'badge', 'accepting'));
      card.append(title);

      const facts = el('dl');
      const fact = (label, value) => { facts.append(el('dt', null, label), el('dd', null, value)); };
      fact('Running', numbers.format(s.running) + (s.maxConcurrency ? ' / ' + numbers.format(s.maxConcurrency) : ''));
      fact('Pending', numbers.format(s.pending) + (s.maxPending !== undefined && s.maxPending !== null ? ' / ' + numbers.format(s.maxPending) : ''));
      fact('Tracked', numbers.format(s.tracked));
      if (s.lastDrain) {
        const d = s.lastDrain;
        fact('Last drain', numbers.format(d.tasksAtStart) + ' tasks in ' + Math.round(d.elapsedMs) + ' ms: ' + numbers.format(d.completed) + ' completed, '
          + numbers.format(d.canceled) + ' canceled, ' + numbers.format(d.faulted + d.timedOut) + ' failed, ' + numbers.format(d.stragglers) + ' stragglers');
      }
      card.append(facts);

      const r = s.recent;
      const outcomes = el('div', 'outcomes');
      outcomes.title = 'Outcomes in the last ' + formatAge(r.windowSeconds * 1000);
      const chip = (label, value, bad) => outcomes.append(el('span', 'outcome' + (bad && value > 0 ? ' bad' : ''), label + ' ' + numbers.format(value)));
      chip('completed', r.completed, false);
      chip('canceled', r.canceled, false);
      chip('faulted', r.faulted, true);
      chip('timed out', r.timedOut, true);
      chip('given up', r.gaveUp, true);
      card.append(outcomes);

      card.addEventListener('click', () => {
        if (state.supervisor === s.name) return;
        state.supervisor = s.name;
        state.skip = 0;
        $('failures').replaceChildren();
        rows.clear();
        $('tasks-body').replaceChildren();
        connect();
      });
      return card;
    });
    $('supervisors').replaceChildren(...cards);
  }

  function renderTasks(page) {
    if (!state.supervisor) state.supervisor = page.supervisor;
    $('tasks-supervisor').textContent = '(' + page.supervisor + ')';
    state.total = page.total;
    const info = $('page-info');
    info.dataset.total = String(page.total);
    info.textContent = page.total === 0
      ? 'No tasks'
      : numbers.format(page.skip + 1) + '–' + numbers.format(page.skip + page.items.length) + ' of ' + numbers.format(page.total);
    $('page-prev').disabled = page.skip === 0;
    $('page-next').disabled = page.skip + page.take >= page.total;

    // Rows are kept by task id and only their changed texts are rewritten, so that a button under the pointer is never
    // replaced between the press and the release of a click.
    const seen = new Set();
    const ordered = page.items.map((t) => {
      let entry = rows.get(t.id);
      if (!entry) {
        entry = createRow(t);
        rows.set(t.id, entry);
      }
      updateRow(entry, t);
      seen.add(t.id);
      return entry.row;
    });
    for (const id of Array.from(rows.keys())) {
      if (!seen.has(id)) rows.delete(id);
    }
    const body = $('tasks-body');
    const current = body.children;
    if (current.length !== ordered.length || ordered.some((row, i) => current[i] !== row)) {
      body.replaceChildren(...ordered);
    }
  }


  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function createRow(t) {
    const entry = {
      row: el('tr'),
      key: el('td', 'key', t.key ?? '—'),
      name: el('td', 'name', t.name ?? ''),
      status: el('span', 'status'),
      age: el('td', 'num'),
      restarts: el('td', 'num'),
      error: el('td', 'error'),
      actions: el('td', 'actions-col'),
      button: null,
    };
    entry.row.dataset.id = String(t.id);
    if (t.key !== undefined && t.key !== null) entry.row.dataset.key = t.key;
    const status = el('td');
    status.append(entry.status);
    entry.row.append(entry.key, entry.name, status, entry.age, entry.restarts, entry.error, entry.actions);
    if (state.session && state.session.canCancel && t.key !== undefined && t.key !== null) {
      const button = el('button', 'danger cancel', 'Cancel');
      button.type = 'button';
      button.addEventListener('click', () => {
        if (state.armedKey === t.key) {
          state.armedKey = null;
          button.disabled = true;
          cancelTask(t.key);
        } else {
          state.armedKey = t.key;
        }
        updateButton(entry.button, t.key);
      });
      entry.button = button;
      entry.actions.append(button);
    }
    return entry;
  }

  function updateRow(entry, t) {
    setText(entry.status, t.status);
    entry.status.className = 'status ' + t.status;
    setText(entry.age, formatAge(t.ageMs));
    setText(entry.restarts, numbers.format(t.restartCount));
    setText(entry.error, t.lastError ? t.lastError.type + ': ' + t.lastError.message : '');
    if (entry.button) updateButton(entry.button, t.key);
  }

  function updateButton(button, key) {
    const armed = state.armedKey === key;
    button.classList.toggle('armed', armed);
    setText(button, armed ? 'Confirm cancel' : 'Cancel');
  }

  function renderFailures(failures) {
    const showDetails = state.session && state.session.stackTraces;
    const items = failures.map((f) => {
      const item = el('li');
      const head = el('div', 'head');
      head.append(
        el('span', null, new Date(f.endedAt).toLocaleTimeString()),
        el('span', 'status ' + f.status, f.gaveUp ? 'Gave up' : f.status),
        el('span', null, 'key ' + (f.key ?? '—')),
        el('span', null, f.name ? 'name ' + f.name : ''),
        el('span', null, f.restartCount ? numbers.format(f.restartCount) + ' restarts' : ''),
        el('span', null, 'after ' + formatAge(f.elapsedMs)));
      const message = el('div', 'message');
      message.append(el('span', 'type', f.exceptionType), document.createTextNode(': ' + f.message));
      item.append(head, message);
      if (showDetails && f.stackTrace) {
        const details = el('details');
        details.append(el('summary', null, 'Stack trace'), el('pre', null, f.stackTrace));
        item.append(details);
      }
      return item;
    });
    $('failures').replaceChildren(...items);
    $('failures-empty').hidden = failures.length > 0;
  }

  async function post(path, body) {
    const headers = { 'Content-Type': 'application/json' };
    headers[state.session.antiforgeryHeader] = state.session.antiforgeryToken;
    const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin' });
    const text = await response.text();
    let data = null;
    try { data = JSON.parse(text); } catch { data = null; }
    if (!response.ok) throw new Error((data && data.error) || ('HTTP ' + response.status));
    return data;
  }

  async function cancelTask(key) {
    const result = $('action-result');
    result.textContent = 'Cancelling ' + key + '…';
    try {
      const data = await post('api/cancel', { supervisor: state.supervisor, key });
      result.textContent = 'Cancel ' + data.key + ': ' + data.result;
    } catch (error) {
      result.textContent = 'Cancel ' + key + ' failed: ' + error.message;
    }
  }

  async function cancelPrefix() {
    const input = $('cancel-prefix-input');
    const button = $('cancel-prefix-button');
    const prefix = input.value;
    if (!prefix) return;
    if (!button.classList.contains('armed')) {
      button.classList.add('armed');
      button.textContent = 'Confirm: cancel under “' + prefix + '”';
      return;
    }
    button.classList.remove('armed');
    button.textContent = 'Cancel tasks';
    const result = $('action-result');
    result.textContent = 'Cancelling tasks under ' + prefix + '…';
    try {
      const data = await post('api/cancel-prefix', { supervisor: state.supervisor, keyPrefix: prefix });
      result.textContent = 'Cancel under ' + data.keyPrefix + ': ' + data.matched + ' matched, ' + data.canceled + ' canceled, '
        + data.ranToCompletion + ' completed, ' + data.faulted + ' faulted, ' + data.stillRunning + ' still running';
    } catch (error) {
      result.textContent = 'Cancel under ' + prefix + ' failed: ' + error.message;
    }
  }

  function wire() {
    let typing = 0;
    const refilter = () => { state.skip = 0; state.armedKey = null; connect(); };
    $('filters').addEventListener('submit', (e) => e.preventDefault());
    $('filter-status').addEventListener('change', (e) => { state.status = e.target.value; refilter(); });
    $('filter-order').addEventListener('change', (e) => { state.order = e.target.value; refilter(); });
    $('filter-take').addEventListener('change', (e) => { state.take = Number(e.target.value); refilter(); });
    $('filter-prefix').addEventListener('input', (e) => {
      clearTimeout(typing);
      typing = setTimeout(() => { state.keyPrefix = e.target.value; refilter(); }, 250);
    });
    $('page-prev').addEventListener('click', () => { state.skip = Math.max(0, state.skip - state.take); connect(); });
    $('page-next').addEventListener('click', () => {
      if (state.skip + state.take < state.total) { state.skip += state.take; connect(); }
    });
    $('cancel-prefix-button').addEventListener('click', cancelPrefix);
    $('cancel-prefix-input').addEventListener('input', () => {
      const button = $('cancel-prefix-button');
      button.classList.remove('armed');
      button.textContent = 'Cancel tasks';
    });
  }

  async function start() {
    wire();
    try {
      const response = await fetch('api/session', { credentials: 'same-origin' });
      state.session = response.ok ? await response.json() : { canCancel: false };
    } catch {
      state.session = { canCancel: false };
    }
    $('prefix-cancel').hidden = !state.session.canCancel;
    connect();
  }

  start();
})();
