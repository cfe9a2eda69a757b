// A reply the hub did not confirm: shown in the thread where it would be, with why (in the
// agent's language where the error code is known) and a Retry that sends it again with the same
// client id, so the hub stores it once even when the first try did arrive.

import { h } from '../shared/dom.js';
import { defineStrings, t } from './i18n.js';

defineStrings({
  en: {
    send_failed: 'Not sent',
    send_retry: 'Retry',
    send_discard: 'Discard',
    send_network: 'The hub could not be reached. Check the connection and retry.',
    send_unavailable: 'The hub could not store it just now. Retry in a moment.',
    send_too_many: 'Too many messages in a short time. Wait a moment, then retry.',
    send_too_large: 'The attachments are too large.',
    send_forbidden: 'You may not reply in this conversation.',
    send_conflict: 'This send was already used for another message.',
  },
  fa: {
    send_failed: 'ارسال نشد',
    send_retry: 'تلاش دوباره',
    send_discard: 'حذف',
    send_network: 'دسترسی به سرور ممکن نشد. اتصال را بررسی کنید و دوباره تلاش کنید.',
    send_unavailable: 'سرور اکنون نتوانست آن را ذخیره کند. کمی بعد دوباره تلاش کنید.',
    send_too_many: 'پیام‌های زیادی در زمان کوتاه. کمی صبر کنید و دوباره تلاش کنید.',
    send_too_large: 'پیوست‌ها بیش از حد بزرگ هستند.',
    send_forbidden: 'شما اجازه پاسخ در این گفتگو را ندارید.',
    send_conflict: 'این ارسال پیش‌تر برای پیام دیگری به کار رفته است.',
  },
  ar: {
    send_failed: 'لم تُرسل',
    send_retry: 'إعادة المحاولة',
    send_discard: 'تجاهل',
    send_network: 'تعذّر الوصول إلى الخادم. تحقق من الاتصال وأعد المحاولة.',
    send_unavailable: 'تعذّر على الخادم حفظها الآن. أعد المحاولة بعد قليل.',
    send_too_many: 'رسائل كثيرة في وقت قصير. انتظر قليلًا ثم أعد المحاولة.',
    send_too_large: 'المرفقات كبيرة جدًا.',
    send_forbidden: 'لا يمكنك الرد في هذه المحادثة.',
    send_conflict: 'استُخدم هذا الإرسال من قبل لرسالة أخرى.',
  },
});

const REASONS = {
  internal: 'send_unavailable',
  unavailable: 'send_unavailable',
  too_many_requests: 'send_too_many',
  payload_too_large: 'send_too_large',
  forbidden: 'send_forbidden',
  conflict: 'send_conflict',
};

// Why a send failed, for a person: a known code in their language, else the hub's own words;
// no status at all means the request never got an answer.
export function failureReason(error) {
  if (!error.status) return t('send_network');
  const key = REASONS[error.code];
  return key ? t(key) : error.message;
}

// Only what may succeed on a second try offers Retry.
export function retryable(error) {
  return !error.status || error.status >= 500 || error.status === 429;
}

// One client id per send, reused by its retries.
export function newClientId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

// The failed send's bubble. `pending` is `{ body, error, sending }`.
export function failedBubble(pending, { onRetry, onDiscard }) {
  const reason = failureReason(pending.error);
  return h(
    'li',
    {
      class: `message outgoing send-failed${pending.body.private ? ' note' : ''}`,
      dataset: { clientId: pending.body.client_id },
    },
    h('div', { class: 'meta' }, h('span', { class: 'delivery delivery-failed' }, t('send_failed'))),
    h('div', { class: 'text', dir: 'auto' }, pending.body.text),
    h('p', { class: 'send-reason', role: 'alert' }, reason),
    h(
      'div',
      { class: 'send-actions' },
      retryable(pending.error)
        ? h(
            'button',
            { type: 'button', class: 'retry primary', disabled: pending.sending, onclick: onRetry },
            t('send_retry'),
          )
        : null,
      h('button', { type: 'button', class: 'discard', onclick: onDiscard }, t('send_discard')),
    ),
  );
}
