// The portal's shared code: who is signed in (the dashboard's server-side
// session, read from /_/op-dashboard/api/session; the browser holds only
// an HttpOnly cookie, never a token), calls to the API through the
// dashboard (/_/op-dashboard/api/call adds the session's access token),
// API errors in words, and a small DOM builder that sets text, never HTML.
'use strict';

const Portal = (() => {
  let current = null; // the session, once read
  let expiryTimer = null;

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
      res = await fetch(path, Object.assign({ method, cache: 'no-store', credentials: 'same-origin' }, opts));
    } catch (e) {
      throw new ApiError(0, null);
    }
    const text = await res.text();
    let body = null;
    if (text) { try { body = JSON.parse(text); } catch (e) { body = null; } }
    if (!res.ok) throw new ApiError(res.status, body);
    return { status: res.status, body, headers: res.headers };
  }

  // session reads who is signed in in this browser, or null (signed out).
  async function session() {
    try {
      current = (await send('GET', '/_/op-dashboard/api/session')).body;
    } catch (e) {
      if (e.status !== 401) throw e;
      current = null;
    }
    document.querySelectorAll('input[name="csrf"]').forEach((i) => { i.value = current ? current.Csrf : ''; });
    const out = document.getElementById('sign-out-form');
    if (out) show(out, !!current);
    return current;
  }

  // api calls a route of the API with the session's access token, which
  // the dashboard adds (the page never sees it).
  function api(method, path, json) {
    if (!current) return Promise.reject(new ApiError(401, { message: 'You are signed out. Sign in again.' }));
    const call = { Method: method, Path: path };
    if (json !== undefined) call.Body = json;
    return send('POST', '/_/op-dashboard/api/call', {
      headers: { 'Content-Type': 'application/json', 'X-Dashboard-Csrf': current.Csrf }, body: JSON.stringify(call),
    });
  }

  // onExpiry calls f when the session ends (its access token expires).
  function onExpiry(s, f) {
    if (expiryTimer) clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => { current = null; f(); }, Math.max(0, Date.parse(s.ExpiresAt) - Date.now()));
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

  function fmtDateTime(d) { return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'; }

  return { words, ApiError, api, session, onExpiry, el, show, state, withState, fmtDateTime };
})();
