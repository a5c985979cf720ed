// Entra ID sign-in for the console (docs/console.md): the OAuth 2.0 authorization code flow with
// PKCE (RFC 7636, S256) for a single-page application, in plain JavaScript. What to ask for comes
// from GET /console/config.json (the node's auth settings). The verifier and state live in
// sessionStorage for the round trip only; the access token is kept in sessionStorage (api.js
// session) and is only ever sent in the Authorization header, never in a URL.

import { session } from './api.js';

const PendingKey = 'azkv.console.signin';

let configPromise = null;

// { auth: 'None'|'Local'|'EntraId', signIn: null | { authority, authorizeEndpoint, tokenEndpoint, clientId, scope, redirectPath } }
export function consoleConfig() {
  configPromise ??= fetch('/console/config.json', { cache: 'no-store' })
    .then(r => (r.ok ? r.json() : { auth: 'unknown', signIn: null }))
    .catch(() => ({ auth: 'unknown', signIn: null }));
  return configPromise;
}

function base64Url(bytes) {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(byteCount) {
  return base64Url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

function redirectUri(signIn) {
  return location.origin + signIn.redirectPath;
}

// Leaves for the authority's sign-in page; it comes back to redirectPath with ?code=&state=.
export async function beginSignIn(signIn, returnTo) {
  const verifier = randomString(48);
  const state = randomString(24);
  sessionStorage.setItem(PendingKey, JSON.stringify({ verifier, state, returnTo }));
  const query = new URLSearchParams({
    client_id: signIn.clientId,
    response_type: 'code',
    redirect_uri: redirectUri(signIn),
    response_mode: 'query',
    scope: 'openid ' + signIn.scope,
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  });
  location.assign(signIn.authorizeEndpoint + '?' + query);
}

// On redirectPath: exchanges the code for an access token. Returns { returnTo } when signed in,
// throws with the reason otherwise. The code and state leave the address bar in either case.
export async function completeSignIn(signIn) {
  const params = new URLSearchParams(location.search);
  const pendingText = sessionStorage.getItem(PendingKey);
  sessionStorage.removeItem(PendingKey);
  history.replaceState(null, '', signIn.redirectPath);
  const pending = pendingText ? JSON.parse(pendingText) : null;
  if (params.get('error')) throw new Error(`Sign-in failed: ${params.get('error')}${params.get('error_description') ? ' (' + params.get('error_description') + ')' : ''}.`);
  if (!pending || !params.get('code')) throw new Error('No sign-in was in progress in this tab: sign in again.');
  if (params.get('state') !== pending.state) throw new Error('The sign-in answer does not belong to this tab (state mismatch): sign in again.');
  const response = await fetch(signIn.tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: signIn.clientId,
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(signIn),
      code_verifier: pending.verifier,
      scope: 'openid ' + signIn.scope,
    }),
    cache: 'no-store',
    credentials: 'omit',
  });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok || !body?.access_token) {
    throw new Error('Sign-in failed: the token endpoint answered ' + response.status + (body?.error ? ` (${body.error})` : '') + '.');
  }
  session.set(body.access_token);
  return { returnTo: typeof pending.returnTo === 'string' && pending.returnTo.startsWith('/console') ? pending.returnTo : '/console/keys' };
}
