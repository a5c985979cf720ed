// Siblings (conflict policy siblings, GET answers 300): every concurrent version side by side, and
// a resolve form. "Use version N" copies a version into the form, where it may be merged by hand;
// Resolve writes one value with the context ETag, which replaces every version shown. Used by the
// key view and the Conflicts view.

import { h, meta, describeValue, hlcTime, base64ToBytes, field } from './dom.js';

// entry: { key, etag (the context), versions: [{ contentType, value (base64), region, hlc }] }.
// onResolve({ body, text, contentType, etag }) writes the resolved value.
export function siblingsEditor(entry, { writable, onResolve, idPrefix = 'sib' }) {
  const valueInput = h('textarea', { name: 'merged', spellcheck: 'false', 'data-testid': 'resolved-value' });
  const typeInput = h('input', { type: 'text', name: 'contentType', value: entry.versions[0]?.contentType ?? 'text/plain', size: 40 });
  const versions = entry.versions.map((v, i) => {
    const shown = describeValue(base64ToBytes(v.value), v.contentType);
    const pick = h('button', {
      type: 'button', class: 'secondary', disabled: !writable || shown.kind === 'binary',
      title: shown.kind === 'binary' ? 'A binary version cannot be edited here.' : null,
      onclick: () => { valueInput.value = shown.raw ?? ''; typeInput.value = v.contentType; valueInput.focus(); },
    }, `Use version ${i + 1}`);
    const title = `${idPrefix}-v${i + 1}`;
    return h('section', { class: 'panel version', 'aria-labelledby': title, 'data-testid': 'sibling-version' },
      h('h3', { id: title }, `Version ${i + 1}`),
      meta([['Region (writer)', v.region], ['Time', hlcTime(v.hlc)], ['Content type', v.contentType]]),
      h('pre', { class: 'value', tabindex: '0', 'aria-label': `Value of version ${i + 1}` }, shown.text), pick);
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const resolveButton = h('button', { type: 'submit', disabled: !writable }, 'Resolve');
  if (!writable) resolveButton.title = 'Your role cannot change this key.';
  const form = h('form', { 'aria-label': `Resolve ${entry.key}` },
    h('h3', null, 'Resolve'),
    h('p', { class: 'muted' }, 'Pick a version or merge them by hand; Resolve writes one value with the context ETag, which replaces every version shown.'),
    field('Content type', typeInput), field('Resolved value', valueInput), error,
    h('div', { class: 'actions' }, resolveButton));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    if (valueInput.value === '') { error.textContent = 'Pick a version or enter the merged value first.'; valueInput.focus(); return; }
    error.textContent = '';
    resolveButton.disabled = true;
    try {
      await onResolve({ body: valueInput.value, text: valueInput.value, contentType: typeInput.value, etag: entry.etag });
    } finally {
      resolveButton.disabled = !writable;
    }
  });
  return {
    elements: [h('div', { class: 'versions' }, versions), form],
    // True once the user has started a resolution (so a live update must not throw it away).
    get dirty() { return valueInput.value !== ''; },
  };
}
