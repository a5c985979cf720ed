// Conflicts: the last-writer-wins conflict log (GET /v1/conflicts) with both versions, and the keys
// kept with concurrent versions (policy siblings; LIST marks them with "versions"), each shown with
// every version and resolved here with the context ETag.

import { h, replace, meta, describeValue, hlcTime, base64ToBytes, field } from './dom.js';
import { json, call, keyUrl, listPage, canWrite } from './api.js';
import { keysLink } from './keys.js';
import { siblingsEditor } from './siblings.js';

const RefreshMs = 5000;
const ScanPageSize = 1000;
const ScanPages = 10;
const SiblingsShown = 20;

export class ConflictsView {
  constructor(root, app) {
    this.root = root;
    this.app = app;
  }

  async mount() {
    this.log = h('div', { class: 'table-wrap' });
    this.updated = h('p', { class: 'muted', role: 'status' });
    this.prefixInput = h('input', { type: 'text', name: 'prefix', size: 40, spellcheck: 'false', value: '' });
    this.siblingsStatus = h('p', { class: 'muted', role: 'status', 'data-testid': 'siblings-status' });
    this.siblingsList = h('div', { 'data-testid': 'siblings-keys' });
    const find = h('form', { class: 'inline' }, field('Prefix', this.prefixInput, 'Keys under this prefix (empty: every key) whose versions are kept side by side.'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Find keys with siblings')));
    find.addEventListener('submit', event => {
      event.preventDefault();
      this.findSiblings().catch(err => this.app.fail(err));
    });
    replace(this.root, h('h1', null, 'Conflicts'),
      h('section', { class: 'panel', 'aria-labelledby': 'siblings-title' },
        h('h2', { id: 'siblings-title' }, 'Keys with siblings'),
        h('p', { class: 'muted' }, 'Under the siblings policy concurrent writes from different regions are all kept until someone resolves them: pick or merge a version and resolve it here.'),
        find, this.siblingsStatus, this.siblingsList),
      h('section', { class: 'panel', 'aria-labelledby': 'lww-title' },
        h('h2', { id: 'lww-title' }, 'Conflict log (last writer wins)'),
        h('p', { class: 'muted' }, 'Versions that lost to a concurrent version of the same key in this region, oldest first. The losing value is kept here, so nothing acknowledged is lost.'),
        this.updated, this.log));
    await Promise.all([this.load(), this.findSiblings()]);
    // The log is polled; the siblings list is not (it would throw away a resolution being edited).
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
        return h('tr', { 'data-testid': 'conflict-entry' },
          h('th', { scope: 'row' }, h('a', { href: keysLink(i < 0 ? '' : item.key.slice(0, i + 1), item.key) }, item.key)),
          h('td', null, item.detected, h('br'), h('span', { class: 'muted' }, 'in ' + item.detectedIn)),
          h('td', null, version(item.winner), h('p', { class: 'muted' }, item.winner.tombstone ? 'a delete' : 'its value is the key\'s value (open the key)')),
          h('td', null, version(item.loser), h('pre', { class: 'value' }, loserValue)));
      }))));
  }

  // Pages through LIST under the prefix (at most ScanPages pages) for keys marked with "versions".
  async findSiblings() {
    const prefix = this.prefixInput.value;
    this.siblingsStatus.textContent = 'Looking for keys with siblings…';
    const found = [];
    let cursor = null;
    let scanned = 0;
    let pages = 0;
    do {
      const page = await listPage(prefix, { cursor, limit: ScanPageSize });
      if (this.unmounted) return;
      scanned += page.items.length;
      for (const item of page.items) if (item.versions > 1) found.push(item.key);
      cursor = page.next;
      pages++;
    } while (cursor && pages < ScanPages && found.length < SiblingsShown);
    const shown = found.slice(0, SiblingsShown);
    const entries = await Promise.all(shown.map(key => this.fetchSiblings(key)));
    if (this.unmounted) return;
    const open = entries.filter(e => e !== null);
    this.siblingsStatus.textContent = `${open.length} key${open.length === 1 ? '' : 's'} with siblings`
      + (cursor ? ` in the first ${scanned} keys${prefix ? ' under ' + prefix : ''} (narrow the prefix to look further)` : `${prefix ? ' under ' + prefix : ''} (${scanned} keys checked)`) + '.';
    if (open.length === 0) { replace(this.siblingsList, h('p', null, 'No key has concurrent versions.')); return; }
    replace(this.siblingsList, open.map((entry, n) => this.renderKey(entry, n)));
  }

  async fetchSiblings(key) {
    const response = await call('GET', keyUrl(key), { allow: [300, 404] });
    if (response.status !== 300) { await response.body?.cancel(); return null; }
    const body = await response.json();
    return { key, etag: body.etag, versions: body.versions };
  }

  renderKey(entry, n) {
    const i = entry.key.lastIndexOf('/');
    const editor = siblingsEditor(entry, {
      writable: canWrite(this.app.me, entry.key),
      idPrefix: `sib${n}`,
      onResolve: draft => this.resolve(entry, draft),
    });
    const title = `sib${n}-title`;
    return h('section', { class: 'panel siblings', 'aria-labelledby': title, 'data-testid': 'siblings-key', 'data-key': entry.key },
      h('h3', { id: title }, h('a', { href: keysLink(i < 0 ? '' : entry.key.slice(0, i + 1), entry.key) }, entry.key)),
      h('p', null, `${entry.versions.length} concurrent versions. Context ETag `, h('code', null, entry.etag)),
      editor.elements);
  }

  // PUT with If-Match: the context ETag. A 412 means the versions changed meanwhile (a new write or
  // another resolution): nothing was written, and the list is read again to show what is there now.
  async resolve(entry, draft) {
    try {
      const response = await call('PUT', keyUrl(entry.key), { body: draft.body, headers: { 'Content-Type': draft.contentType, 'If-Match': draft.etag }, allow: [412] });
      if (response.status === 412) {
        this.app.notify(`${entry.key} changed since its versions were shown; nothing was written. The versions are shown again.`, 'error');
      } else {
        this.app.notify(`Resolved ${entry.key}: it has one value now.`, 'ok');
      }
      await this.findSiblings();
    } catch (err) { this.app.fail(err); }
  }

  onLive() { /* the log is not a key: refreshed on a timer */ }
}

function version(v) {
  return meta([['Region', v.region], ['Counter', String(v.counter)], ['Time', hlcTime(v.hlc)], ['Content type', v.contentType]]);
}
