// Settings › Inboxes › an email inbox's servers: the address, the mailbox it reads (IMAP) and the
// server replies go out through (SMTP), edited in place with the same fields as the new-inbox
// form (GET /api/v1/channels). Password boxes start empty and an empty one keeps the saved
// password; the hub refuses a changed server without its password, since a saved password only
// goes to the server it was saved for. "Test connection" tries what is typed, before saving.

import { h } from '../shared/dom.js';
import { api } from './api.js';
import { connectionTestButton, fieldControl, setPath } from './channel-setup.js';
import { defineStrings, t } from './i18n.js';
import { statusLine } from './states.js';

defineStrings({
  en: {
    email_servers: 'Address and servers',
    email_password_kept: 'Saved; leave empty to keep it',
    email_saved: 'Saved. The mailbox is read with the new settings now.',
    email_refused: 'Not saved: {m}',
  },
  fa: {
    email_servers: 'نشانی و سرورها',
    email_password_kept: 'ذخیره شده؛ برای نگه‌داشتن خالی بگذارید',
    email_saved: 'ذخیره شد. صندوق از همین حالا با تنظیمات تازه خوانده می‌شود.',
    email_refused: 'ذخیره نشد: {m}',
  },
  ar: {
    email_servers: 'العنوان والخوادم',
    email_password_kept: 'محفوظة؛ اتركها فارغة لإبقائها',
    email_saved: 'حُفظت. يُقرأ الصندوق بالإعدادات الجديدة الآن.',
    email_refused: 'لم تُحفظ: {m}',
  },
});

const SECRET_FIELDS = ['imap_password', 'smtp_password'];

// The value at a dotted path of the inbox's settings ("email.imap.host" → settings.imap.host).
function saved(settings, name) {
  return name
    .replace(/^email\./, '')
    .split('.')
    .reduce((at, key) => (at == null ? undefined : at[key]), settings);
}

// The hub's channel forms do not change while it runs: asked for once.
let channelForms;

export async function emailServersCard(inbox, onSaved) {
  channelForms ??= api('/channels').catch((error) => {
    channelForms = undefined;
    throw error;
  });
  const channels = await channelForms;
  const fields = (channels.find((c) => c.kind === 'email')?.fields || []).map((field) =>
    fieldControl(field, 'email'),
  );
  for (const f of fields) {
    if (SECRET_FIELDS.includes(f.field.name)) {
      f.control.placeholder = t('email_password_kept');
      f.control.required = false;
      continue;
    }
    const value = saved(inbox.settings, f.field.name);
    if (value === undefined || value === null) continue;
    if (f.control.type === 'checkbox') f.control.checked = Boolean(value);
    else f.control.value = String(value);
  }
  // What is typed, over what is saved: settings the form has no field for (batch sizes, IDLE
  // timing) are kept, and a server left without a host is dropped.
  const collect = () => {
    const settings = { email: structuredClone(inbox.settings) };
    const secrets = {};
    for (const f of fields) {
      const value = f.value();
      if (SECRET_FIELDS.includes(f.field.name)) {
        if (value !== undefined) secrets[f.field.name] = value;
        continue;
      }
      if (value === undefined) {
        const path = f.field.name.split('.');
        const last = path.pop();
        const parent = path.reduce((at, key) => at?.[key], settings);
        if (parent) delete parent[last];
      } else {
        setPath(settings, f.field.name, value);
      }
    }
    for (const server of ['imap', 'smtp']) {
      if (settings.email[server] && !settings.email[server].host) delete settings.email[server];
    }
    return { settings: settings.email, secrets };
  };
  const status = statusLine('email-status');
  const save = h('button', { type: 'submit', class: 'primary' }, t('save'));
  const form = h(
    'form',
    {
      class: 'email-servers',
      onsubmit: async (e) => {
        e.preventDefault();
        save.disabled = true;
        status.reset();
        try {
          const updated = await api(`/inboxes/${inbox.id}`, { method: 'PATCH', body: collect() });
          inbox.settings = updated.settings;
          for (const f of fields) if (SECRET_FIELDS.includes(f.field.name)) f.control.value = '';
          status.saved(t('email_saved'));
          onSaved?.(updated);
        } catch (error) {
          status.failed(t('email_refused', { m: error.message }));
        } finally {
          save.disabled = false;
        }
      },
    },
    h('h3', {}, t('email_servers')),
    h(
      'div',
      { class: 'setup-fields' },
      fields.map((f) => f.row),
    ),
    connectionTestButton(`/inboxes/${inbox.id}/test-connection`, () => {
      const { settings, secrets } = collect();
      return { email: settings, ...secrets };
    }),
    h('div', { class: 'form-actions' }, save),
    status.el,
  );
  return h('section', { class: 'email-servers-card', dataset: { inboxId: String(inbox.id) } }, form);
}
