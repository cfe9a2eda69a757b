// What a console with no inbox says instead of an empty list: an admin is shown the way to the
// first inbox (and what kinds there are); an agent, that an admin adds them to one. The list
// fills by itself once an inbox is there (inbox.updated), with no reload.

import { h } from '../shared/dom.js';
import { defineStrings, t } from './i18n.js';
import { actionSvg } from './icons.js';

defineStrings({
  en: {
    first_inbox_title: 'Add your first inbox',
    first_inbox_text:
      'An inbox is where customers reach you: an email address, the chat on your website, an SMS number, WhatsApp, Messenger, Instagram or Telegram. Their messages come in here.',
    first_inbox_action: 'Add an inbox',
    no_inbox_yet_title: 'You are not in any inbox yet',
    no_inbox_yet_text:
      'An admin adds you to the inboxes you work. Their conversations show here as soon as they do.',
  },
  fa: {
    first_inbox_title: 'نخستین صندوق را بسازید',
    first_inbox_text:
      'صندوق جایی است که مشتریان با شما تماس می‌گیرند: یک نشانی ایمیل، گفتگوی وب‌سایت، شماره پیامک، واتس‌اپ، مسنجر، اینستاگرام یا تلگرام. پیام‌هایشان اینجا می‌آید.',
    first_inbox_action: 'افزودن صندوق',
    no_inbox_yet_title: 'هنوز عضو هیچ صندوقی نیستید',
    no_inbox_yet_text: 'یک مدیر شما را به صندوق‌هایتان می‌افزاید. گفتگوهای آن‌ها بی‌درنگ اینجا نمایان می‌شود.',
  },
  ar: {
    first_inbox_title: 'أضف صندوقك الأول',
    first_inbox_text:
      'الصندوق هو المكان الذي يصل منه العملاء إليك: عنوان بريد، أو الدردشة على موقعك، أو رقم رسائل قصيرة، أو واتساب أو ماسنجر أو إنستغرام أو تيليغرام. تصل رسائلهم إلى هنا.',
    first_inbox_action: 'إضافة صندوق',
    no_inbox_yet_title: 'لست عضوًا في أي صندوق بعد',
    no_inbox_yet_text: 'يضيفك مسؤول إلى الصناديق التي تعمل عليها، وتظهر محادثاتها هنا فور ذلك.',
  },
});

export function firstSteps(app) {
  const admin = app.me.role !== 'agent';
  return h(
    'div',
    { class: 'first-steps' },
    h('h2', {}, t(admin ? 'first_inbox_title' : 'no_inbox_yet_title')),
    h('p', {}, t(admin ? 'first_inbox_text' : 'no_inbox_yet_text')),
    admin
      ? h(
          'a',
          { class: 'button primary', href: '#/settings/inboxes' },
          actionSvg('settings'),
          t('first_inbox_action'),
        )
      : null,
  );
}
