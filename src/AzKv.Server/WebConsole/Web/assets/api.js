// The public REST API (docs/api.md) with the user's token. The token lives in sessionStorage and is
// only ever sent in the Authorization header, never in a URL.

const TokenKey = 'azkv.console.token';

export const session = {
  get token() { return sessionStorage.getItem(TokenKey); },
  set(token) { sessionStorage.setItem(TokenKey, token); },
  clear() { sessionStorage.removeItem(TokenKey); },
};

export class ApiError extends Error {
  constructor(status, problem, fallback) {
    super(problem?.detail || problem?.title || fallback || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function authHeaders(extra) {
  const headers = new Headers(extra ?? {});
  const token = session.token;
  if (token) headers.set('Authorization', 'Bearer ' + token);
  return headers;
}

// Sends a request; 401 and 403 always raise (and 401 asks the app to show sign-in), any other status
// outside 2xx raises unless the caller handles it (allow).
export async function call(method, path, { body, headers, allow = [], signal } = {}) {
  let response;
  try {
    response = await fetch(path, { method, headers: authHeaders(headers), body, cache: 'no-store', signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, null, 'The node could not be reached: ' + error.message);
  }
  if (response.status === 401) {
    window.dispatchEvent(new CustomEvent('azkv:unauthorized'));
    throw new ApiError(401, await readProblem(response), 'Sign-in required.');
  }
  if (response.status === 403) {
    throw new ApiError(403, await readProblem(response), 'Your token does not allow this.');
  }
  if (!response.ok && !allow.includes(response.status)) {
    throw new ApiError(response.status, await readProblem(response));
  }
  return response;
}

export async function readProblem(response) {
  try {
    const type = response.headers.get('Content-Type') || '';
    if (type.includes('json')) return await response.json();
    const text = await response.text();
    return text ? { detail: text } : null;
  } catch {
    return null;
  }
}

export async function json(path, options) {
  const response = await call('GET', path, options);
  return response.json();
}

export function keyUrl(key) {
  return '/v1/kv/' + key.split('/').map(encodeURIComponent).join('/');
}

// One page of keys under a prefix (GET /v1/kv).
export function listPage(prefix, { cursor, limit = 200, values = false } = {}) {
  const query = new URLSearchParams({ prefix, limit: String(limit) });
  if (cursor) query.set('cursor', cursor);
  if (values) query.set('values', 'true');
  return json('/v1/kv?' + query);
}

// What the signed-in user may do (GET /v1/auth/me). A node without authentication answers 404:
// an open node, where everyone may do everything.
export async function whoAmI() {
  const response = await call('GET', '/v1/auth/me', { allow: [404] });
  if (response.status === 404) {
    return { open: true, authenticated: false, subject: null, roles: [{ role: 'admin', prefixes: [''] }] };
  }
  const me = await response.json();
  return { open: false, authenticated: !!me.authenticated, subject: me.subject ?? null, roles: Array.isArray(me.roles) ? me.roles : [] };
}

export function canWrite(me, key) {
  if (!me) return false;
  return me.roles.some(r => (r.role === 'writer' || r.role === 'admin') && coversKey(r.prefixes, key));
}

export function canWriteAnything(me) {
  return !!me && me.roles.some(r => r.role === 'writer' || r.role === 'admin');
}

function coversKey(prefixes, key) {
  if (!Array.isArray(prefixes) || prefixes.length === 0) return true;
  return prefixes.some(p => p === '' || p === '*' || key.startsWith(p));
}
