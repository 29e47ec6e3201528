// The operations dashboard: who is signed in, the tenant's clients with
// their secrets and who last changed each, the expiry timeline, the last
// sweep, and the actions (add
// a secret, soft-delete a secret, enable or disable a client), each a call
// of the public API that the dashboard makes with the signed-in person's
// token (Portal.api).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const { el, show } = Portal;
  const DAY = PortalChart.DAY;
  const seg = encodeURIComponent;

  const kindLabel = { ClientCredential: 'Client Credential', Hybrid: 'Hybrid' };
  const paths = {
    list: {
      ClientCredential: (t) => `/api/v1-preview/Tenants/${seg(t)}/ClientCredentialClients?count=1000`,
      Hybrid: (t) => `/api/Tenants/${seg(t)}/HybridClient?count=1000`,
    },
    client: {
      ClientCredential: (t, c) => `/api/v1-preview/Tenants/${seg(t)}/ClientCredentialClients/${seg(c)}`,
      Hybrid: (t, c) => `/api/Tenants/${seg(t)}/HybridClient/${seg(c)}`,
    },
    secrets: {
      ClientCredential: (t, c) => `/api/v1-preview/Tenants/${seg(t)}/ClientCredentialClients/${seg(c)}/Secret?count=1000`,
      Hybrid: (t, c) => `/api/v1-preview/Tenants/${seg(t)}/HybridClients/${seg(c)}/Secret?count=1000`,
    },
    addSecret: {
      ClientCredential: (t, c) => `/api/v1-preview/Tenants/${seg(t)}/ClientCredentialClients/${seg(c)}/Secret`,
      Hybrid: (t, c) => `/api/v1-preview/Tenants/${seg(t)}/HybridClients/${seg(c)}/Secret`,
    },
    // Soft delete (Key Rotation API): the record stays, listed as deleted there.
    softDelete: (t, c, s) => `/api/tenants/${seg(t)}/applications/${seg(c)}/secrets/${seg(s)}`,
    // Who last changed the client and each secret (the portal's own routes).
    changes: {
      ClientCredential: (t, c) => `/_/op-dashboard/api/tenants/${seg(t)}/client-credential-clients/${seg(c)}/changes`,
      Hybrid: (t, c) => `/_/op-dashboard/api/tenants/${seg(t)}/hybrid-clients/${seg(c)}/changes`,
    },
  };

  let me = null; // the signed-in person (the dashboard's session)
  let tenant = ''; // the tenant shown
  let rows = []; // {kind, client, secrets | null, error, changes | null, changesError}
  let generation = 0; // of loads, so a slow old load never overwrites a new one

  // --- messages -----------------------------------------------------------

  function say(text, isError, forbidden) {
    const s = $('status');
    s.classList.toggle('error', !!isError);
    s.replaceChildren(text);
    if (forbidden) s.append(' ', noAccessLink());
  }

  // notify shows the result of an action where it is seen: a message fixed
  // at the bottom of the window (errors as alerts).
  function notify(text, isError, forbidden) {
    const t = $('toast');
    t.classList.toggle('error', !!isError);
    t.setAttribute('role', isError ? 'alert' : 'status');
    $('toast-text').replaceChildren(text, ...(forbidden ? [' ', noAccessLink()] : []));
    show(t, true);
  }

  $('toast-close').addEventListener('click', () => show($('toast'), false));

  function noAccessLink() {
    return el('a', { href: Portal.withState('/no-access-callback') }, 'How to get access');
  }

  function errorNode(prefix, e) {
    return el('p', { class: 'notice error', role: 'alert' }, prefix + e.message, e.status === 403 ? [' ', noAccessLink()] : []);
  }

  // --- dates ----------------------------------------------------------------

  function fmtDate(d) { return d.toISOString().slice(0, 10); }
  const fmtDateTime = Portal.fmtDateTime;
  function relDays(d, now) {
    const n = PortalChart.daysLeft(d, now);
    if (n <= 0) return 'expired';
    return n === 1 ? 'in 1 day' : `in ${n} days`;
  }

  // --- sign-in ------------------------------------------------------------
  // People sign in through the service's own sign-in (a plain form to
  // /_/op-dashboard/signin): the dashboard keeps their tokens on the
  // server; this page learns who is signed in from /_/op-dashboard/api/session.

  function signedOut(message) {
    generation++;
    me = null;
    tenant = '';
    rows = [];
    show($('dashboard'), false);
    show($('signin'), true);
    const note = $('signin-note');
    note.textContent = message || '';
    show(note, !!message);
  }

  async function start() {
    try {
      me = await Portal.session();
    } catch (e) {
      signedOut('Could not read who is signed in: ' + e.message);
      return;
    }
    if (!me) { signedOut(); return; }
    Portal.onExpiry(me, () => signedOut('Your sign-in expired (it lasts as long as its access token). Sign in again: your sign-in at the identity provider may let you straight back in.'));
    show($('signin'), false);
    show($('dashboard'), true);
    const cluster = me.Roles.some((r) => r.Cluster);
    const roles = me.Roles.map((r) => r.Name).join(', ') || 'no roles';
    $('who').replaceChildren('Signed in as ', el('strong', { id: 'who-name' }, me.Name), me.Email ? ` (${me.Email})` : '',
      ` of tenant ${me.TenantName || ''} `, el('span', { class: 'mono' }, me.TenantId), ` · ${roles}.`);
    show($('tenant-form'), cluster);
    if (!tenant) tenant = me.TenantId;
    $('tenant-id').value = tenant;
    await load();
  }

  $('tenant-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    tenant = $('tenant-id').value.trim();
    load();
  });

  // --- loading ------------------------------------------------------------

  // listOf returns a list answer's items: an array, or the readable ones
  // of a 207 answer ({Data, ChildErrors}).
  function listOf(body) {
    if (Array.isArray(body)) return body;
    return (body && Array.isArray(body.Data)) ? body.Data : [];
  }

  // pool runs f over items, at most n at a time.
  async function pool(items, n, f) {
    let next = 0;
    const worker = async () => { while (next < items.length) { const i = next++; await f(items[i], i); } };
    await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  }

  async function load() {
    const gen = ++generation;
    const dash = $('dashboard');
    dash.dataset.ready = 'false';
    say(`Loading tenant ${tenant} …`);
    const t = tenant;
    const [sweepResult, ...lists] = await Promise.allSettled([
      Portal.api('GET', '/_/op-dashboard/api/last-sweep'),
      Portal.api('GET', paths.list.ClientCredential(t)),
      Portal.api('GET', paths.list.Hybrid(t)),
    ]);
    if (gen !== generation) return;
    renderSweep(sweepResult);
    const listErrors = [];
    const found = [];
    ['ClientCredential', 'Hybrid'].forEach((kind, i) => {
      const r = lists[i];
      if (r.status === 'rejected') { listErrors.push(errorNode(`${kindLabel[kind]} clients could not be listed: `, r.reason)); return; }
      for (const c of listOf(r.value.body)) found.push({ kind, client: c, secrets: null, error: null, changes: null, changesError: null });
      const total = Number(r.value.headers.get('Total-Count') || 0);
      if (total > 1000) listErrors.push(el('p', { class: 'notice' }, `Showing the first 1000 of ${total} ${kindLabel[kind]} clients.`));
    });
    $('client-errors').replaceChildren(...listErrors);
    await pool(found, 6, async (row) => {
      const [sec, changes] = await Promise.allSettled([
        Portal.api('GET', paths.secrets[row.kind](t, row.client.ClientId)),
        Portal.api('GET', paths.changes[row.kind](t, row.client.ClientId)),
      ]);
      if (sec.status === 'fulfilled') {
        row.secrets = listOf(sec.value.body).map((s) => ({ id: s.SecretId, description: s.Description || '', expiration: s.Expiration ? new Date(s.Expiration) : null }));
      } else {
        row.error = sec.reason;
      }
      if (changes.status === 'fulfilled') row.changes = changes.value.body;
      else row.changesError = changes.reason;
    });
    if (gen !== generation) return;
    // A refusal for the caller's roles is the same for every client: say it
    // once, not in every row.
    const refused = found.find((row) => row.error && row.error.status === 403);
    if (refused) {
      listErrors.push(errorNode('Secrets could not be read: ', refused.error));
      $('client-errors').replaceChildren(...listErrors);
    }
    found.sort((a, b) => a.client.Name.localeCompare(b.client.Name) || a.client.ClientId.localeCompare(b.client.ClientId));
    rows = found;
    render();
    const partial = listErrors.some((n) => n.classList.contains('error')) || rows.some((row) => row.error);
    say(`Tenant ${t}: ${rows.length} client${rows.length === 1 ? '' : 's'}.` + (partial ? ' Some of it could not be read: see Clients below.' : ''));
    dash.dataset.ready = 'true';
    dash.dataset.loads = String(gen); // how many loads have finished (the browser test waits on it)
  }

  // --- rendering ----------------------------------------------------------

  const sweepLabels = [
    ['Expired', 'expired secrets swept'], ['ExpiredRemoved', 'expired records removed'],
    ['DeletedSwept', 'deleted secrets swept'], ['DeletedPurged', 'deleted records removed'],
    ['Warned', 'expiry warnings sent'], ['OrphansDestroyed', 'orphaned material destroyed'],
    ['MaterialMissing', 'records missing material'], ['Failed', 'items failed'],
  ];

  function renderSweep(r) {
    const box = $('sweep');
    if (r.status === 'rejected') { box.replaceChildren(errorNode('', r.reason)); return; }
    const s = r.value.body;
    if (s.Withheld) {
      box.replaceChildren(el('p', { id: 'sweep-time' }, s.Withheld));
      return;
    }
    if (!s.Recorded) {
      box.replaceChildren(el('p', { id: 'sweep-time' }, 'No sweep has been recorded yet. The sweeper records each run when it finishes.'));
      return;
    }
    const finished = new Date(s.FinishedAt);
    const ago = Math.max(0, Math.round((Date.now() - finished) / 60000));
    box.replaceChildren(
      el('p', { id: 'sweep-time' }, 'Finished ', el('time', { datetime: s.FinishedAt }, fmtDateTime(finished)),
        ` (${ago < 60 ? ago + ' min' : Math.round(ago / 60) + ' h'} ago), took ${s.DurationMs} ms`,
        s.Counts.Unfinished ? '; its budget ran out, the next run continues.' : '.'),
      el('dl', { class: 'counts', id: 'sweep-counts' }, ...sweepLabels.flatMap(([k, label]) => [
        el('dt', {}, label), el('dd', { 'data-count': k }, String(s.Counts[k] || 0))])),
      ...((s.FailedSteps || []).length ? [el('p', { class: 'notice error' }, 'Steps that failed: ' + s.FailedSteps.join(', ') + '. The next run retries them.')] : []));
  }

  function summary(row, now) {
    if (!row.secrets) return { count: '—', next: row.error ? '—' : '' };
    const active = row.secrets.filter((s) => !s.expiration || s.expiration > now);
    const expired = row.secrets.length - active.length;
    const dated = active.filter((s) => s.expiration).sort((a, b) => a.expiration - b.expiration);
    let next = 'none';
    if (dated.length) next = `${fmtDate(dated[0].expiration)} (${relDays(dated[0].expiration, now)})`;
    else if (active.length) next = 'never expires';
    return { count: String(active.length) + (expired ? ` (+${expired} expired)` : ''), next, nextDate: dated.length ? fmtDate(dated[0].expiration) : '' };
  }

  function render() {
    const now = new Date();
    const body = $('clients').querySelector('tbody');
    body.replaceChildren(...rows.map((row) => clientRow(row, now)));
    if (!rows.length) body.append(el('tr', {}, el('td', { colspan: 6 }, 'This tenant has no clients you can see.')));
    const items = [];
    for (const row of rows) for (const s of row.secrets || []) {
      if (s.expiration) items.push({ clientId: row.client.ClientId, clientName: row.client.Name, kind: row.kind, secretId: s.id, description: s.description, expiration: s.expiration });
    }
    const shown = PortalChart.render($('chart'), items, now);
    if (!shown.length && rows.some((row) => row.error)) {
      $('chart-empty').textContent = 'No readable secret expires in the next 90 days; some clients\' secrets could not be read (see Clients below).';
    }
    PortalChart.legend($('legend'));
    $('expiring').querySelector('tbody').replaceChildren(...(shown.length ? shown.map((i) => el('tr', { 'data-secret-id': i.secretId },
      el('td', { 'data-label': 'Expires' }, fmtDate(i.expiration)),
      el('td', { 'data-label': 'Days left' }, String(PortalChart.daysLeft(i.expiration, now))),
      el('td', { 'data-label': 'Client' }, i.clientName),
      el('td', { 'data-label': 'Kind' }, kindLabel[i.kind]),
      el('td', { 'data-label': 'Secret' }, i.description || i.secretId))) : [el('tr', {}, el('td', { colspan: 5 }, 'None.'))]));
  }

  // actorName is who made a change, in words: a person's name (or their
  // subject when their token stated no name), a client's id, the admin
  // CLI's operator; '' when the write recorded no actor.
  function actorName(by) {
    if (by.Kind === 'person') return by.Name || by.Id;
    if (by.Kind === 'unknown') return '';
    return by.Id;
  }

  // changed is "Last changed by <who> at <time>" for a change (text only).
  function changed(cls, change) {
    if (!change) return el('span', { class: cls + ' muted', 'data-by-kind': 'none' }, 'Last change not recorded (written before changes were recorded)');
    const by = change.By;
    const who = actorName(by);
    const at = el('time', { datetime: change.At }, fmtDateTime(new Date(change.At)));
    let title = '';
    if (by.Kind === 'person') title = `Person ${by.Id}` + (by.ClientId ? `, signed in through client ${by.ClientId}` : '');
    else if (by.Kind === 'client') title = `Client ${by.Id} (its own token)`;
    else if (by.Kind === 'operator') title = 'The admin CLI';
    const attrs = { class: cls + ' muted', 'data-by-kind': by.Kind, 'data-by': who, title: title || null };
    if (!who) return el('span', attrs, 'Last changed at ', at, ' (who was not recorded)');
    return el('span', attrs, 'Last changed by ', el('span', { class: 'changed-by' }, who), ' at ', at);
  }

  function clientChanged(row) {
    if (row.changes) return changed('client-changed', row.changes.LastChange);
    if (row.changesError) return el('span', { class: 'client-changed muted', 'data-by-kind': 'error' }, 'Who last changed it could not be read: ' + row.changesError.message);
    return null;
  }

  function secretChanged(row, secretId) {
    const list = row.changes && row.changes.Secrets;
    if (!list) return null;
    const found = list.find((c) => c.SecretId === secretId);
    return found ? changed('secret-changed', found.LastChange) : null;
  }

  function clientRow(row, now) {
    const c = row.client;
    const sum = summary(row, now);
    const secretsCell = el('td', { 'data-label': 'Secrets', class: 'secrets' });
    const lastChange = clientChanged(row);
    if (row.error && row.error.status === 403) secretsCell.append(el('span', { class: 'secret-count muted' }, 'not readable with your roles'));
    else if (row.error) secretsCell.append(errorNode('Secrets could not be read: ', row.error));
    else {
      secretsCell.append(el('span', { class: 'secret-count' }, sum.count));
      if (row.secrets.length) {
        secretsCell.append(el('details', {}, el('summary', {}, 'Show secrets'),
          el('ul', { class: 'secret-list' }, ...row.secrets.map((s) => el('li', { 'data-secret-id': s.id },
            el('span', {}, s.description || 'No description'), ' ',
            el('span', { class: 'muted' }, s.expiration ? (s.expiration > now ? 'expires ' : 'expired ') + fmtDate(s.expiration) : 'never expires'), ' ',
            el('span', { class: 'mono muted' }, s.id.slice(0, 8)), ' ',
            el('button', { type: 'button', class: 'small danger', 'data-action': 'delete-secret', onclick: () => confirmDelete(row, s) }, 'Delete'),
            secretChanged(row, s.id))))));
      }
    }
    return el('tr', { 'data-client-id': c.ClientId, 'data-kind': row.kind, 'data-enabled': String(c.Enabled) },
      el('td', { 'data-label': 'Client' }, el('strong', { class: 'client-name' }, c.Name), el('br'), el('span', { class: 'mono muted' }, c.ClientId),
        lastChange ? [el('br'), lastChange] : null),
      el('td', { 'data-label': 'Kind' }, kindLabel[row.kind]),
      el('td', { 'data-label': 'State', class: c.Enabled ? 'enabled' : 'disabled' }, c.Enabled ? 'Enabled' : 'Disabled'),
      secretsCell,
      el('td', { 'data-label': 'Next expiry', class: 'next-expiry', 'data-next': sum.nextDate || '' }, sum.next),
      el('td', { 'data-label': 'Actions', class: 'actions' },
        el('button', { type: 'button', class: 'small secondary', 'data-action': 'toggle', onclick: () => toggle(row) }, c.Enabled ? 'Disable' : 'Enable'), ' ',
        el('button', { type: 'button', class: 'small', 'data-action': 'add-secret', onclick: () => openAdd(row) }, 'Add secret')));
  }

  // --- actions ------------------------------------------------------------

  async function toggle(row) {
    const c = row.client;
    const want = !c.Enabled;
    notify(`${want ? 'Enabling' : 'Disabling'} ${c.Name} …`);
    try {
      await Portal.api('PUT', paths.client[row.kind](tenant, c.ClientId), { Enabled: want });
      await load();
      notify(`${c.Name} is now ${want ? 'enabled' : 'disabled'}.`);
    } catch (e) {
      notify(`${c.Name} could not be ${want ? 'enabled' : 'disabled'}: ${e.message}`, true, e.status === 403);
    }
  }

  let adding = null;

  function openAdd(row) {
    adding = row;
    $('add-for').textContent = `For ${kindLabel[row.kind]} client ${row.client.Name} (${row.client.ClientId}).`;
    $('add-description').value = '';
    $('add-never').checked = false;
    $('add-expiration').disabled = false;
    $('add-expiration').value = fmtDate(new Date(Date.now() + 90 * DAY));
    show($('add-error'), false);
    $('add-dialog').showModal();
  }

  $('add-never').addEventListener('change', () => { $('add-expiration').disabled = $('add-never').checked; });
  $('add-cancel').addEventListener('click', () => $('add-dialog').close());

  $('add-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const row = adding;
    const date = $('add-expiration').value;
    const body = { Description: $('add-description').value, Expiration: $('add-never').checked ? null : (date ? date + 'T00:00:00Z' : null) };
    $('add-submit').disabled = true;
    try {
      const res = await Portal.api('POST', paths.addSecret[row.kind](tenant, row.client.ClientId), body);
      $('add-dialog').close();
      showSecret(row, res.body.ClientSecret);
    } catch (e) {
      $('add-error').replaceChildren(e.message, ...(e.status === 403 ? [' ', noAccessLink()] : []));
      show($('add-error'), true);
    } finally {
      $('add-submit').disabled = false;
    }
  });

  function showSecret(row, secret) {
    $('secret-for').textContent = row.client.Name;
    $('secret-value').value = secret;
    show($('secret-copied'), false);
    $('secret-dialog').showModal();
  }

  $('secret-copy').addEventListener('click', async () => {
    const input = $('secret-value');
    let ok = false;
    try { await navigator.clipboard.writeText(input.value); ok = true; } catch (e) {
      input.select();
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
    }
    $('secret-copied').textContent = ok ? 'Copied to the clipboard.' : 'The browser did not allow copying: select the text and copy it yourself.';
    show($('secret-copied'), true);
  });

  $('secret-dialog').addEventListener('close', () => {
    $('secret-value').value = ''; // the secret leaves the page
    notify('Secret added. Its value is gone from this page.');
    load();
  });
  $('secret-close').addEventListener('click', () => $('secret-dialog').close());

  let deleting = null;

  function confirmDelete(row, s) {
    deleting = { row, s };
    $('confirm-text').textContent = `Secret ${s.description ? '"' + s.description + '" ' : ''}(${s.id}) of ${row.client.Name} stops working at once and cannot be restored. Its record stays listed as deleted in the Key Rotation API until the sweeper purges it.`;
    show($('confirm-error'), false);
    $('confirm-dialog').showModal();
  }

  $('confirm-cancel').addEventListener('click', () => $('confirm-dialog').close());
  $('confirm-ok').addEventListener('click', async () => {
    const { row, s } = deleting;
    $('confirm-ok').disabled = true;
    try {
      await Portal.api('DELETE', paths.softDelete(tenant, row.client.ClientId, s.id));
      $('confirm-dialog').close();
      await load();
      notify(`Secret ${s.id} of ${row.client.Name} deleted: it no longer authenticates.`);
    } catch (e) {
      $('confirm-error').replaceChildren(e.message, ...(e.status === 403 ? [' ', noAccessLink()] : []));
      show($('confirm-error'), true);
    } finally {
      $('confirm-ok').disabled = false;
    }
  });

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (rows.length) render(); }, 150);
  });

  start();
})();
