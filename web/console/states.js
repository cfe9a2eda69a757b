// What a pane shows while it loads or when loading failed, and the one polite live region that
// tells screen-reader users what arrived. Every pane uses these, so waiting and failing look and
// sound the same everywhere.

import { clear, codeSpans, h } from '../shared/dom.js';
import { defineStrings, t } from './i18n.js';
import { iconButton } from './icons.js';

defineStrings({
  en: {
    state_loading: 'Loading…',
    state_failed: 'This could not be loaded',
    state_retry: 'Try again',
    ui_close: 'Close',
    ui_cancel: 'Cancel',
    ui_back: 'Back to the list',
    announce_message: 'New message from {name}: {text}',
    announce_conversation: 'New conversation from {name}',
  },
  fa: {
    state_loading: 'در حال بارگذاری…',
    state_failed: 'بارگذاری نشد',
    state_retry: 'دوباره امتحان کنید',
    ui_close: 'بستن',
    ui_cancel: 'انصراف',
    ui_back: 'بازگشت به فهرست',
    announce_message: 'پیام تازه از {name}: {text}',
    announce_conversation: 'گفتگوی تازه از {name}',
  },
  ar: {
    state_loading: 'جارٍ التحميل…',
    state_failed: 'تعذّر التحميل',
    state_retry: 'أعد المحاولة',
    ui_close: 'إغلاق',
    ui_cancel: 'إلغاء',
    ui_back: 'العودة إلى القائمة',
    announce_message: 'رسالة جديدة من {name}: {text}',
    announce_conversation: 'محادثة جديدة من {name}',
  },
});

// Grey placeholder rows shaped like what is coming (`list`: conversation rows, `thread`: bubbles,
// `page`: a settings card). They are busy, not content: screen readers hear "Loading…" once.
export function skeleton(shape = 'list', count = 6) {
  const line = (cls) => h('span', { class: `skeleton-line ${cls}` });
  const item = (i) => {
    if (shape === 'thread')
      return h('div', { class: `skeleton-bubble${i % 2 ? ' end' : ''}` }, line('wide'), line('short'));
    if (shape === 'page')
      return h('div', { class: 'skeleton-card' }, line('short'), line('wide'), line('wide'));
    return h(
      'div',
      { class: 'skeleton-row' },
      h('span', { class: 'skeleton-avatar' }),
      h('span', { class: 'skeleton-lines' }, line('short'), line('wide')),
    );
  };
  return h(
    'div',
    { class: `skeleton skeleton-${shape}`, role: 'status', 'aria-busy': 'true' },
    h('span', { class: 'sr-only' }, t('state_loading')),
    Array.from({ length: count }, (_, i) => item(i)),
  );
}

// A failed load: what went wrong, and a button that tries again.
export function errorBlock(message, retry) {
  return h(
    'div',
    { class: 'error-block', role: 'alert' },
    h('p', { class: 'error-title' }, t('state_failed')),
    h('p', { class: 'error-reason', dir: 'auto' }, message),
    retry ? iconButton('reopen', t('state_retry'), { class: 'retry', onclick: retry }) : null,
  );
}

// The console's one polite live region. Each announcement replaces the last, cleared first so
// the same words twice are read twice.
export class Announcer {
  constructor() {
    this.el = h('div', { class: 'sr-only announcer', 'aria-live': 'polite', 'aria-atomic': 'true' });
  }

  say(text) {
    this.el.textContent = '';
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.el.textContent = text;
    }, 50);
  }
}

// A button for something that cannot be undone (deleting a team, an inbox): the first press
// asks `question` beside it, with the same words on a red button and a Cancel that puts the
// button back. `run` is awaited; its error is shown in place, the question stays.
export function confirmAction(label, question, run) {
  const start = h('button', { type: 'button', class: 'danger-outline' }, label);
  const box = h('div', { class: 'confirm-action' }, start);
  const ask = () => {
    const problem = h('p', { class: 'error', role: 'alert' });
    const yes = h('button', { type: 'button', class: 'danger' }, label);
    const no = h('button', { type: 'button' }, t('ui_cancel'));
    no.addEventListener('click', () => {
      box.replaceChildren(start);
      start.focus();
    });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      problem.textContent = '';
      try {
        await run();
      } catch (error) {
        problem.textContent = error.message;
      } finally {
        yes.disabled = false;
      }
    });
    box.replaceChildren(
      h(
        'div',
        { class: 'confirm', role: 'group', 'aria-label': label },
        h('p', {}, question),
        yes,
        no,
        problem,
      ),
    );
    no.focus();
  };
  start.addEventListener('click', ask);
  return box;
}

// A form's status line (role=status, so what happened is spoken): `busy` while the hub works,
// `saved` in the success style, `failed` in the error style with the hub's `names` as code.
// `base` is the line's own class, kept through every state.
export function statusLine(base = '', tag = 'p') {
  const el = h(tag, { class: base, role: 'status' });
  const show = (state, ...content) => {
    el.className = [base, state].filter(Boolean).join(' ');
    clear(el, ...content);
  };
  return {
    el,
    busy: (text) => show('', text),
    saved: (text) => show('saved', text),
    failed: (message) => show('error', codeSpans(message)),
    reset: () => show(''),
  };
}
