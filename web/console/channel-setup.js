// Settings → Inboxes → "New inbox": a form drawn from what the hub says each channel needs
// (GET /api/v1/channels), so a channel added to the hub needs no code here. What the answer
// carries once (the webhook address, a signing secret, the chat widget's snippet) is shown after.

import { clear, codeSpans, h } from '../shared/dom.js';
import { api } from './api.js';
import { fieldHelp, fieldLabel } from './channel-strings.js';
import { defineStrings, t } from './i18n.js';
import { actionSvg, channelIcon, channelLabel } from './icons.js';
import { num } from './time.js';

defineStrings({
  en: {
    test_connection: 'Test connection',
    test_connection_running: 'Trying the servers…',
    test_imap_ok: 'IMAP: signed in; the mailbox holds {n} mails.',
    test_smtp_ok: 'SMTP: signed in; replies can go out.',
    test_imap_failed: 'IMAP: {m}',
    test_smtp_failed: 'SMTP: {m}',
  },
  fa: {
    test_connection: 'آزمودن اتصال',
    test_connection_running: 'در حال آزمودن سرورها…',
    test_imap_ok: 'IMAP: ورود انجام شد؛ صندوق {n} نامه دارد.',
    test_smtp_ok: 'SMTP: ورود انجام شد؛ پاسخ‌ها فرستاده می‌شوند.',
    test_imap_failed: 'IMAP: {m}',
    test_smtp_failed: 'SMTP: {m}',
  },
  ar: {
    test_connection: 'اختبار الاتصال',
    test_connection_running: 'جارٍ تجربة الخوادم…',
    test_imap_ok: 'IMAP: تم تسجيل الدخول؛ في الصندوق {n} رسالة.',
    test_smtp_ok: 'SMTP: تم تسجيل الدخول؛ يمكن إرسال الردود.',
    test_imap_failed: 'IMAP: {m}',
    test_smtp_failed: 'SMTP: {m}',
  },
});

let uniqueId = 0;
const nextId = (prefix) => `${prefix}-${++uniqueId}`;

// The "New inbox" button; `onCreated(inbox)` runs when the admin closes the dialog after a
// creation, so the caller redraws with the new inbox.
export function newInboxButton(onCreated) {
  return h(
    'button',
    {
      type: 'button',
      class: 'primary new-inbox-button',
      onclick: (e) => openDialog(e.currentTarget, onCreated),
    },
    t('new_inbox'),
  );
}

async function openDialog(opener, onCreated) {
  let channels;
  try {
    channels = await api('/channels');
  } catch (error) {
    opener.after(h('p', { class: 'error', role: 'alert' }, codeSpans(error.message)));
    return;
  }
  const titleId = nextId('new-inbox-title');
  const dialog = h('dialog', { class: 'new-inbox', 'aria-labelledby': titleId });
  let created = null;
  dialog.addEventListener('close', () => {
    dialog.remove();
    opener.focus();
    if (created) onCreated(created);
  });
  document.body.append(dialog);
  drawForm(dialog, titleId, channels, (answer) => {
    created = answer;
    drawCreated(dialog, titleId, answer);
  });
  // A modal dialog: focus moves in, Tab stays in, Escape closes (the browser does all three).
  dialog.showModal();
}

function drawForm(dialog, titleId, channels, done) {
  const kind = h(
    'select',
    { name: 'kind', id: nextId('kind'), required: true },
    channels.map((c) => h('option', { value: c.kind }, channelLabelOf(c))),
  );
  const name = h('input', {
    name: 'name',
    id: nextId('name'),
    type: 'text',
    required: true,
    maxlength: '200',
    autocomplete: 'off',
    dir: 'auto',
  });
  const fields = h('div', { class: 'setup-fields' });
  const problem = h('p', { class: 'error', role: 'alert', id: nextId('problem') });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('create_inbox'));
  let drawn = [];
  const redraw = () => {
    const channel = channels.find((c) => c.kind === kind.value);
    drawn = (channel?.fields || []).map((field) => fieldControl(field, channel.kind));
    clear(
      fields,
      drawn.map((f) => f.row),
    );
    showForProvider(drawn);
  };
  const collect = () => {
    const body = { name: name.value.trim(), kind: kind.value, settings: {} };
    for (const f of drawn) {
      if (f.control.disabled) continue;
      const value = f.value();
      if (value === undefined) continue;
      if (f.field.name === 'provider') body.provider = value;
      else setPath(body.settings, f.field.name, value);
    }
    return body;
  };
  // Email: the servers tried with what is typed, before anything is saved.
  const test = h('div', { class: 'setup-test' });
  const showTest = () => {
    const settings = () => {
      const { email, imap_password, smtp_password } = collect().settings;
      return { email, imap_password, smtp_password };
    };
    clear(test, kind.value === 'email' ? connectionTestButton('/inboxes/test-connection', settings) : null);
  };
  kind.addEventListener('change', showTest);
  kind.addEventListener('change', redraw);
  fields.addEventListener('change', (e) => {
    if (e.target.name === 'provider') showForProvider(drawn);
  });
  const form = h(
    'form',
    {
      class: 'setup-form',
      onsubmit: async (e) => {
        e.preventDefault();
        problem.textContent = '';
        for (const f of drawn) f.control.removeAttribute('aria-invalid');
        const body = collect();
        submit.disabled = true;
        try {
          done(await api('/inboxes', { method: 'POST', body }));
        } catch (error) {
          // What was typed stays; the field the hub named is marked.
          clear(problem, codeSpans(error.message));
          const named = drawn.find((f) => error.message.includes(`\`${f.field.name}\``));
          if (named) {
            named.control.setAttribute('aria-invalid', 'true');
            named.control.setAttribute('aria-errormessage', problem.id);
          }
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', { id: titleId }, t('new_inbox')),
    h('label', { for: kind.id }, t('channel')),
    kind,
    h('label', { for: name.id }, t('inbox_name'), requiredMark()),
    name,
    fields,
    test,
    problem,
    h(
      'div',
      { class: 'dialog-actions' },
      submit,
      h('button', { type: 'button', onclick: () => dialog.close() }, t('cancel')),
    ),
  );
  clear(dialog, form);
  redraw();
  showTest();
}

// "Test connection" for an email inbox: POSTs `body()` to `path` and shows what each server
// said, the server's own words when it refused. Nothing is saved.
export function connectionTestButton(path, body) {
  const result = h('ul', { class: 'connection-test', role: 'status' });
  const button = h('button', { type: 'button', class: 'test-connection' }, t('test_connection'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    clear(result, h('li', {}, t('test_connection_running')));
    try {
      const answer = await api(path, { method: 'POST', body: body() });
      const line = (outcome, ok, failed) =>
        outcome &&
        h(
          'li',
          { class: outcome.ok ? 'saved' : 'error' },
          outcome.ok ? t(ok, { n: num(outcome.mails ?? 0) }) : t(failed, { m: '' }),
          outcome.ok ? null : h('code', { class: 'server-words', dir: 'ltr' }, outcome.message),
        );
      clear(
        result,
        line(answer.imap, 'test_imap_ok', 'test_imap_failed'),
        line(answer.smtp, 'test_smtp_ok', 'test_smtp_failed'),
      );
    } catch (error) {
      clear(result, h('li', { class: 'error' }, codeSpans(error.message)));
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'connection-test-box' }, button, result);
}

// The console's own name for a kind it knows (translated), else the hub's label.
function channelLabelOf(channel) {
  const known = channelLabel(channel.kind);
  return known === channel.kind.replace(/_/g, ' ') ? channel.label : known;
}

// One field of a channel's form: its row (label, control, help) and how to read its value.
export function fieldControl(field, kind) {
  const id = nextId(`field-${field.name.replace(/\W/g, '-')}`);
  const notes = [];
  // The hub's labels and help come in its language: isolated, so that an English sentence keeps
  // its full stop at its end inside a right-to-left console.
  const help = fieldHelp(kind, field);
  if (help) notes.push(h('small', { class: 'help', id: `${id}-help` }, h('bdi', {}, help)));
  if (field.secret) notes.push(h('small', { class: 'help secret', id: `${id}-secret` }, t('secret_field')));
  const describedBy = notes.map((n) => n.id).join(' ') || undefined;
  const common = {
    id,
    name: field.name,
    required: field.required && field.type !== 'boolean',
    'aria-describedby': describedBy,
  };
  let control;
  let value;
  switch (field.type) {
    case 'long_text':
      control = h('textarea', { ...common, rows: '4', dir: 'auto' });
      value = () => control.value.trim() || undefined;
      break;
    case 'boolean':
      control = h('input', { ...common, type: 'checkbox' });
      value = () => control.checked;
      break;
    case 'number':
      control = h('input', { ...common, type: 'number', inputmode: 'numeric', dir: 'ltr' });
      value = () => (control.value === '' ? undefined : Number(control.value));
      break;
    case 'choice':
      control = h(
        'select',
        common,
        field.required ? null : h('option', { value: '' }, t('none_chosen')),
        (field.options || []).map((o) => h('option', { value: o }, o)),
      );
      value = () => control.value || undefined;
      break;
    default: {
      const type = { email: 'email', url: 'url', password: 'password' }[field.type] || 'text';
      control = h('input', {
        ...common,
        type,
        // Addresses and keys read left to right in every language.
        dir: type === 'text' ? 'auto' : 'ltr',
        autocomplete: type === 'password' ? 'new-password' : 'off',
        spellcheck: type === 'text' ? undefined : 'false',
      });
      value = () => control.value.trim() || undefined;
    }
  }
  const label = h(
    'label',
    { for: id },
    h('bdi', {}, fieldLabel(field)),
    field.required ? requiredMark() : null,
  );
  const row =
    field.type === 'boolean'
      ? h('div', { class: 'setup-field check' }, control, label, notes)
      : h('div', { class: 'setup-field' }, label, control, notes);
  return { field, control, row, value, providers: providersOf(field) };
}

// A field only some providers need says which (`provider`: one name or a list).
function providersOf(field) {
  if (!field.provider) return null;
  return Array.isArray(field.provider) ? field.provider : [field.provider];
}

// Shows the fields the chosen provider needs; hidden ones are disabled, so they are neither
// required nor sent.
function showForProvider(drawn) {
  const picker = drawn.find((f) => f.field.name === 'provider');
  const chosen = picker ? picker.control.value : null;
  for (const f of drawn) {
    if (!f.providers) continue;
    const shown = f.providers.includes(chosen);
    f.row.hidden = !shown;
    f.control.disabled = !shown;
  }
}

function requiredMark() {
  return h('span', { class: 'required', 'aria-hidden': 'true' }, ' *');
}

// `email.imap.host` = 1 → `{email: {imap: {host: 1}}}`.
export function setPath(target, path, value) {
  const parts = path.split('.');
  let at = target;
  for (const part of parts.slice(0, -1)) {
    at[part] = at[part] && typeof at[part] === 'object' ? at[part] : {};
    at = at[part];
  }
  at[parts.at(-1)] = value;
}

// After creation: what the answer carries, shown this once.
function drawCreated(dialog, titleId, inbox) {
  const shown = [];
  if (inbox.webhook_url) shown.push(copyable(t('webhook_url'), inbox.webhook_url, t('webhook_url_help')));
  if (inbox.secret)
    shown.push(
      copyable(t('inbox_secret'), inbox.secret, t('inbox_secret_help'), {
        warning: t('shown_once'),
        className: 'secret-value',
      }),
    );
  if (inbox.embed_snippet) shown.push(copyable(t('embed'), inbox.embed_snippet, null, { block: true }));
  const done = h('button', { type: 'button', class: 'primary', onclick: () => dialog.close() }, t('done'));
  clear(
    dialog,
    h(
      'div',
      { class: 'setup-created' },
      h(
        'h2',
        { id: titleId, tabindex: '-1' },
        channelIcon(inbox.kind),
        ' ',
        t('inbox_created', { name: inbox.name }),
      ),
      shown,
      h('div', { class: 'dialog-actions' }, done),
    ),
  );
  (dialog.querySelector('.copy') || done).focus();
}

// A value shown once with a Copy button (also the API tokens page's, settings-tokens.js).
export function copyable(label, value, help, { warning = null, className = '', block = false } = {}) {
  const id = nextId('shown');
  const status = h('span', { class: 'saved', role: 'status' });
  const text = block
    ? h('pre', { class: `snippet ${className}`, id, dir: 'ltr', tabindex: '0' }, value)
    : h('code', { class: `shown-value ${className}`, id, dir: 'ltr' }, value);
  return h(
    'div',
    { class: 'shown-once' },
    h('h3', {}, label),
    warning ? h('p', { class: 'warning', role: 'note' }, warning) : null,
    help ? h('p', { class: 'help' }, help) : null,
    text,
    h(
      'button',
      {
        type: 'button',
        class: 'copy with-icon',
        'aria-describedby': id,
        onclick: async () => {
          status.textContent = (await copy(value, text)) ? t('copied') : t('copy_failed');
        },
      },
      actionSvg('copy'),
      h('span', { class: 'button-text' }, t('copy')),
    ),
    status,
  );
}

// The clipboard API needs a secure context (https or localhost); elsewhere the text is selected
// for the admin to copy by hand.
export async function copy(value, element) {
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return false;
  }
}
