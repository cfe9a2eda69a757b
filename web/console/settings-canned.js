// Settings › Canned responses: the answers an agent inserts by typing `/` and a short code in the
// reply box. Everyone sees the shared ones and their own personal ones; an agent writes their own,
// owners and admins also the shared ones (the API refuses the rest anyway). Every member sees it.

import { clear, h } from '../shared/dom.js';
import { api } from './api.js';
import { defineStrings, t } from './i18n.js';

defineStrings({
  en: {
    canned_title: 'Canned responses',
    canned_help:
      'Type / and a short code in the reply box to insert one. Personal ones are yours alone; shared ones are for the whole team.',
    canned_search: 'Search canned responses',
    canned_new: 'New canned response',
    canned_code: 'Short code',
    canned_code_help: 'Letters, digits, - and _, up to 32.',
    canned_content: 'Text',
    canned_scope: 'Who uses it',
    canned_personal: 'Only me',
    canned_shared: 'Everyone (shared)',
    canned_personal_badge: 'Personal',
    canned_shared_badge: 'Shared',
    canned_add: 'Add',
    canned_edit: 'Edit',
    canned_save: 'Save',
    canned_delete: 'Delete',
    canned_cancel: 'Cancel',
    canned_confirm_delete: 'Delete /{code}? This cannot be undone.',
    canned_empty:
      'No canned responses yet. Save the answers you give often here, then type / in the reply box to use them.',
    canned_no_match: 'No canned response matches “{q}”.',
    canned_added: 'Added /{code}.',
    canned_saved: 'Saved /{code}.',
    canned_deleted: 'Deleted /{code}.',
  },
  fa: {
    canned_title: 'پاسخ‌های آماده',
    canned_help:
      'در کادر پاسخ / و کد کوتاه را بنویسید تا پاسخ درج شود. پاسخ‌های شخصی فقط برای خود شماست؛ پاسخ‌های مشترک برای همهٔ تیم.',
    canned_search: 'جست‌وجوی پاسخ‌های آماده',
    canned_new: 'پاسخ آمادهٔ تازه',
    canned_code: 'کد کوتاه',
    canned_code_help: 'حروف، رقم، - و _، حداکثر ۳۲ نویسه.',
    canned_content: 'متن',
    canned_scope: 'چه کسی از آن استفاده می‌کند',
    canned_personal: 'فقط خودم',
    canned_shared: 'همه (مشترک)',
    canned_personal_badge: 'شخصی',
    canned_shared_badge: 'مشترک',
    canned_add: 'افزودن',
    canned_edit: 'ویرایش',
    canned_save: 'ذخیره',
    canned_delete: 'حذف',
    canned_cancel: 'انصراف',
    canned_confirm_delete: '/{code} حذف شود؟ این کار برگشت‌پذیر نیست.',
    canned_empty:
      'هنوز پاسخ آماده‌ای نیست. پاسخ‌هایی را که زیاد می‌دهید اینجا ذخیره کنید و با نوشتن / در کادر پاسخ از آن‌ها استفاده کنید.',
    canned_no_match: 'هیچ پاسخ آماده‌ای با «{q}» جور نیست.',
    canned_added: '/{code} افزوده شد.',
    canned_saved: '/{code} ذخیره شد.',
    canned_deleted: '/{code} حذف شد.',
  },
  ar: {
    canned_title: 'الردود الجاهزة',
    canned_help:
      'اكتب / ثم الرمز المختصر في مربع الرد لإدراج رد. الردود الشخصية لك وحدك؛ والمشتركة للفريق كله.',
    canned_search: 'البحث في الردود الجاهزة',
    canned_new: 'رد جاهز جديد',
    canned_code: 'الرمز المختصر',
    canned_code_help: 'حروف وأرقام و- و_، حتى ٣٢ حرفًا.',
    canned_content: 'النص',
    canned_scope: 'من يستخدمه',
    canned_personal: 'أنا فقط',
    canned_shared: 'الجميع (مشترك)',
    canned_personal_badge: 'شخصي',
    canned_shared_badge: 'مشترك',
    canned_add: 'إضافة',
    canned_edit: 'تعديل',
    canned_save: 'حفظ',
    canned_delete: 'حذف',
    canned_cancel: 'إلغاء',
    canned_confirm_delete: 'حذف /{code}؟ لا يمكن التراجع عن ذلك.',
    canned_empty: 'لا توجد ردود جاهزة بعد. احفظ هنا الردود التي تكررها، ثم اكتب / في مربع الرد لاستخدامها.',
    canned_no_match: 'لا يطابق أي رد جاهز «{q}».',
    canned_added: 'أُضيف /{code}.',
    canned_saved: 'حُفظ /{code}.',
    canned_deleted: 'حُذف /{code}.',
  },
});

let nextField = 0;

export async function render(app, pane) {
  const isAdmin = app.me.role !== 'agent';
  let responses = await api('/canned_responses');
  const status = h('p', { class: 'saved', role: 'status' });
  const problem = h('p', { class: 'error', role: 'alert' });
  const list = h('ul', { class: 'canned-list' });
  const search = h('input', {
    type: 'search',
    class: 'canned-search',
    'aria-label': t('canned_search'),
    placeholder: t('canned_search'),
    oninput: () => draw(),
  });

  const say = (message) => {
    problem.textContent = '';
    status.textContent = message;
  };
  const fail = (error) => {
    status.textContent = '';
    problem.textContent = error.message;
  };
  // The composer's `/` picker reads app.canned: keep it in step with every change made here.
  const reload = async () => {
    responses = await api('/canned_responses');
    app.canned = responses;
    draw();
  };
  const mayChange = (c) => !c.shared || isAdmin;

  function draw() {
    const q = search.value.trim().toLowerCase();
    const shown = responses.filter(
      (c) => !q || c.short_code.toLowerCase().includes(q) || c.content.toLowerCase().includes(q),
    );
    if (!responses.length) return clear(list, h('li', { class: 'empty' }, t('canned_empty')));
    if (!shown.length)
      return clear(list, h('li', { class: 'empty' }, t('canned_no_match', { q: search.value })));
    clear(
      list,
      shown.map((c) => row(c)),
    );
  }

  function row(c) {
    const item = h(
      'li',
      { class: 'canned-item', dataset: { code: c.short_code, scope: c.shared ? 'shared' : 'personal' } },
      h(
        'div',
        { class: 'canned-head' },
        h('b', { dir: 'ltr' }, `/${c.short_code}`),
        h(
          'span',
          { class: `badge ${c.shared ? 'shared' : 'personal'}` },
          t(c.shared ? 'canned_shared_badge' : 'canned_personal_badge'),
        ),
      ),
      h('p', { class: 'canned-content', dir: 'auto' }, c.content),
      mayChange(c)
        ? h(
            'div',
            { class: 'canned-actions' },
            h('button', { type: 'button', class: 'edit', onclick: () => edit(item, c) }, t('canned_edit')),
            h(
              'button',
              { type: 'button', class: 'delete', onclick: () => confirmDelete(item, c) },
              t('canned_delete'),
            ),
          )
        : null,
    );
    return item;
  }

  function edit(item, c) {
    const code = field('input', { name: 'short_code', value: c.short_code, dir: 'ltr', required: true });
    const content = field('textarea', { name: 'content', rows: '4', required: true, dir: 'auto' }, c.content);
    const cancel = h(
      'button',
      { type: 'button', onclick: () => item.replaceWith(row(c)) },
      t('canned_cancel'),
    );
    const form = h(
      'form',
      {
        class: 'canned-edit',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            const saved = await api(`/canned_responses/${c.id}`, {
              method: 'PATCH',
              body: { short_code: code.input.value, content: content.input.value },
            });
            await reload();
            say(t('canned_saved', { code: saved.short_code }));
          } catch (error) {
            fail(error);
          }
        },
        onkeydown: (e) => {
          if (e.key === 'Escape') item.replaceWith(row(c));
        },
      },
      code.label(t('canned_code')),
      content.label(t('canned_content')),
      h('div', { class: 'canned-actions' }, h('button', { class: 'primary' }, t('canned_save')), cancel),
    );
    clear(item, form);
    code.input.focus();
  }

  function confirmDelete(item, c) {
    const cancel = h(
      'button',
      { type: 'button', onclick: () => item.replaceWith(row(c)) },
      t('canned_cancel'),
    );
    clear(
      item,
      h(
        'div',
        { class: 'confirm', role: 'group', 'aria-label': t('canned_delete') },
        h('p', {}, t('canned_confirm_delete', { code: c.short_code })),
        h(
          'div',
          { class: 'canned-actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: async () => {
                try {
                  await api(`/canned_responses/${c.id}`, { method: 'DELETE' });
                  await reload();
                  say(t('canned_deleted', { code: c.short_code }));
                } catch (error) {
                  fail(error);
                }
              },
            },
            t('canned_delete'),
          ),
          cancel,
        ),
      ),
    );
    cancel.focus();
  }

  const code = field('input', { name: 'short_code', dir: 'ltr', required: true, maxlength: '32' });
  const content = field('textarea', { name: 'content', rows: '3', required: true, dir: 'auto' });
  const scope = isAdmin
    ? field(
        'select',
        { name: 'scope' },
        h('option', { value: 'personal' }, t('canned_personal')),
        h('option', { value: 'shared' }, t('canned_shared')),
      )
    : null;
  const form = h(
    'form',
    {
      class: 'canned-new',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const created = await api('/canned_responses', {
            method: 'POST',
            body: {
              short_code: code.input.value,
              content: content.input.value,
              shared: scope ? scope.input.value === 'shared' : false,
            },
          });
          code.input.value = '';
          content.input.value = '';
          await reload();
          say(t('canned_added', { code: created.short_code }));
        } catch (error) {
          fail(error);
        }
      },
    },
    h('h3', {}, t('canned_new')),
    code.label(t('canned_code'), t('canned_code_help')),
    content.label(t('canned_content')),
    scope ? scope.label(t('canned_scope')) : null,
    h('div', { class: 'canned-actions' }, h('button', { class: 'primary' }, t('canned_add'))),
  );

  draw();
  pane.append(
    h(
      'section',
      { class: 'card canned-settings' },
      h('h2', {}, t('canned_title')),
      h('p', { class: 'lead' }, t('canned_help')),
      form,
      problem,
      status,
      search,
      list,
    ),
  );
}

// A labelled control: `label(text, help)` draws it with its label above.
function field(tag, attrs, ...children) {
  const id = `canned-field-${++nextField}`;
  const input = h(tag, { ...attrs, id }, ...children);
  return {
    input,
    label: (text, help) =>
      h(
        'label',
        { class: 'field', for: id },
        h('span', {}, text),
        input,
        help ? h('small', { class: 'hint' }, help) : null,
      ),
  };
}
