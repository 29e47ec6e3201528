// The portal's shared code: the signed-in session (an access token kept in
// this tab's sessionStorage only, forgotten on sign-out or expiry), calls
// to the API with it, API errors in words, and a small DOM builder that
// sets text, never HTML.
'use strict';

const Portal = (() => {
  const KEY = 'identity-portal-session';
  let expiryTimer = null;
  let foundExpired = false;

  // load returns the session, or null when there is none or it expired
  // (then expired() says so, until a session is saved).
  function load() {
    let s = null;
    try { s = JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch (e) { s = null; }
    if (!s || typeof s.token !== 'string' || typeof s.expiresAt !== 'number' || Date.now() >= s.expiresAt) {
      if (s && typeof s.expiresAt === 'number' && Date.now() >= s.expiresAt) foundExpired = true;
      sessionStorage.removeItem(KEY);
      return null;
    }
    return s;
  }

  // expired reports whether a load found the stored token expired (a tab
  // reopened after its token's lifetime), so the page can say why it is
  // signed out rather than showing the sign-in form without a word.
  function expired() { return foundExpired; }

  function save(token, expiresIn) {
    const s = { token, expiresAt: Date.now() + Math.max(0, expiresIn - 30) * 1000 };
    sessionStorage.setItem(KEY, JSON.stringify(s));
    foundExpired = false;
    return s;
  }

  function clear() {
    sessionStorage.removeItem(KEY);
    if (expiryTimer) { clearTimeout(expiryTimer); expiryTimer = null; }
  }

  // onExpiry calls f when the session's token expires (and forgets it).
  function onExpiry(s, f) {
    if (expiryTimer) clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => { clear(); f(); }, Math.max(0, s.expiresAt - Date.now()));
  }

  // words turns an error answer of any route family into a sentence.
  function words(status, body) {
    if (body && typeof body === 'object') {
      if (body.Reason) return [body.Error ? body.Error + ':' : '', body.Reason, body.Resolution || ''].join(' ').trim();
      if (body.detail) return [body.title ? body.title + ':' : '', body.detail].join(' ').trim();
      if (body.message) return body.message;
      if (body.error_description) return body.error_description;
    }
    if (status === 0) return 'The service could not be reached. Check the connection and try again.';
    return 'The service answered with status ' + status + ' and no explanation.';
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(words(status, body));
      this.status = status;
    }
  }

  async function send(method, path, opts) {
    let res;
    try {
      res = await fetch(path, Object.assign({ method, cache: 'no-store', credentials: 'omit' }, opts));
    } catch (e) {
      throw new ApiError(0, null);
    }
    const text = await res.text();
    let body = null;
    if (text) { try { body = JSON.parse(text); } catch (e) { body = null; } }
    if (!res.ok) throw new ApiError(res.status, body);
    return { status: res.status, body, headers: res.headers };
  }

  // api calls a route with the session's bearer token.
  function api(method, path, json) {
    const s = load();
    if (!s) return Promise.reject(new ApiError(401, { message: 'You are signed out (the access token expired or was removed). Sign in again.' }));
    const headers = { Authorization: 'Bearer ' + s.token };
    const opts = { headers };
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(json);
    }
    return send(method, path, opts);
  }

  // signIn gets an access token with the client credentials grant.
  async function signIn(clientId, secret) {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
    const res = await send('POST', '/identity/connect/token', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString(),
    });
    return save(res.body.access_token, res.body.expires_in);
  }

  // el builds an element: attrs are attributes (on* keys are listeners),
  // children are nodes or strings (always text).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function show(node, on) { node.hidden = !on; }

  // state is the page's state parameter (rendered into data-state).
  function state() { return document.body.dataset.state || ''; }

  function withState(path) {
    const s = state();
    return s ? path + '?state=' + encodeURIComponent(s) : path;
  }

  // profile reads who the token speaks for.
  async function profile() {
    return (await api('GET', '/_/op-dashboard/api/profile')).body;
  }

  function wireSignOut(after) {
    const b = document.getElementById('sign-out');
    if (!b) return;
    show(b, !!load());
    b.addEventListener('click', () => { clear(); show(b, false); after(); });
  }

  return { load, expired, save, clear, onExpiry, words, ApiError, api, signIn, el, show, state, withState, profile, wireSignOut };
})();
