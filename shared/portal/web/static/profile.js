// /profile and /no-access-callback: who is signed in in this browser (the
// dashboard's session), and on the no-access page which role is missing
// and who grants it.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const { el, show } = Portal;
  const noAccess = document.body.dataset.page === 'no-access';

  function signedOut() {
    show($('profile'), false);
    $('profile-status').textContent = noAccess ? '' : 'Nobody is signed in in this browser.';
    if ($('profile-signin')) show($('profile-signin'), true);
    if ($('profile-sign-out')) show($('profile-sign-out'), false);
  }

  // missingRole names the role the request lacked (?role=<id>), and who
  // gives it in the person's tenant.
  function missingRole(me) {
    const id = new URLSearchParams(location.search).get('role');
    if (!id) return;
    const grant = ((me && me.Grants) || []).find((g) => g.RoleId === id);
    const name = grant ? grant.RoleName : 'a role this page needs';
    const tenant = me ? `${me.TenantName || ''} (${me.TenantId})`.trim() : 'your tenant';
    $('missing-role').replaceChildren('The operations dashboard needs the role ', el('strong', { id: 'missing-role-name' }, name),
      ` of tenant ${tenant}, which you do not have.`);
    show($('missing-role'), true);
    // The dashboard sent a signed-in person here: the note for people an
    // application's sign-in turned away does not apply.
    if ($('person-no-access')) show($('person-no-access'), false);
    if (grant && me && me.Upstream) {
      const li = $('grant-upstream');
      li.replaceChildren(...(grant.Values.length
        ? ['In tenant ', el('strong', {}, tenant), ', ', el('strong', {}, name), ' is given by its identity provider (',
          el('span', { class: 'mono' }, me.Upstream), ') to people whose claim ', el('code', {}, grant.Claim),
          ' holds ', ...grant.Values.flatMap((v, i) => [i ? ' or ' : '', el('code', { class: 'grant-value' }, v)]),
          '. Ask that provider\'s administrator to add you; or ask an operator of this service to map one of your groups to the role.']
        : ['In tenant ', el('strong', {}, tenant), ' no group of its identity provider gives ', el('strong', {}, name),
          ' yet: an operator of this service maps one with make admin ARGS=\'idp set ... --role-map GROUP=ROLE\'.']));
      show(li, true);
    }
  }

  async function render() {
    let me = null;
    try {
      me = await Portal.session();
    } catch (e) {
      $('profile-status').textContent = e.message;
      return;
    }
    if (noAccess) missingRole(me);
    if (!me) { signedOut(); return; }
    Portal.onExpiry(me, signedOut);
    $('profile-name').textContent = me.Name;
    $('profile-email').textContent = me.Email;
    $('profile-tenant').replaceChildren(me.TenantName || '', ' ', el('span', { class: 'mono' }, '(' + me.TenantId + ')'));
    $('profile-roles').replaceChildren(...(me.Roles.length ? me.Roles.map((r) => el('li', {}, r.Name, r.Cluster ? ' (cluster role: acts in any tenant)' : ' (acts in its own tenant)'))
      : [el('li', {}, 'No role')]));
    if ($('profile-signed-in')) $('profile-signed-in').textContent = Portal.fmtDateTime(new Date(me.SignedInAt));
    if ($('profile-expires')) $('profile-expires').textContent = Portal.fmtDateTime(new Date(me.ExpiresAt));
    $('profile-status').textContent = noAccess ? 'Signed in as:' : '';
    show($('profile'), true);
    if ($('profile-sign-out')) show($('profile-sign-out'), true);
  }

  render();
})();
