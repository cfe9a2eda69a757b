// Email HTML in the console: shown in a sandboxed frame with remote images held back (a tracking
// pixel tells the sender when, where and on what an agent opened the mail) until the agent asks
// for them, for that one message.
//
// Held back: a srcdoc frame with no scripts. It inherits the console's Content-Security-Policy,
// which allows no remote images, and the remote references are taken out besides, so nothing
// is fetched even if that policy is ever loosened.
// Shown: the frame loads /console/email-frame.html, whose own policy allows remote images and
// only its own script, which puts the mail in place. The frame is sandboxed without
// same-origin, so the mail cannot reach the console's storage or the agent's token.

import { h } from '../shared/dom.js';
import { t } from './i18n.js';

const REMOTE = /^\s*(https?:)?\/\//i;
const REMOTE_URL_IN_STYLE = /url\(\s*(['"]?)\s*(https?:)?\/\/[^)]*\)/gi;

// The mail with every remote image reference removed; `count` says how many there were.
function withoutRemoteImages(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  let count = 0;
  for (const img of doc.querySelectorAll('img, source')) {
    if (REMOTE.test(img.getAttribute('src') || '')) {
      img.removeAttribute('src');
      count += 1;
    }
    const srcset = img.getAttribute('srcset') || '';
    if (srcset.split(',').some((candidate) => REMOTE.test(candidate))) {
      img.removeAttribute('srcset');
      count += 1;
    }
  }
  for (const el of doc.querySelectorAll('[background]')) {
    if (REMOTE.test(el.getAttribute('background'))) {
      el.removeAttribute('background');
      count += 1;
    }
  }
  for (const el of doc.querySelectorAll('[style]')) {
    const style = el.getAttribute('style');
    const cleaned = style.replace(REMOTE_URL_IN_STYLE, () => {
      count += 1;
      return 'none';
    });
    if (cleaned !== style) el.setAttribute('style', cleaned);
  }
  return { html: `<!doctype html>${doc.documentElement.outerHTML}`, count };
}

// Frames showing remote images tell us their height, which a cross-origin frame cannot be asked.
const heights = new WeakMap();
window.addEventListener('message', (event) => {
  const frame = heights.get(event.source);
  const height = event.data?.emailFrameHeight;
  if (frame && Number.isFinite(height)) frame.style.height = `${Math.min(Math.ceil(height) + 16, 4000)}px`;
});

function frameWithImages(html, title) {
  const frame = h('iframe', {
    class: 'html-body',
    sandbox: 'allow-scripts',
    src: '/console/email-frame.html',
    title,
    referrerpolicy: 'no-referrer',
  });
  frame.addEventListener('load', () => {
    heights.set(frame.contentWindow, frame);
    // The frame's origin is opaque ("null"), so no narrower target origin can name it.
    frame.contentWindow.postMessage({ emailHtml: html }, '*');
  });
  return frame;
}

// A message's HTML: held back, with a "Load images" bar when it has remote images, or shown
// with them once `shown` is true. `onShow` is called when the agent asks.
export function emailHtml(html, { title, shown, onShow }) {
  if (shown) return frameWithImages(html, title);
  const held = withoutRemoteImages(html);
  const frame = h('iframe', {
    class: 'html-body',
    sandbox: '',
    srcdoc: held.html,
    title,
    referrerpolicy: 'no-referrer',
  });
  if (held.count === 0) return frame;
  return h(
    'div',
    { class: 'html-email' },
    h(
      'div',
      { class: 'remote-images', role: 'status' },
      h('span', {}, t('images_held_back')),
      h('button', { type: 'button', class: 'load-images', onclick: onShow }, t('load_images')),
    ),
    frame,
  );
}
