// Small DOM helpers: elements are built with h(), never from HTML strings (no injection, strict CSP).

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'value' && (tag === 'input' || tag === 'textarea' || tag === 'select')) el.value = value;
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function field(label, input, hint) {
  const id = input.id || ('f' + Math.random().toString(36).slice(2, 10));
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('div', { class: 'muted' }, hint) : null);
}

export function meta(pairs) {
  return h('dl', { class: 'meta' }, pairs.filter(p => p[1] !== null && p[1] !== undefined && p[1] !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

// A value's bytes as what a person can read: JSON pretty-printed, text as is, anything else as hex.
export function describeValue(bytes, contentType) {
  const ct = (contentType || '').toLowerCase();
  let text = null;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { text = null; }
  if (text !== null && isJson(ct)) {
    try { return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2), raw: text }; } catch { /* shown as text */ }
  }
  // eslint-disable-next-line no-control-regex
  if (text !== null && (ct.startsWith('text/') || isJson(ct) || !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text))) {
    return { kind: 'text', text, raw: text };
  }
  return { kind: 'binary', text: hexDump(bytes), raw: null };
}

export function isJson(contentType) {
  const base = (contentType || '').split(';')[0].trim().toLowerCase();
  return base === 'application/json' || base.endsWith('+json');
}

export function hexDump(bytes, max = 4096) {
  const lines = [];
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i += 16) {
    const row = Array.from(bytes.slice(i, Math.min(i + 16, n)), b => b.toString(16).padStart(2, '0'));
    lines.push(i.toString(16).padStart(8, '0') + '  ' + row.join(' '));
  }
  if (bytes.length > max) lines.push(`… ${bytes.length - max} more bytes`);
  return lines.join('\n');
}

export function formatBytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB (${n} B)`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB (${n} B)`;
}

// A hybrid-logical-clock timestamp (milliseconds << 16 | logical) as a date.
export function hlcTime(hlc) {
  if (typeof hlc !== 'number' || !Number.isFinite(hlc) || hlc <= 0) return '';
  return new Date(Math.floor(hlc / 65536)).toISOString();
}

export function base64ToBytes(b64) {
  const bin = atob(b64 || '');
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
