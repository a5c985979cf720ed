// The console's shell: sign-in, what the user may do, the sections (client-side routing under
// /console/), the live badge and notices.

import { h, replace, field } from './dom.js';
import { session, whoAmI, ApiError } from './api.js';
import { LiveFeed } from './live.js';
import { KeysView } from './keys.js';
import { FlagsView } from './flags.js';
import { ConflictsView } from './conflicts.js';
import { ClusterView } from './cluster.js';
import { consoleConfig, beginSignIn, completeSignIn } from './signin.js';

const Base = '/console';
const Sections = { keys: KeysView, flags: FlagsView, conflicts: ConflictsView, cluster: ClusterView };
const LiveText = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', stopped: 'Not connected' };

// A token handed over in the fragment (/console#token=...) is taken, then removed from the address
// bar and the history, before anything else runs. The fragment never reaches a server.
(function takeTokenFromFragment() {
  if (!location.hash) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token) {
    session.set(token);
    history.replaceState(history.state, '', location.pathname + location.search);
  }
})();

const main = document.getElementById('main');
const notice = document.getElementById('notice');
const live = new LiveFeed();
let me = null;
let config = { auth: 'unknown', signIn: null };
let current = null;
let noticeTimer = 0;

const app = {
  live,
  get me() { return me; },
  navigate(url, { replace: replaceEntry = false } = {}) {
    if (replaceEntry) history.replaceState(null, '', url); else history.pushState(null, '', url);
    render();
  },
  notify(message, kind = 'info') {
    clearTimeout(noticeTimer);
    notice.hidden = false;
    notice.dataset.kind = kind;
    notice.textContent = message;
    if (kind !== 'error') noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
  },
  fail(error) {
    if (error?.name === 'AbortError') return;
    if (error instanceof ApiError && error.status === 401) { showSignIn('Your session needs a token: sign in.'); return; }
    if (error instanceof ApiError && error.status === 403) { app.notify('Not allowed: ' + error.message, 'error'); return; }
    app.notify(error?.message || String(error), 'error');
  },
};

live.onState(state => {
  const badge = document.getElementById('live');
  badge.dataset.state = state;
  badge.textContent = LiveText[state] ?? state;
});
live.subscribe(message => current?.onLive?.(message));

window.addEventListener('azkv:unauthorized', () => showSignIn('The node asked for a token: sign in.'));
window.addEventListener('popstate', () => render());
document.addEventListener('click', event => {
  const link = event.target.closest?.('a[href]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !(url.pathname === Base || url.pathname.startsWith(Base + '/'))) return;
  event.preventDefault();
  app.navigate(url.pathname + url.search);
});
document.getElementById('signin').addEventListener('click', () => showSignIn());
document.getElementById('signout').addEventListener('click', () => {
  session.clear();
  me = null;
  live.stop();
  showSignIn('Signed out.');
});

function section() {
  const rest = location.pathname.slice(Base.length).replace(/^\/+/, '');
  const name = rest.split('/')[0] || 'keys';
  return Sections[name] ? name : null;
}

async function start() {
  config = await consoleConfig();
  if (location.pathname === Base + '/signin') {
    if (!config.signIn) { history.replaceState(null, '', Base + '/keys'); }
    else {
      try {
        const { returnTo } = await completeSignIn(config.signIn);
        history.replaceState(null, '', returnTo);
      } catch (error) {
        showSignIn(error.message);
        return;
      }
    }
  }
  try {
    me = await whoAmI();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { showSignIn(); return; }
    app.fail(error);
    me = null;
  }
  if (me && !me.open && !me.authenticated && me.roles.length === 0) { showSignIn(); return; }
  updateWho();
  live.start();
  render();
}

function updateWho() {
  const who = document.getElementById('who');
  const token = !!session.token;
  document.getElementById('signout').hidden = !token;
  document.getElementById('signin').textContent = token ? 'Change token' : 'Sign in';
  if (!me) { who.textContent = ''; return; }
  if (me.open) { who.textContent = 'Open node (no sign-in)'; return; }
  const roles = me.roles.map(r => r.role + (r.prefixes?.length && !r.prefixes.includes('') ? ' on ' + r.prefixes.join(', ') : '')).join('; ');
  who.textContent = (me.subject ?? 'anonymous') + (roles ? ' · ' + roles : ' · no roles');
}

function render() {
  current?.unmount?.();
  current = null;
  const name = section();
  for (const a of document.querySelectorAll('nav a[data-section]')) {
    if (a.dataset.section === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (!name) {
    replace(main, h('h1', null, 'Not found'), h('p', null, 'The console has no page here. ', h('a', { href: Base + '/keys' }, 'Go to keys')));
    return;
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · AzKv console`;
  current = new Sections[name](main, app, new URLSearchParams(location.search));
  Promise.resolve(current.mount()).catch(error => app.fail(error));
}

function showSignIn(message) {
  current?.unmount?.();
  current = null;
  live.stop();
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true, size: 40 });
  const signIn = config.signIn;
  const microsoft = signIn
    ? h('button', { type: 'button', 'data-testid': 'signin-microsoft', onclick: () => {
      const back = location.pathname.startsWith(Base + '/') && location.pathname !== Base + '/signin' ? location.pathname + location.search : Base + '/keys';
      beginSignIn(signIn, back).catch(error => app.notify('Could not start the sign-in: ' + error.message, 'error'));
    } }, 'Sign in with Microsoft')
    : null;
  const form = h('form', { class: 'panel signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    message ? h('p', { role: 'status' }, message) : null,
    microsoft ? [h('p', null, 'Sign in with your Microsoft Entra ID account: your app roles on AzKv decide what you may do.'), h('div', { class: 'actions' }, microsoft)] : null,
    h('p', { class: 'muted' }, microsoft
      ? 'Or paste an access token for the AzKv API. Either way the token is kept in this tab only (session storage) and sent as an Authorization header.'
      : 'Paste an AzKv token (azkv up prints a console link that carries it). It is kept in this tab only (session storage) and sent as an Authorization header.'),
    field('Token', input),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: microsoft ? 'secondary' : null }, 'Sign in with this token')));
  form.addEventListener('submit', event => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    session.set(token);
    notice.hidden = true;
    start();
  });
  replace(main, form);
  (microsoft ?? input).focus();
}

start();
