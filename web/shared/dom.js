// DOM helpers shared by the console (loaded as an ES module from /shared/dom.js) and the website
// widget (joined into /widget.js by src/http/assets.rs). Everything a customer or agent wrote
// goes in as text, never as HTML.

// `h('button', { class: 'send', onclick: fn }, 'Send')`: attributes that are null, undefined or
// false are left out, `on…` become listeners, `true` becomes an empty attribute. Children are
// nodes, text, or arrays of them nested as deep as the caller likes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, value);
  }
  el.append(...present(children).map((child) => (child instanceof Node ? child : String(child))));
  return el;
}

// Replaces an element's children, skipping the absent ones as `h` does.
export function clear(el, ...children) {
  el.replaceChildren(...present(children));
  return el;
}

// Children may come as arrays at any depth (a list of [dt, dd] pairs, say): all flattened.
function present(children) {
  return children.flat(Number.POSITIVE_INFINITY).filter((c) => c !== null && c !== undefined && c !== false);
}

// Reads a picked file as base64, the upload form of the API and of the widget protocol.
export function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',', 2)[1] || '');
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// A server message as people read it: the API quotes names in Markdown backticks
// ("`inbox_capacity` must be at least 1"); those become <code>, the rest stays text.
export function codeSpans(text) {
  return String(text)
    .split(/`([^`]*)`/)
    .map((part, i) => (i % 2 ? h('code', {}, part) : part))
    .filter((part) => part !== '');
}
