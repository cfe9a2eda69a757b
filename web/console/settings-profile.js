// Settings › Profile: the signed-in member's own name, email signature and password. Every member
// sees it, for themselves only.

import { h } from '../shared/dom.js';
import { api } from './api.js';
import { signedInAs } from './avatar.js';
import { defineStrings, t } from './i18n.js';

defineStrings({
  en: {
    profile_title: 'Profile',
    profile_name: 'Display name',
    profile_name_help: 'Customers and colleagues see this name on your replies.',
    profile_email: 'Sign-in email',
    profile_save_name: 'Save name',
    profile_name_saved: 'Name saved.',
    profile_signature: 'Email signature',
    profile_signature_help:
      'Plain text put under your email replies, above the inbox’s own signature. Leave it empty for none.',
    profile_save_signature: 'Save signature',
    profile_signature_saved: 'Signature saved.',
    profile_signature_removed: 'Signature removed.',
    profile_password: 'Password',
    profile_password_help:
      'Changing it signs you out on every other device and revokes your API tokens; this window stays signed in.',
    profile_current_password: 'Current password',
    profile_new_password: 'New password (at least 8 characters)',
    profile_change_password: 'Change password',
    profile_password_changed: 'Password changed. Your other sessions and API tokens no longer work.',
    profile_wrong_password: 'The current password is wrong.',
  },
  fa: {
    profile_title: 'نمایه',
    profile_name: 'نام نمایشی',
    profile_name_help: 'مشتریان و همکاران این نام را روی پاسخ‌های شما می‌بینند.',
    profile_email: 'ایمیل ورود',
    profile_save_name: 'ذخیرهٔ نام',
    profile_name_saved: 'نام ذخیره شد.',
    profile_signature: 'امضای ایمیل',
    profile_signature_help:
      'متن ساده‌ای که زیر پاسخ‌های ایمیلی شما و بالای امضای خود صندوق می‌آید. برای نداشتن امضا خالی بگذارید.',
    profile_save_signature: 'ذخیرهٔ امضا',
    profile_signature_saved: 'امضا ذخیره شد.',
    profile_signature_removed: 'امضا برداشته شد.',
    profile_password: 'گذرواژه',
    profile_password_help:
      'با تغییر آن از همهٔ دستگاه‌های دیگر خارج می‌شوید و توکن‌های API شما باطل می‌شوند؛ این پنجره وارد می‌ماند.',
    profile_current_password: 'گذرواژهٔ کنونی',
    profile_new_password: 'گذرواژهٔ تازه (دست‌کم ۸ نویسه)',
    profile_change_password: 'تغییر گذرواژه',
    profile_password_changed: 'گذرواژه تغییر کرد. نشست‌های دیگر و توکن‌های API شما دیگر کار نمی‌کنند.',
    profile_wrong_password: 'گذرواژهٔ کنونی نادرست است.',
  },
  ar: {
    profile_title: 'الملف الشخصي',
    profile_name: 'الاسم المعروض',
    profile_name_help: 'يرى العملاء والزملاء هذا الاسم على ردودك.',
    profile_email: 'بريد تسجيل الدخول',
    profile_save_name: 'حفظ الاسم',
    profile_name_saved: 'حُفظ الاسم.',
    profile_signature: 'توقيع البريد',
    profile_signature_help:
      'نص عادي يوضع تحت ردودك بالبريد، فوق توقيع الصندوق نفسه. اتركه فارغًا لعدم وجود توقيع.',
    profile_save_signature: 'حفظ التوقيع',
    profile_signature_saved: 'حُفظ التوقيع.',
    profile_signature_removed: 'أُزيل التوقيع.',
    profile_password: 'كلمة المرور',
    profile_password_help:
      'تغييرها يُخرجك من كل الأجهزة الأخرى ويُلغي رموز API الخاصة بك؛ تبقى هذه النافذة مسجّلة.',
    profile_current_password: 'كلمة المرور الحالية',
    profile_new_password: 'كلمة المرور الجديدة (٨ أحرف على الأقل)',
    profile_change_password: 'تغيير كلمة المرور',
    profile_password_changed: 'تغيّرت كلمة المرور. لم تعد جلساتك الأخرى ورموز API تعمل.',
    profile_wrong_password: 'كلمة المرور الحالية خاطئة.',
  },
});

export async function render(app, pane) {
  const me = await api('/me');
  pane.append(nameCard(app, me), signatureCard(me), passwordCard());
}

// One form of the page: its fields, its button, and its own status and error lines.
function card(className, title, help, fields, button, submit) {
  const status = h('p', { class: 'saved', role: 'status' });
  const problem = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'profile-form',
      onsubmit: async (e) => {
        e.preventDefault();
        status.textContent = '';
        problem.textContent = '';
        try {
          status.textContent = await submit();
        } catch (error) {
          problem.textContent = error.code === 'wrong_password' ? t('profile_wrong_password') : error.message;
        }
      },
    },
    fields,
    h('div', { class: 'form-actions' }, h('button', { class: 'primary' }, button)),
    problem,
    status,
  );
  return h(
    'section',
    { class: `card ${className}` },
    h('h2', {}, title),
    help ? h('p', { class: 'lead' }, help) : null,
    form,
  );
}

function labelled(text, input, help) {
  return h(
    'label',
    { class: 'field' },
    h('span', {}, text),
    input,
    help ? h('small', { class: 'hint' }, help) : null,
  );
}

function nameCard(app, me) {
  const name = h('input', {
    name: 'name',
    value: me.user.name,
    required: true,
    maxlength: '200',
    autocomplete: 'name',
    dir: 'auto',
  });
  return card(
    'profile-name',
    t('profile_title'),
    null,
    [
      labelled(t('profile_name'), name, t('profile_name_help')),
      labelled(t('profile_email'), h('input', { value: me.user.email, readonly: true, dir: 'ltr' })),
    ],
    t('profile_save_name'),
    async () => {
      const saved = await api('/me', { method: 'PATCH', body: { name: name.value } });
      app.me = saved.user;
      document.querySelector('.topbar .me')?.replaceChildren(...signedInAs(saved.user.name));
      const listed = app.users?.find((u) => u.id === saved.user.id);
      if (listed) listed.name = saved.user.name;
      return t('profile_name_saved');
    },
  );
}

function signatureCard(me) {
  const signature = h(
    'textarea',
    { name: 'email_signature', rows: '5', maxlength: '10000', dir: 'auto' },
    me.email_signature || '',
  );
  return card(
    'profile-signature',
    t('profile_signature'),
    t('profile_signature_help'),
    [labelled(t('profile_signature'), signature)],
    t('profile_save_signature'),
    async () => {
      const saved = await api('/me', { method: 'PATCH', body: { email_signature: signature.value } });
      return saved.email_signature ? t('profile_signature_saved') : t('profile_signature_removed');
    },
  );
}

function passwordCard() {
  const current = h('input', {
    type: 'password',
    name: 'current_password',
    required: true,
    autocomplete: 'current-password',
  });
  const next = h('input', {
    type: 'password',
    name: 'new_password',
    required: true,
    minlength: '8',
    autocomplete: 'new-password',
  });
  return card(
    'profile-password',
    t('profile_password'),
    t('profile_password_help'),
    [labelled(t('profile_current_password'), current), labelled(t('profile_new_password'), next)],
    t('profile_change_password'),
    async () => {
      await api('/me/password', {
        method: 'PUT',
        body: { current_password: current.value, new_password: next.value },
      });
      current.value = '';
      next.value = '';
      return t('profile_password_changed');
    },
  );
}
