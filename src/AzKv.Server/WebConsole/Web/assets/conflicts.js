// Conflicts: the last-writer-wins conflict log (GET /v1/conflicts) with both versions, and the keys
// whose versions are kept side by side (policy siblings), resolved in the key view.

import { h, replace, meta, describeValue, hlcTime, base64ToBytes, field } from './dom.js';
import { json } from './api.js';
import { keysLink } from './keys.js';

const RefreshMs = 5000;

export class ConflictsView {
  constructor(root, app) {
    this.root = root;
    this.app = app;
  }

  async mount() {
    this.log = h('div', { class: 'table-wrap' });
    this.updated = h('p', { class: 'muted', role: 'status' });
    const keyInput = h('input', { type: 'text', name: 'key', size: 50, spellcheck: 'false', required: true });
    const open = h('form', null, field('Open a key with siblings (policy siblings) to pick or merge a version', keyInput),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Open key')));
    open.addEventListener('submit', event => {
      event.preventDefault();
      const key = keyInput.value.trim();
      const i = key.lastIndexOf('/');
      this.app.navigate(keysLink(i < 0 ? '' : key.slice(0, i + 1), key));
    });
    replace(this.root, h('h1', null, 'Conflicts'),
      h('section', { class: 'panel', 'aria-labelledby': 'lww-title' },
        h('h2', { id: 'lww-title' }, 'Conflict log (last writer wins)'),
        h('p', { class: 'muted' }, 'Versions that lost to a concurrent version of the same key in this region, oldest first. The losing value is kept here, so nothing acknowledged is lost.'),
        this.updated, this.log),
      h('section', { class: 'panel', 'aria-label': 'Siblings' }, h('h2', null, 'Siblings'), open));
    await this.load();
    this.timer = setInterval(() => this.load().catch(err => this.app.fail(err)), RefreshMs);
  }

  unmount() { clearInterval(this.timer); this.unmounted = true; }

  async load() {
    const page = await json('/v1/conflicts?limit=500');
    if (this.unmounted) return;
    this.updated.textContent = `${page.items.length} entr${page.items.length === 1 ? 'y' : 'ies'} · updated ${new Date().toLocaleTimeString()}`;
    if (page.items.length === 0) { replace(this.log, h('p', null, 'No conflicts recorded.')); return; }
    replace(this.log, h('table', null,
      h('thead', null, h('tr', null, ['Key', 'Detected', 'Winner', 'Loser'].map(t => h('th', { scope: 'col' }, t)))),
      h('tbody', null, page.items.map(item => {
        const loserValue = item.loser.tombstone ? '(delete)' : describeValue(base64ToBytes(item.loser.value ?? ''), item.loser.contentType).text;
        const i = item.key.lastIndexOf('/');
        return h('tr', null,
          h('th', { scope: 'row' }, h('a', { href: keysLink(i < 0 ? '' : item.key.slice(0, i + 1), item.key) }, item.key)),
          h('td', null, item.detected, h('br'), h('span', { class: 'muted' }, 'in ' + item.detectedIn)),
          h('td', null, version(item.winner), h('p', { class: 'muted' }, item.winner.tombstone ? 'a delete' : 'its value is the key\'s value (open the key)')),
          h('td', null, version(item.loser), h('pre', { class: 'value' }, loserValue)));
      }))));
  }

  onLive() { /* the log is not a key: refreshed on a timer */ }
}

function version(v) {
  return meta([['Region', v.region], ['Counter', String(v.counter)], ['Time', hlcTime(v.hlc)], ['Content type', v.contentType]]);
}
