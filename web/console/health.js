// An inbox's health as the hub reports it (`problems` on each inbox: its mailbox cannot be read,
// its channel refuses to send): a badge beside the inbox's name wherever it is listed, and the
// server's own words, since when, on its settings page. The hub clears a problem at the next
// attempt that works and says so live (inbox.updated), so what shows here is what fails now.

import { h } from '../shared/dom.js';
import { defineStrings, t } from './i18n.js';
import { actionSvg } from './icons.js';
import { timeAgo } from './time.js';

defineStrings({
  en: {
    health_failing: 'Not working',
    health_mailbox: 'Reading the mailbox fails',
    health_delivery: 'Sending fails',
    health_since: 'started {ago}',
  },
  fa: {
    health_failing: 'کار نمی‌کند',
    health_mailbox: 'خواندن صندوق نامه ناموفق است',
    health_delivery: 'ارسال ناموفق است',
    health_since: 'آغاز: {ago}',
  },
  ar: {
    health_failing: 'لا يعمل',
    health_mailbox: 'تتعذّر قراءة صندوق البريد',
    health_delivery: 'يتعذّر الإرسال',
    health_since: 'بدأ {ago}',
  },
});

function failing(inbox) {
  return Boolean(inbox?.problems?.length);
}

// A small warning sign for an inbox that is not working, or nothing. Its name is spoken and
// shown as a tooltip, with what fails.
export function healthBadge(inbox) {
  if (!failing(inbox)) return null;
  const what = inbox.problems.map((p) => t(`health_${p.part}`)).join(', ');
  const label = `${t('health_failing')}: ${what}`;
  return h(
    'span',
    { class: 'health-badge', role: 'img', 'aria-label': label, title: label },
    actionSvg('warning'),
  );
}

// What fails, in the server's words and since when: for the inbox's settings card.
export function problemList(inbox) {
  if (!failing(inbox)) return null;
  return h(
    'div',
    { class: 'inbox-problems', role: 'alert' },
    inbox.problems.map((p) =>
      h(
        'p',
        { class: 'inbox-problem', dataset: { part: p.part } },
        actionSvg('warning'),
        h('strong', {}, t(`health_${p.part}`)),
        ' ',
        h('span', { class: 'since' }, t('health_since', { ago: timeAgo(p.since) })),
        // The server's words are in its language (usually English): isolated, left to right.
        h('code', { class: 'server-words', dir: 'ltr' }, p.problem),
      ),
    ),
  );
}
