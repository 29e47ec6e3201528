// /profile and /no-access-callback: who is signed in in this tab.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const { el, show } = Portal;

  function signedOut() {
    show($('profile'), false);
    $('profile-status').textContent = 'No client is signed in in this tab.';
    if ($('profile-signin')) show($('profile-signin'), true);
  }

  async function render() {
    const s = Portal.load();
    if (!s) { signedOut(); return; }
    Portal.onExpiry(s, signedOut);
    try {
      const me = await Portal.profile();
      $('profile-name').textContent = me.Name;
      $('profile-client-id').textContent = me.ClientId;
      $('profile-tenant').replaceChildren(me.TenantName || '', ' ', el('span', { class: 'mono' }, '(' + me.TenantId + ')'));
      $('profile-roles').replaceChildren(...me.Roles.map((r) => el('li', {}, r.Name, r.Cluster ? ' (cluster role: acts in any tenant)' : ' (acts in its own tenant)')));
      $('profile-status').textContent = document.body.dataset.page === 'profile' ? '' : 'Signed in as:';
      show($('profile'), true);
    } catch (e) {
      $('profile-status').textContent = e.message;
    }
  }

  Portal.wireSignOut(signedOut);
  render();
})();
