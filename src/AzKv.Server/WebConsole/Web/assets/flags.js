// Feature flags: keys .appconfig.featureflag/<name> holding the Microsoft feature-flag schema (v2)
// document, content type application/vnd.microsoft.appconfig.ff+json (docs/configuration-provider.md).
// Every change is a read-modify-write with If-Match; fields the console does not edit are kept.

import { h, replace, field, base64ToBytes } from './dom.js';
import { call, keyUrl, listPage, canWrite, canWriteAnything } from './api.js';

export const FlagPrefix = '.appconfig.featureflag/';
export const FlagContentType = 'application/vnd.microsoft.appconfig.ff+json; charset=utf-8';
const NamePattern = /^[A-Za-z0-9._-]{1,256}$/;

export class FlagsView {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.flags = new Map();
    this.reloading = null;
  }

  async mount() {
    this.table = h('div', { class: 'table-wrap' });
    this.editor = h('section', { class: 'panel', 'aria-label': 'Flag editor', hidden: true });
    const create = h('button', { type: 'button', onclick: () => this.showEditor(null) }, 'New flag');
    if (!canWriteAnything(this.app.me) || !canWrite(this.app.me, FlagPrefix)) { create.disabled = true; create.title = 'Your role cannot write flags.'; }
    replace(this.root, h('h1', null, 'Feature flags'),
      h('section', { class: 'panel', 'aria-label': 'Flags' }, h('div', { class: 'actions' }, create), this.table),
      this.editor);
    await this.load();
  }

  unmount() { this.unmounted = true; }

  async load() {
    const flags = new Map();
    let cursor = null;
    do {
      const page = await listPage(FlagPrefix, { cursor, limit: 500, values: true });
      for (const item of page.items) {
        const name = item.key.slice(FlagPrefix.length);
        let doc = null;
        let error = null;
        try { doc = JSON.parse(new TextDecoder().decode(base64ToBytes(item.value))); } catch (e) { error = e.message; }
        if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) { error = 'not a JSON object'; doc = null; }
        flags.set(name, { name, key: item.key, etag: item.etag, doc, error });
      }
      cursor = page.next;
    } while (cursor);
    if (this.unmounted) return;
    this.flags = flags;
    this.render();
  }

  render() {
    if (this.flags.size === 0) { replace(this.table, h('p', { class: 'muted' }, 'No feature flags yet.')); return; }
    const rows = [...this.flags.values()].map(flag => {
      const writable = canWrite(this.app.me, flag.key);
      if (!flag.doc) {
        return h('tr', { 'data-flag': flag.name }, h('th', { scope: 'row' }, flag.name), h('td', { colspan: '4', class: 'error' }, 'Not a valid flag document: ' + flag.error));
      }
      const on = flag.doc.enabled === true;
      const toggle = h('button', { type: 'button', class: 'switch', role: 'switch', 'aria-checked': String(on), 'aria-label': `${flag.name} enabled`, disabled: !writable,
        onclick: () => this.toggle(flag) }, on ? 'On' : 'Off');
      const edit = h('button', { type: 'button', class: 'secondary', disabled: !writable, onclick: () => this.showEditor(flag) }, 'Edit');
      edit.setAttribute('aria-label', `Edit ${flag.name}`);
      const del = h('button', { type: 'button', class: 'danger', disabled: !writable, onclick: () => this.confirmDelete(flag, del) }, 'Delete');
      del.setAttribute('aria-label', `Delete ${flag.name}`);
      return h('tr', { 'data-flag': flag.name },
        h('th', { scope: 'row' }, flag.name),
        h('td', null, toggle),
        h('td', null, describeFilters(flag.doc)),
        h('td', null, flag.doc.description ?? ''),
        h('td', null, h('div', { class: 'actions' }, edit, del)));
    });
    // A re-render (after a toggle, or a change from the watch stream) keeps the keyboard focus on the switch.
    const active = document.activeElement;
    const keep = this.focusFlag ?? (this.table.contains(active) && active.classList.contains('switch') ? active.closest('tr')?.dataset.flag : null);
    replace(this.table, h('table', null,
      h('caption', { class: 'muted' }, `${this.flags.size} flag${this.flags.size === 1 ? '' : 's'}`),
      h('thead', null, h('tr', null, ['Name', 'State', 'Filters', 'Description', 'Actions'].map(t => h('th', { scope: 'col' }, t)))),
      h('tbody', null, rows)));
    if (keep) {
      this.table.querySelector(`tr[data-flag="${CSS.escape(keep)}"] .switch`)?.focus();
      this.focusFlag = null;
    }
  }

  async write(flag, doc, { create = false } = {}) {
    const headers = { 'Content-Type': FlagContentType };
    if (create) headers['If-None-Match'] = '*'; else headers['If-Match'] = flag.etag;
    const response = await call('PUT', keyUrl(FlagPrefix + doc.id), { body: JSON.stringify(doc), headers, allow: [412] });
    return response.status !== 412;
  }

  async toggle(flag) {
    const doc = { ...flag.doc, enabled: !(flag.doc.enabled === true) };
    this.focusFlag = flag.name;
    try {
      if (await this.write(flag, doc)) {
        this.app.notify(`${flag.name} is now ${doc.enabled ? 'on' : 'off'}.`, 'ok');
      } else {
        this.app.notify(`${flag.name} was changed by someone else; the list is reloaded. Nothing was written.`, 'error');
      }
      await this.load();
    } catch (err) { this.app.fail(err); }
  }

  confirmDelete(flag, button) {
    const cell = button.parentElement;
    const yes = h('button', { type: 'button', class: 'danger', onclick: async () => {
      try {
        const response = await call('DELETE', keyUrl(flag.key), { headers: { 'If-Match': flag.etag }, allow: [404, 412] });
        if (response.status === 412) this.app.notify(`${flag.name} changed since the list was loaded; nothing was deleted.`, 'error');
        else this.app.notify(`Deleted flag ${flag.name}.`, 'ok');
        await this.load();
      } catch (err) { this.app.fail(err); }
    } }, `Delete ${flag.name}`);
    replace(cell, h('span', null, 'Sure? '), yes, h('button', { type: 'button', class: 'secondary', onclick: () => this.render() }, 'Cancel'));
    yes.focus();
  }

  showEditor(flag) {
    const doc = flag ? structuredClone(flag.doc) : { id: '', enabled: false, conditions: { client_filters: [] } };
    const filters = doc.conditions?.client_filters ?? [];
    const percentage = filters.find(f => f.name === 'Microsoft.Percentage' || f.name === 'Percentage');
    const targeting = filters.find(f => f.name === 'Microsoft.Targeting' || f.name === 'Targeting');
    const timeWindow = filters.find(f => f.name === 'Microsoft.TimeWindow' || f.name === 'TimeWindow');
    const others = filters.filter(f => f !== percentage && f !== targeting && f !== timeWindow);
    const audience = targeting?.parameters?.Audience ?? {};

    const name = h('input', { type: 'text', name: 'name', value: doc.id ?? '', required: true, size: 40, readonly: !!flag, spellcheck: 'false' });
    const description = h('input', { type: 'text', name: 'description', value: doc.description ?? '', size: 50 });
    const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: doc.enabled === true });
    const requirement = h('select', { name: 'requirement' }, h('option', { value: 'Any' }, 'Any filter'), h('option', { value: 'All' }, 'All filters'));
    requirement.value = doc.conditions?.requirement_type === 'All' ? 'All' : 'Any';
    const usePercent = h('input', { type: 'checkbox', name: 'usePercentage', checked: !!percentage });
    const percent = h('input', { type: 'number', name: 'percentage', min: '0', max: '100', step: '1', value: String(percentage?.parameters?.Value ?? 50) });
    const useTargeting = h('input', { type: 'checkbox', name: 'useTargeting', checked: !!targeting });
    const users = h('input', { type: 'text', name: 'users', value: (audience.Users ?? []).join(', '), size: 50 });
    const groups = h('textarea', { name: 'groups', value: (audience.Groups ?? []).map(g => `${g.Name}=${g.RolloutPercentage ?? 0}`).join('\n') });
    groups.style.minHeight = '4rem';
    const defaultRollout = h('input', { type: 'number', name: 'defaultRollout', min: '0', max: '100', step: '1', value: String(audience.DefaultRolloutPercentage ?? 0) });
    const excludedUsers = h('input', { type: 'text', name: 'excludedUsers', value: (audience.Exclusion?.Users ?? []).join(', '), size: 50 });
    const excludedGroups = h('input', { type: 'text', name: 'excludedGroups', value: (audience.Exclusion?.Groups ?? []).join(', '), size: 50 });
    const error = h('p', { class: 'error', role: 'alert' });

    const form = h('form', null,
      h('h2', null, flag ? `Edit ${flag.name}` : 'New flag'),
      field('Name', name, 'Letters, digits, ".", "-" and "_".'),
      field('Description', description),
      h('label', { class: 'inline' }, enabled, 'Enabled'),
      field('Requirement', requirement, 'With filters, the flag is on for a user when any (or all) of them match.'),
      h('fieldset', null, h('legend', null, 'Percentage filter'),
        h('label', { class: 'inline' }, usePercent, 'On for a percentage of evaluations'),
        field('Percentage (0–100)', percent)),
      h('fieldset', null, h('legend', null, 'Targeting filter'),
        h('label', { class: 'inline' }, useTargeting, 'On for an audience'),
        h('div', { class: 'grid2' },
          field('Users (comma-separated)', users),
          field('Default rollout percentage', defaultRollout),
          field('Groups (one per line: name=percentage)', groups),
          h('div', null, field('Excluded users', excludedUsers), field('Excluded groups', excludedGroups)))),
      others.length ? h('p', { class: 'muted' }, `Other filters kept as they are: ${others.map(f => f.name).join(', ')}.`) : null,
      timeWindow ? h('p', { class: 'muted' }, 'The time window filter is kept as it is.') : null,
      error,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, flag ? 'Save flag' : 'Create flag'),
        h('button', { type: 'button', class: 'secondary', onclick: () => { this.editor.hidden = true; } }, 'Cancel')));

    form.addEventListener('submit', async event => {
      event.preventDefault();
      const id = name.value.trim();
      if (!NamePattern.test(id)) { error.textContent = 'The name must be 1–256 letters, digits, ".", "-" or "_".'; return; }
      const p = Number(percent.value);
      if (usePercent.checked && !(p >= 0 && p <= 100)) { error.textContent = 'The percentage must be between 0 and 100.'; return; }
      const groupList = [];
      for (const line of groups.value.split('\n').map(l => l.trim()).filter(Boolean)) {
        const [g, r] = line.split('=');
        const rollout = Number(r);
        if (!g || !(rollout >= 0 && rollout <= 100)) { error.textContent = `Group line "${line}" is not name=percentage.`; return; }
        groupList.push({ Name: g.trim(), RolloutPercentage: rollout });
      }
      const next = structuredClone(doc);
      next.id = id;
      next.enabled = enabled.checked;
      if (description.value) next.description = description.value; else delete next.description;
      const newFilters = [];
      if (usePercent.checked) newFilters.push({ ...(percentage ?? {}), name: percentage?.name ?? 'Microsoft.Percentage', parameters: { ...(percentage?.parameters ?? {}), Value: p } });
      if (useTargeting.checked) {
        newFilters.push({ ...(targeting ?? {}), name: targeting?.name ?? 'Microsoft.Targeting', parameters: { ...(targeting?.parameters ?? {}), Audience: {
          ...audience, Users: splitList(users.value), Groups: groupList, DefaultRolloutPercentage: Number(defaultRollout.value) || 0,
          Exclusion: { ...(audience.Exclusion ?? {}), Users: splitList(excludedUsers.value), Groups: splitList(excludedGroups.value) } } } });
      }
      if (timeWindow) newFilters.push(timeWindow);
      newFilters.push(...others);
      next.conditions = { ...(doc.conditions ?? {}), client_filters: newFilters };
      if (requirement.value === 'All') next.conditions.requirement_type = 'All'; else delete next.conditions.requirement_type;
      try {
        const ok = await this.write(flag, next, { create: !flag });
        if (!ok) {
          error.textContent = flag ? 'Someone changed this flag since you opened it. Nothing was written; cancel and edit again.' : `A flag named ${id} already exists.`;
          await this.load();
          return;
        }
        this.editor.hidden = true;
        this.app.notify(`${flag ? 'Saved' : 'Created'} flag ${id}.`, 'ok');
        await this.load();
      } catch (err) { this.app.fail(err); }
    });
    replace(this.editor, form);
    this.editor.hidden = false;
    (flag ? description : name).focus();
  }

  onLive(message) {
    if (message.type === 'reset' || message.change.key.startsWith(FlagPrefix)) {
      this.reloading ??= this.load().catch(err => this.app.fail(err)).finally(() => { this.reloading = null; });
    }
  }
}

function splitList(text) {
  return text.split(',').map(s => s.trim()).filter(Boolean);
}

export function describeFilters(doc) {
  const filters = doc.conditions?.client_filters ?? [];
  if (filters.length === 0) return doc.enabled ? 'Everyone' : '—';
  const parts = filters.map(f => {
    if (f.name === 'Microsoft.Percentage' || f.name === 'Percentage') return `${f.parameters?.Value ?? 0}% of evaluations`;
    if (f.name === 'Microsoft.Targeting' || f.name === 'Targeting') {
      const a = f.parameters?.Audience ?? {};
      const bits = [];
      if (a.Users?.length) bits.push(`${a.Users.length} user${a.Users.length === 1 ? '' : 's'}`);
      if (a.Groups?.length) bits.push(a.Groups.map(g => `${g.Name} ${g.RolloutPercentage}%`).join(', '));
      bits.push(`default ${a.DefaultRolloutPercentage ?? 0}%`);
      return 'Targeting: ' + bits.join('; ');
    }
    if (f.name === 'Microsoft.TimeWindow' || f.name === 'TimeWindow') return `Time window ${f.parameters?.Start ?? '…'} – ${f.parameters?.End ?? '…'}`;
    return f.name;
  });
  return parts.join(doc.conditions?.requirement_type === 'All' ? ' and ' : ' or ');
}
