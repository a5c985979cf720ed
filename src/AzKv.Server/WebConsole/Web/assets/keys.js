// Keys: a prefix tree (keys are /-separated paths) paged with the list cursor, a value viewer, and
// create / edit / delete with ETags; a stale write shows both versions. Siblings (300) are resolved here.

import { h, replace, field, meta, describeValue, formatBytes, isJson } from './dom.js';
import { siblingsEditor } from './siblings.js';
import { call, keyUrl, listPage, canWrite, canWriteAnything, ApiError } from './api.js';

const Base = '/console/keys';
const PageSize = 200;

export function keysLink(prefix, key) {
  const q = new URLSearchParams();
  if (prefix) q.set('prefix', prefix);
  if (key) q.set('key', key);
  const s = q.toString();
  return s ? `${Base}?${s}` : Base;
}

function parentPrefix(key) {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i + 1);
}

export class KeysView {
  constructor(root, app, query) {
    this.root = root;
    this.app = app;
    this.prefix = query.get('prefix') ?? (query.get('key') ? parentPrefix(query.get('key')) : '');
    this.key = query.get('key');
    this.items = new Map();
    this.next = null;
    this.loaded = false;
    this.mode = 'view';
    this.entry = null;
    this.gone = false;
  }

  async mount() {
    this.treeHeading = h('h2', { id: 'tree-title' }, 'Keys');
    this.crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Prefix' });
    this.list = h('ul', { class: 'tree', 'aria-labelledby': 'tree-title' });
    this.more = h('div', { class: 'actions' });
    this.detail = h('section', { class: 'panel', 'aria-label': 'Key details' });
    const newButton = h('button', { type: 'button', onclick: () => this.showCreate() }, 'New key');
    if (!canWriteAnything(this.app.me)) { newButton.disabled = true; newButton.title = 'Your role is read-only.'; }
    replace(this.root,
      h('h1', null, 'Keys'),
      h('div', { class: 'split' },
        h('section', { class: 'panel', 'aria-label': 'Key tree' }, this.treeHeading, this.crumbs,
          h('div', { class: 'actions' }, newButton), this.list, this.more),
        this.detail));
    this.renderCrumbs();
    await this.loadPage();
    if (this.key) await this.openKey(this.key); else this.renderEmptyDetail();
  }

  unmount() { this.unmounted = true; }

  renderCrumbs() {
    const parts = this.prefix.split('/').filter((p, i, all) => p !== '' || i < all.length - 1);
    const crumbs = [h('a', { href: keysLink('') }, '(root)')];
    let acc = '';
    for (const part of parts) {
      acc += part + '/';
      crumbs.push(' / ', h('a', { href: keysLink(acc) }, part));
    }
    replace(this.crumbs, crumbs);
    this.treeHeading.textContent = this.prefix ? `Keys under ${this.prefix}` : 'Keys';
  }

  async loadPage() {
    const page = await listPage(this.prefix, { cursor: this.next, limit: PageSize });
    for (const item of page.items) this.items.set(item.key, item);
    this.next = page.next;
    this.loaded = true;
    this.renderTree();
  }

  renderTree() {
    const folders = new Map();
    const leaves = [];
    for (const item of [...this.items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      const rest = item.key.slice(this.prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) {
        const folder = this.prefix + rest.slice(0, slash + 1);
        folders.set(folder, (folders.get(folder) ?? 0) + 1);
      } else {
        leaves.push(item);
      }
    }
    const rows = [];
    for (const [folder, count] of folders) {
      rows.push(h('li', null, h('a', { class: 'folder', href: keysLink(folder) }, folder.slice(this.prefix.length), h('span', { class: 'muted' }, ` (${count}${this.next ? '+' : ''})`))));
    }
    for (const item of leaves) {
      rows.push(h('li', null, h('a', { class: 'leaf', href: keysLink(this.prefix, item.key), 'aria-current': item.key === this.key ? 'true' : null, 'data-key': item.key },
        item.key.slice(this.prefix.length) || '(this prefix)')));
    }
    if (rows.length === 0 && this.loaded) rows.push(h('li', { class: 'muted' }, 'No keys under this prefix.'));
    replace(this.list, rows);
    replace(this.more, this.next
      ? h('button', { type: 'button', class: 'secondary', onclick: () => this.loadPage().catch(e => this.app.fail(e)) }, `Load more (${this.items.size} shown)`)
      : h('span', { class: 'muted' }, `${this.items.size} key${this.items.size === 1 ? '' : 's'}`));
  }

  renderEmptyDetail() {
    replace(this.detail, h('h2', null, 'No key selected'), h('p', { class: 'muted' }, 'Pick a key in the tree, or create one.'));
  }

  // GET the key: 200 value, 300 siblings, 404 gone.
  async fetchKey(key) {
    const response = await call('GET', keyUrl(key), { allow: [300, 404] });
    if (response.status === 404) return { key, status: 404 };
    if (response.status === 300) {
      const body = await response.json();
      return { key, status: 300, etag: body.etag, versions: body.versions };
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    return {
      key, status: 200, etag: response.headers.get('ETag'), contentType: response.headers.get('Content-Type') || 'application/octet-stream', bytes,
      lastWriter: response.headers.get('AzKv-Last-Writer'), lastModified: response.headers.get('Last-Modified'),
    };
  }

  async openKey(key, note) {
    this.key = key;
    this.mode = 'view';
    this.entry = await this.fetchKey(key);
    if (this.unmounted || this.key !== key) return;
    this.renderTree();
    this.renderView(note);
  }

  renderView(note) {
    const e = this.entry;
    this.mode = 'view';
    const writable = canWrite(this.app.me, e.key);
    const readOnlyNote = writable ? null : h('p', { class: 'muted', 'data-testid': 'read-only' }, 'Read-only: your role cannot change keys under this prefix.');
    if (e.status === 404) {
      replace(this.detail, h('h2', null, e.key), note ? h('p', { role: 'status' }, note) : null,
        h('p', { 'data-testid': 'key-missing' }, 'This key does not exist (it may have been deleted).'));
      return;
    }
    if (e.status === 300) { this.renderSiblings(e, note); return; }
    const shown = describeValue(e.bytes, e.contentType);
    const editButton = h('button', { type: 'button', onclick: () => this.showEdit() }, 'Edit');
    const deleteButton = h('button', { type: 'button', class: 'danger', onclick: () => this.showDeleteConfirm() }, 'Delete');
    for (const b of [editButton, deleteButton]) if (!writable) { b.disabled = true; b.title = 'Your role cannot change this key.'; }
    replace(this.detail,
      h('h2', { 'data-testid': 'key-title' }, e.key),
      note ? h('p', { role: 'status', class: 'changed', 'data-testid': 'key-note' }, note) : null,
      meta([
        ['Content type', e.contentType],
        ['Size', formatBytes(e.bytes.length)],
        ['ETag', e.etag],
        ['Shown as', shown.kind === 'binary' ? 'hex (binary value)' : shown.kind],
      ]),
      h('pre', { class: 'value', 'data-testid': 'value', tabindex: '0', 'aria-label': 'Value' }, shown.text),
      e.lastWriter
        ? h('p', { class: 'muted', 'data-testid': 'last-writer' }, 'Last written by ', h('code', null, e.lastWriter),
          e.lastModified ? ` at ${new Date(e.lastModified).toISOString()}` : '')
        : h('p', { class: 'muted', 'data-testid': 'last-writer' }, 'Last writer not recorded (written with authentication off).'),
      readOnlyNote,
      h('div', { class: 'actions' }, editButton, deleteButton));
  }

  showCreate() {
    this.mode = 'create';
    this.key = null;
    this.renderTree();
    const keyInput = h('input', { type: 'text', name: 'key', value: this.prefix, required: true, size: 50, spellcheck: 'false' });
    const typeInput = h('input', { type: 'text', name: 'contentType', value: 'text/plain; charset=utf-8', list: 'content-types', size: 40 });
    const valueInput = h('textarea', { name: 'value', spellcheck: 'false' });
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h('form', null,
      h('h2', null, 'New key'),
      field('Key', keyInput, 'Keys look like paths: app/feature/color.'),
      field('Content type', typeInput),
      contentTypeList(),
      field('Value', valueInput),
      error,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create'),
        h('button', { type: 'button', class: 'secondary', onclick: () => this.renderEmptyDetail() }, 'Cancel')));
    form.addEventListener('submit', async event => {
      event.preventDefault();
      const key = keyInput.value;
      const problem = validate(typeInput.value, valueInput.value);
      if (problem) { error.textContent = problem; return; }
      if (!canWrite(this.app.me, key)) { error.textContent = 'Your role cannot write keys under this prefix.'; return; }
      try {
        const response = await call('PUT', keyUrl(key), { body: valueInput.value, headers: { 'Content-Type': typeInput.value, 'If-None-Match': '*' }, allow: [412] });
        if (response.status === 412) {
          replace(error, `A key named ${key} already exists. `, h('a', { href: keysLink(parentPrefix(key), key) }, 'Open it'));
          return;
        }
        this.app.notify(`Created ${key}.`, 'ok');
        this.items.set(key, { key, etag: response.headers.get('ETag'), contentType: typeInput.value, size: 0 });
        this.app.navigate(keysLink(parentPrefix(key) === this.prefix || key.startsWith(this.prefix) ? this.prefix : parentPrefix(key), key));
      } catch (err) { this.app.fail(err); }
    });
    replace(this.detail, form);
    keyInput.focus();
  }

  showEdit(draft) {
    const e = this.entry;
    this.mode = 'edit';
    const shown = describeValue(e.bytes, e.contentType);
    const typeInput = h('input', { type: 'text', name: 'contentType', value: draft?.contentType ?? e.contentType, list: 'content-types', size: 40 });
    const binary = shown.kind === 'binary' && !draft;
    const valueInput = h('textarea', { name: 'value', spellcheck: 'false', value: draft?.text ?? (shown.kind === 'json' ? shown.text : shown.raw ?? '') });
    const fileInput = h('input', { type: 'file', name: 'file' });
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h('form', null,
      h('h2', null, 'Edit ', e.key),
      meta([['Editing version', e.etag]]),
      field('Content type', typeInput),
      contentTypeList(),
      binary ? field('Replace the binary value with a file', fileInput, `The current value is ${formatBytes(e.bytes.length)} of binary data.`) : field('Value', valueInput),
      error,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', onclick: () => this.openKey(e.key).catch(err => this.app.fail(err)) }, 'Cancel')));
    form.addEventListener('submit', async event => {
      event.preventDefault();
      let body;
      let text = null;
      if (binary) {
        if (!fileInput.files?.length) { error.textContent = 'Choose a file.'; return; }
        body = await fileInput.files[0].arrayBuffer();
      } else {
        text = valueInput.value;
        const problem = validate(typeInput.value, text);
        if (problem) { error.textContent = problem; return; }
        body = text;
      }
      await this.save({ body, text, contentType: typeInput.value, etag: e.etag });
    });
    replace(this.detail, form);
    (binary ? fileInput : valueInput).focus();
  }

  // PUT with If-Match; a 412 shows the conflict with both versions.
  async save(draft) {
    const key = this.entry.key;
    try {
      const headers = { 'Content-Type': draft.contentType };
      if (draft.etag) headers['If-Match'] = draft.etag; else headers['If-None-Match'] = '*';
      const response = await call('PUT', keyUrl(key), { body: draft.body, headers, allow: [412] });
      if (response.status === 412) { await this.showConflict('edit', draft); return; }
      this.app.notify(`Saved ${key}.`, 'ok');
      await this.openKey(key);
    } catch (err) { this.app.fail(err); }
  }

  showDeleteConfirm() {
    const e = this.entry;
    this.mode = 'confirm';
    const confirmButton = h('button', { type: 'button', class: 'danger', onclick: () => this.remove(e.etag) }, 'Delete this key');
    replace(this.detail,
      h('h2', null, 'Delete ', e.key, '?'),
      h('p', null, 'The key is deleted only if nobody changed it since you opened it (ETag ', h('code', null, e.etag), ').'),
      h('div', { class: 'actions' }, confirmButton,
        h('button', { type: 'button', class: 'secondary', onclick: () => this.renderView() }, 'Cancel')));
    confirmButton.focus();
  }

  async remove(etag) {
    const key = this.entry.key;
    try {
      const response = await call('DELETE', keyUrl(key), { headers: { 'If-Match': etag }, allow: [404, 412] });
      if (response.status === 412) { await this.showConflict('delete', { etag }); return; }
      this.items.delete(key);
      this.app.notify(response.status === 404 ? `${key} was already deleted.` : `Deleted ${key}.`, 'ok');
      this.app.navigate(keysLink(this.prefix));
    } catch (err) { this.app.fail(err); }
  }

  // Someone changed the key since it was opened: show both versions; reload (drop mine) or overwrite.
  async showConflict(action, draft) {
    const key = this.entry.key;
    const latest = await this.fetchKey(key);
    if (this.unmounted) return;
    const theirs = latest.status === 200 ? describeValue(latest.bytes, latest.contentType)
      : latest.status === 404 ? { text: '(deleted)', kind: 'text' } : { text: `(${latest.versions.length} concurrent versions)`, kind: 'text' };
    const mine = action === 'delete' ? { text: '(delete the key)' } : draft.text !== null ? { text: draft.text } : { text: `(a file of ${draft.body.byteLength} bytes)` };
    const currentEtag = latest.status === 404 ? null : latest.etag;
    this.mode = 'conflict';
    const overwrite = h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (action === 'delete') {
        if (!currentEtag) { await this.openKey(key); return; }
        this.entry = latest;
        await this.remove(currentEtag);
      } else {
        this.entry = latest.status === 404 ? { key, status: 404 } : latest;
        await this.save({ ...draft, etag: currentEtag });
      }
    } }, action === 'delete' ? 'Delete anyway' : 'Overwrite with my version');
    const reload = h('button', { type: 'button', onclick: () => this.openKey(key).catch(err => this.app.fail(err)) }, 'Reload (discard mine)');
    const resolving = this.entry.status === 300;
    const back = action !== 'edit' ? null
      : resolving ? h('button', { type: 'button', class: 'secondary', onclick: () => { this.entry = latest; this.renderView(); } }, 'Show the versions again')
        : h('button', { type: 'button', class: 'secondary', onclick: () => { this.entry = latest.status === 200 ? latest : this.entry; this.showEdit(draft); } }, 'Keep editing');
    replace(this.detail, h('div', { class: 'conflict', 'data-testid': 'conflict', role: 'region', 'aria-labelledby': 'conflict-title' },
      h('h2', { id: 'conflict-title' }, 'Conflict: ', key, ' changed since you opened it'),
      h('p', null, 'Another writer changed this key after you loaded it (your ETag ', h('code', null, draft.etag ?? '(none)'), ', now ', h('code', null, currentEtag ?? 'deleted'), '). Nothing was written.'),
      h('div', { class: 'compare' },
        h('section', { 'aria-label': 'Your version' }, h('h3', null, 'Your version (not saved)'), h('pre', { class: 'value', 'data-testid': 'conflict-mine' }, mine.text)),
        h('section', { 'aria-label': 'Current version' }, h('h3', null, 'Current version'), h('pre', { class: 'value', 'data-testid': 'conflict-theirs' }, theirs.text))),
      h('div', { class: 'actions' }, reload, overwrite, back)));
    reload.focus();
  }

  renderSiblings(e, note) {
    this.mode = 'siblings';
    const writable = canWrite(this.app.me, e.key);
    this.siblings = siblingsEditor(e, { writable, onResolve: draft => this.save(draft) });
    replace(this.detail, h('h2', { 'data-testid': 'key-title' }, e.key), note ? h('p', { role: 'status', class: 'changed', 'data-testid': 'key-note' }, note) : null,
      h('p', { 'data-testid': 'siblings' }, `${e.versions.length} concurrent versions (conflict policy siblings). Context ETag `, h('code', null, e.etag)),
      writable ? null : h('p', { class: 'muted', 'data-testid': 'read-only' }, 'Read-only: your role cannot change keys under this prefix.'),
      this.siblings.elements);
  }

  // A change from the watch stream: keep the tree and the open key current without a reload.
  onLive(message) {
    if (message.type === 'reset') { this.reloadAll(); return; }
    const change = message.change;
    if (!change.key.startsWith(this.prefix)) return;
    if (change.type === 'delete') {
      this.items.delete(change.key);
    } else {
      const last = [...this.items.keys()].sort().at(-1);
      if (this.next === null || (last !== undefined && change.key <= last)) {
        this.items.set(change.key, { key: change.key, etag: change.etag, contentType: change.contentType, size: change.size });
      }
    }
    this.renderTree();
    if (change.key === this.key && this.entry) {
      if (this.mode === 'view' || (this.mode === 'siblings' && !this.siblings?.dirty)) {
        const what = change.type === 'delete' ? 'deleted' : 'changed';
        this.openKey(change.key, `Updated live: this key was ${what} just now.`).catch(err => this.app.fail(err));
      } else if ((this.mode === 'edit' || this.mode === 'siblings') && change.etag !== this.entry.etag) {
        const banner = h('p', { class: 'error', role: 'status' }, 'This key changed since you opened it; saving will show both versions.');
        this.detail.prepend(banner);
      }
    }
  }

  reloadAll() {
    this.items.clear();
    this.next = null;
    this.loadPage().catch(err => this.app.fail(err));
  }
}

function validate(contentType, text) {
  if (isJson(contentType)) {
    try { JSON.parse(text); } catch (error) { return 'The value is not valid JSON: ' + error.message; }
  }
  return null;
}

function contentTypeList() {
  return h('datalist', { id: 'content-types' },
    ['text/plain; charset=utf-8', 'application/json', 'application/octet-stream', 'application/vnd.microsoft.appconfig.ff+json; charset=utf-8'].map(v => h('option', { value: v })));
}

export { ApiError };
