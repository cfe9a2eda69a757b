// Settings › API tokens: the signed-in member's personal tokens for scripts and other tools. A new
// token's secret is shown once; the list shows each token's name, start and last use. Every
// member sees their own, and only their own.

import { clear, h } from '../shared/dom.js';
import { api } from './api.js';
import { copyable } from './channel-setup.js';
import { defineStrings, locale, t } from './i18n.js';
import { clock, timeAgo } from './time.js';

defineStrings({
  en: {
    tokens_title: 'API tokens',
    tokens_help: 'A personal token lets a script or another tool use the API as you. Send it in this header:',
    tokens_name: 'Token name',
    tokens_name_placeholder: 'What it is for, e.g. CRM sync',
    tokens_create: 'Create token',
    tokens_created: 'Token “{name}”',
    tokens_done: 'Done',
    tokens_column_name: 'Name',
    tokens_column_start: 'Starts with',
    tokens_column_created: 'Created',
    tokens_column_used: 'Last used',
    tokens_never_used: 'never',
    tokens_revoke: 'Revoke',
    tokens_cancel: 'Cancel',
    tokens_confirm_revoke: 'Revoke “{name}”? Anything using it stops working at once.',
    tokens_revoked: 'Revoked “{name}”.',
    tokens_empty: 'No API tokens yet. Create one to let a script or another tool use the API as you.',
  },
  fa: {
    tokens_title: 'توکن‌های API',
    tokens_help:
      'توکن شخصی به یک اسکریپت یا ابزار دیگر اجازه می‌دهد از طرف شما با API کار کند. آن را در این سرآیند بفرستید:',
    tokens_name: 'نام توکن',
    tokens_name_placeholder: 'برای چه کاری است، مثلاً همگام‌سازی CRM',
    tokens_create: 'ساخت توکن',
    tokens_created: 'توکن «{name}»',
    tokens_done: 'تمام',
    tokens_column_name: 'نام',
    tokens_column_start: 'آغاز آن',
    tokens_column_created: 'ساخته‌شده',
    tokens_column_used: 'آخرین استفاده',
    tokens_never_used: 'هرگز',
    tokens_revoke: 'باطل کردن',
    tokens_cancel: 'انصراف',
    tokens_confirm_revoke: '«{name}» باطل شود؟ هر چیزی که از آن استفاده می‌کند بی‌درنگ از کار می‌افتد.',
    tokens_revoked: '«{name}» باطل شد.',
    tokens_empty: 'هنوز توکن API ندارید. یکی بسازید تا اسکریپت یا ابزاری دیگر از طرف شما با API کار کند.',
  },
  ar: {
    tokens_title: 'رموز API',
    tokens_help: 'يتيح الرمز الشخصي لبرنامج نصي أو أداة أخرى استخدام API باسمك. أرسله في هذه الترويسة:',
    tokens_name: 'اسم الرمز',
    tokens_name_placeholder: 'الغرض منه، مثل مزامنة CRM',
    tokens_create: 'إنشاء رمز',
    tokens_created: 'الرمز «{name}»',
    tokens_done: 'تم',
    tokens_column_name: 'الاسم',
    tokens_column_start: 'يبدأ بـ',
    tokens_column_created: 'أُنشئ',
    tokens_column_used: 'آخر استخدام',
    tokens_never_used: 'أبدًا',
    tokens_revoke: 'إبطال',
    tokens_cancel: 'إلغاء',
    tokens_confirm_revoke: 'إبطال «{name}»؟ سيتوقف كل ما يستخدمه فورًا.',
    tokens_revoked: 'أُبطل «{name}».',
    tokens_empty: 'لا توجد رموز API بعد. أنشئ رمزًا ليستخدم برنامج نصي أو أداة أخرى API باسمك.',
  },
});

export async function render(_app, pane) {
  let tokens = await api('/tokens');
  const status = h('p', { class: 'saved', role: 'status' });
  const problem = h('p', { class: 'error', role: 'alert' });
  const created = h('div', { class: 'token-created' });
  const list = h('div', { class: 'token-list' });
  const fail = (error) => {
    status.textContent = '';
    problem.textContent = error.message;
  };

  const reload = async () => {
    tokens = await api('/tokens');
    draw();
  };

  function draw() {
    if (!tokens.length) return clear(list, h('p', { class: 'empty' }, t('tokens_empty')));
    clear(
      list,
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, t('tokens_column_name')),
            h('th', {}, t('tokens_column_start')),
            h('th', {}, t('tokens_column_created')),
            h('th', {}, t('tokens_column_used')),
            h('th', {}, ''),
          ),
        ),
        h(
          'tbody',
          {},
          tokens.map((token) => row(token)),
        ),
      ),
    );
  }

  function row(token) {
    const tr = h(
      'tr',
      { dataset: { token: String(token.id) } },
      // data-label: the column's name, shown beside the value where a phone stacks the row.
      h('td', { dataset: { label: t('tokens_column_name') } }, h('bdi', {}, token.name)),
      h(
        'td',
        { dataset: { label: t('tokens_column_start') } },
        h('code', { dir: 'ltr' }, `${token.prefix}…`),
      ),
      h('td', { dataset: { label: t('tokens_column_created') } }, clock(token.created_at, locale())),
      h(
        'td',
        { dataset: { label: t('tokens_column_used') } },
        token.last_used_at ? timeAgo(token.last_used_at, locale()) : t('tokens_never_used'),
      ),
      h(
        'td',
        {},
        h(
          'button',
          { type: 'button', class: 'revoke', onclick: () => confirmRevoke(tr, token) },
          t('tokens_revoke'),
        ),
      ),
    );
    return tr;
  }

  function confirmRevoke(tr, token) {
    const cancel = h(
      'button',
      { type: 'button', onclick: () => tr.replaceWith(row(token)) },
      t('tokens_cancel'),
    );
    clear(
      tr,
      h(
        'td',
        { colspan: '5' },
        h(
          'div',
          { class: 'confirm', role: 'group', 'aria-label': t('tokens_revoke') },
          h('p', {}, t('tokens_confirm_revoke', { name: token.name })),
          h(
            'div',
            { class: 'form-actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                onclick: async () => {
                  try {
                    await api(`/tokens/${token.id}`, { method: 'DELETE' });
                    problem.textContent = '';
                    status.textContent = t('tokens_revoked', { name: token.name });
                    await reload();
                  } catch (error) {
                    fail(error);
                  }
                },
              },
              t('tokens_revoke'),
            ),
            cancel,
          ),
        ),
      ),
    );
    cancel.focus();
  }

  const name = h('input', {
    name: 'name',
    required: true,
    maxlength: '100',
    placeholder: t('tokens_name_placeholder'),
  });
  const form = h(
    'form',
    {
      class: 'token-new',
      onsubmit: async (e) => {
        e.preventDefault();
        status.textContent = '';
        problem.textContent = '';
        try {
          const answer = await api('/tokens', { method: 'POST', body: { name: name.value } });
          name.value = '';
          // The secret exists only in this answer: shown here once, never again.
          const done = h('button', { type: 'button', onclick: () => clear(created) }, t('tokens_done'));
          clear(
            created,
            copyable(t('tokens_created', { name: answer.api_token.name }), answer.token, null, {
              warning: t('shown_once'),
              className: 'secret-value',
            }),
            done,
          );
          await reload();
          created.querySelector('.copy')?.focus();
        } catch (error) {
          fail(error);
        }
      },
    },
    h('label', { class: 'field' }, h('span', {}, t('tokens_name')), name),
    h('div', { class: 'form-actions' }, h('button', { class: 'primary' }, t('tokens_create'))),
  );

  draw();
  pane.append(
    h(
      'section',
      { class: 'card token-settings' },
      h('h2', {}, t('tokens_title')),
      // The header stays left to right inside a right-to-left sentence.
      h(
        'p',
        { class: 'lead' },
        t('tokens_help'),
        ' ',
        h('code', { dir: 'ltr' }, 'Authorization: Bearer <token>'),
      ),
      form,
      problem,
      status,
      created,
      list,
    ),
  );
}
