// Avatars: a person's initials on a colour derived from their name, the same in every pane
// (conversation list, thread, contact panel) and for agents and contacts alike. The colour is one
// of a fixed palette (style.css, `.avatar[data-hue]`) whose every pair passes WCAG AA in both
// themes; a free hue computed here could not promise that, nor could an inline style pass the
// console's Content-Security-Policy.

import { h } from '../shared/dom.js';

const HUES = 8;

// "Ana María López" → "AL", "ليلى" → "ل", "#42" → "#"; letters, not bytes, so Persian and Arabic
// names and emoji are not cut in half.
export function initials(name) {
  const words = String(name || '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (!words.length) return '?';
  const first = [...words[0]][0];
  const last = words.length > 1 ? [...words[words.length - 1]][0] : '';
  // A zero-width non-joiner keeps Arabic and Persian initials two letters, not one ligature;
  // other scripts do not join, and get none (it would only end up in what people copy).
  const joiner = /\p{Script=Arabic}/u.test(first + last) ? '\u200c' : '';
  return (last ? `${first}${joiner}${last}` : first).toLocaleUpperCase();
}

// A stable palette index for a name: the same person gets the same colour everywhere.
export function hueOf(name) {
  let hash = 0;
  for (const ch of String(name || '')) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % HUES;
}

// The avatar itself. It is decoration beside the name it stands for, so screen readers skip it.
export function avatar(name, { size = 'md', kind = 'contact' } = {}) {
  return h(
    'span',
    {
      class: `avatar avatar-${size}`,
      dataset: { hue: String(hueOf(name)), kind },
      'aria-hidden': 'true',
    },
    initials(name),
  );
}

// Who is signed in, as the top bar shows it: their avatar, then their name.
export function signedInAs(name) {
  return [avatar(name, { size: 'sm', kind: 'agent' }), h('bdi', {}, name)];
}
