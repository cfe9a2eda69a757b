// A website chat inbox's card: every widget setting (greeting, away message, colour, pre-chat
// form, allowed origins, identity verification, business hours, ratings), a live preview of the
// real widget drawn from the settings being edited, and the embed snippet with a Copy button.
//
// The preview is /console/widget-preview.html in a frame: it runs the widget's view started by
// web/widget/preview.js (/console/widget-preview.js), gets the draft by postMessage from this page's own origin, and may
// call nobody, so no visitor is ever made. Saving PATCHes the inbox; a refusal is shown beside
// the field it names (`error.field`) and the draft stays as it was.

import { h } from '../shared/dom.js';
import { api } from './api.js';
import { copy } from './channel-setup.js';
import { defineStrings, locale, t } from './i18n.js';

defineStrings({
  en: {
    webchat_title: 'Website chat widget',
    webchat_greeting: 'Greeting',
    webchat_away: 'Away message (outside business hours)',
    webchat_color: 'Colour',
    webchat_color_hex: 'Colour as #rrggbb',
    webchat_color_bad: 'Write the colour as #rrggbb.',
    webchat_color_low:
      'White text on this colour is hard to read ({r}:1). Pick a darker one (at least 4.5:1).',
    webchat_prechat: 'Pre-chat form',
    webchat_prechat_on: 'Ask visitors before their first message',
    webchat_field: 'Field {n}',
    webchat_field_name: 'Name (name and email fill the contact)',
    webchat_field_label: 'Label',
    webchat_field_type: 'Type',
    webchat_field_required: 'Required',
    webchat_field_options: 'Options, one per line',
    webchat_type_text: 'Text',
    webchat_type_email: 'Email',
    webchat_type_textarea: 'Long text',
    webchat_type_select: 'List',
    webchat_add_field: 'Add a field',
    webchat_up: 'Move up',
    webchat_down: 'Move down',
    webchat_remove: 'Remove',
    webchat_origins: 'Sites allowed to embed the widget, one per line (empty: any)',
    webchat_origin_bad: '{o} is not an origin like https://shop.example',
    webchat_identity: 'Only verified visitors (the site signs who they are)',
    webchat_hours: 'Business hours',
    webchat_hours_on: 'Open only at set hours',
    webchat_timezone: 'Time zone',
    webchat_day: 'Day',
    webchat_open_day: 'Open',
    webchat_from: 'From',
    webchat_to: 'To',
    webchat_csat: 'Ask for a rating when a conversation is resolved',
    webchat_preview: 'Preview',
    webchat_preview_away: 'Show as outside business hours',
    webchat_preview_frame: 'Preview of the chat widget',
    webchat_unsaved: 'Not saved yet',
    webchat_fix: 'Fix the marked fields first.',
    webchat_refused: 'Not saved: {m}',
    webchat_mon: 'Monday',
    webchat_tue: 'Tuesday',
    webchat_wed: 'Wednesday',
    webchat_thu: 'Thursday',
    webchat_fri: 'Friday',
    webchat_sat: 'Saturday',
    webchat_sun: 'Sunday',
  },
  fa: {
    webchat_title: 'ابزارک گفتگوی وب‌سایت',
    webchat_greeting: 'خوشامد',
    webchat_away: 'پیام غیبت (خارج از ساعت کاری)',
    webchat_color: 'رنگ',
    webchat_color_hex: 'رنگ به شکل #rrggbb',
    webchat_color_bad: 'رنگ را به شکل #rrggbb بنویسید.',
    webchat_color_low: 'نوشتهٔ سفید روی این رنگ خوانا نیست ({r}:1). رنگ تیره‌تری برگزینید (دست‌کم 4.5:1).',
    webchat_prechat: 'فرم پیش از گفتگو',
    webchat_prechat_on: 'پیش از نخستین پیام از بازدیدکننده بپرس',
    webchat_field: 'فیلد {n}',
    webchat_field_name: 'نام (name و email مخاطب را پر می‌کنند)',
    webchat_field_label: 'برچسب',
    webchat_field_type: 'نوع',
    webchat_field_required: 'الزامی',
    webchat_field_options: 'گزینه‌ها، هر کدام در یک خط',
    webchat_type_text: 'متن',
    webchat_type_email: 'ایمیل',
    webchat_type_textarea: 'متن بلند',
    webchat_type_select: 'فهرست',
    webchat_add_field: 'افزودن فیلد',
    webchat_up: 'بالاتر',
    webchat_down: 'پایین‌تر',
    webchat_remove: 'حذف',
    webchat_origins: 'سایت‌هایی که می‌توانند ابزارک را بگذارند، هر کدام در یک خط (خالی: همه)',
    webchat_origin_bad: '{o} مبدأی مانند https://shop.example نیست',
    webchat_identity: 'فقط بازدیدکنندگان تأییدشده (سایت هویت آن‌ها را امضا می‌کند)',
    webchat_hours: 'ساعت کاری',
    webchat_hours_on: 'فقط در ساعت‌های تعیین‌شده باز است',
    webchat_timezone: 'منطقهٔ زمانی',
    webchat_day: 'روز',
    webchat_open_day: 'باز',
    webchat_from: 'از',
    webchat_to: 'تا',
    webchat_csat: 'پس از بستن گفتگو امتیاز بخواه',
    webchat_preview: 'پیش‌نمایش',
    webchat_preview_away: 'نمایش خارج از ساعت کاری',
    webchat_preview_frame: 'پیش‌نمایش ابزارک گفتگو',
    webchat_unsaved: 'هنوز ذخیره نشده',
    webchat_fix: 'نخست فیلدهای نشان‌دار را درست کنید.',
    webchat_refused: 'ذخیره نشد: {m}',
    webchat_mon: 'دوشنبه',
    webchat_tue: 'سه‌شنبه',
    webchat_wed: 'چهارشنبه',
    webchat_thu: 'پنجشنبه',
    webchat_fri: 'جمعه',
    webchat_sat: 'شنبه',
    webchat_sun: 'یکشنبه',
  },
  ar: {
    webchat_title: 'أداة الدردشة على الموقع',
    webchat_greeting: 'رسالة الترحيب',
    webchat_away: 'رسالة الغياب (خارج ساعات العمل)',
    webchat_color: 'اللون',
    webchat_color_hex: 'اللون بصيغة #rrggbb',
    webchat_color_bad: 'اكتب اللون بصيغة #rrggbb.',
    webchat_color_low: 'النص الأبيض على هذا اللون صعب القراءة ({r}:1). اختر لونًا أغمق (4.5:1 على الأقل).',
    webchat_prechat: 'نموذج ما قبل الدردشة',
    webchat_prechat_on: 'اسأل الزوار قبل رسالتهم الأولى',
    webchat_field: 'الحقل {n}',
    webchat_field_name: 'الاسم (name و email يملآن جهة الاتصال)',
    webchat_field_label: 'التسمية',
    webchat_field_type: 'النوع',
    webchat_field_required: 'مطلوب',
    webchat_field_options: 'الخيارات، كل خيار في سطر',
    webchat_type_text: 'نص',
    webchat_type_email: 'بريد إلكتروني',
    webchat_type_textarea: 'نص طويل',
    webchat_type_select: 'قائمة',
    webchat_add_field: 'إضافة حقل',
    webchat_up: 'إلى الأعلى',
    webchat_down: 'إلى الأسفل',
    webchat_remove: 'إزالة',
    webchat_origins: 'المواقع المسموح لها بتضمين الأداة، كل موقع في سطر (فارغ: الكل)',
    webchat_origin_bad: '{o} ليس أصلًا مثل https://shop.example',
    webchat_identity: 'الزوار الموثَّقون فقط (يوقّع الموقع هويتهم)',
    webchat_hours: 'ساعات العمل',
    webchat_hours_on: 'مفتوح في ساعات محددة فقط',
    webchat_timezone: 'المنطقة الزمنية',
    webchat_day: 'اليوم',
    webchat_open_day: 'مفتوح',
    webchat_from: 'من',
    webchat_to: 'إلى',
    webchat_csat: 'اطلب تقييمًا عند حل المحادثة',
    webchat_preview: 'معاينة',
    webchat_preview_away: 'اعرض كأنه خارج ساعات العمل',
    webchat_preview_frame: 'معاينة أداة الدردشة',
    webchat_unsaved: 'لم يُحفظ بعد',
    webchat_fix: 'أصلح الحقول المعلَّمة أولًا.',
    webchat_refused: 'لم يُحفظ: {m}',
    webchat_mon: 'الاثنين',
    webchat_tue: 'الثلاثاء',
    webchat_wed: 'الأربعاء',
    webchat_thu: 'الخميس',
    webchat_fri: 'الجمعة',
    webchat_sat: 'السبت',
    webchat_sun: 'الأحد',
  },
});

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const FIELD_TYPES = ['text', 'email', 'textarea', 'select'];
const HEX = /^#[0-9a-f]{6}$/i;
// As the hub refuses (src/widget/settings.rs): white text on the colour at WCAG AA.
const MIN_CONTRAST = 4.5;

let ids = 0;
const nextId = (prefix) => `webchat-${prefix}-${++ids}`;

// WCAG 2's contrast of white text on `#rrggbb`.
export function contrastWithWhite(hex) {
  const channel = (i) => {
    const v = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return 1.05 / (luminance + 0.05);
}

// What the hub takes as an origin: scheme, host and port only, as a browser sends it.
function isOrigin(text) {
  try {
    return new URL(text).origin === text.replace(/\/$/, '');
  } catch {
    return false;
  }
}

function timeZones(current) {
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [];
  return current && !zones.includes(current) ? [current, ...zones] : zones;
}

// A labelled control with a place for its error; `field` is its path in the settings, as the
// hub names it in a refusal.
function row(label, control, field, { inline = false } = {}) {
  const error = h('span', { class: 'field-error', id: nextId('error'), role: 'alert' });
  control.dataset.field = field;
  control.setAttribute('aria-describedby', error.id);
  const labelled = inline ? h('label', {}, control, ' ', label) : h('label', {}, label, control);
  return h(
    'div',
    { class: `webchat-row${inline ? ' inline' : ''}`, dataset: { row: field } },
    labelled,
    error,
  );
}

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

// biome-ignore lint/correctness/noUnusedFunctionParameters: the signature every inbox card shares
export async function webChatCard(app, inbox) {
  const saved = clone(inbox.settings);
  const draft = clone(inbox.settings);
  draft.prechat = draft.prechat || { enabled: false, fields: [] };
  const card = h('section', { class: 'card webchat-card', dataset: { inboxId: String(inbox.id) } });

  // The preview: the real widget in a frame that may call nobody.
  const frame = h('iframe', {
    class: 'widget-preview',
    title: t('webchat_preview_frame'),
    src: `/console/widget-preview.html?lang=${encodeURIComponent(locale())}`,
  });
  const away = h('input', { type: 'checkbox', name: 'preview_away' });
  let frameReady = false;
  const showPreview = () => {
    if (!frameReady || !frame.contentWindow) return;
    const message = { name: inbox.name, settings: draft, online: !away.checked };
    frame.contentWindow.postMessage({ switchboardPreview: message }, location.origin);
  };
  const onFrameMessage = (event) => {
    if (!card.isConnected && frameReady) {
      window.removeEventListener('message', onFrameMessage);
      return;
    }
    if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
    if (event.data?.switchboardPreviewReady) {
      frameReady = true;
      showPreview();
    }
  };
  window.addEventListener('message', onFrameMessage);
  away.addEventListener('change', showPreview);

  const status = h('p', { class: 'webchat-status', role: 'status' });
  const changed = () => {
    status.className = 'webchat-status';
    status.textContent = JSON.stringify(draft) === JSON.stringify(saved) ? '' : t('webchat_unsaved');
    showPreview();
  };

  // Greeting and away message.
  const greeting = h('textarea', { rows: 2, maxlength: '1000', dir: 'auto' });
  greeting.value = draft.greeting || '';
  greeting.addEventListener('input', () => {
    draft.greeting = greeting.value || null;
    changed();
  });
  const awayMessage = h('textarea', { rows: 2, maxlength: '1000', dir: 'auto' });
  awayMessage.value = draft.away_message || '';
  awayMessage.addEventListener('input', () => {
    draft.away_message = awayMessage.value || null;
    changed();
  });

  // Colour: a picker and its hex, kept together; a colour white text cannot be read on is
  // refused here as the hub refuses it.
  const picker = h('input', { type: 'color', value: HEX.test(draft.color) ? draft.color : '#2563eb' });
  const hex = h('input', {
    type: 'text',
    name: 'color',
    value: draft.color,
    maxlength: '7',
    dir: 'ltr',
    spellcheck: 'false',
    'aria-label': t('webchat_color_hex'),
  });
  const colorRow = row(t('webchat_color'), hex, 'color');
  colorRow.querySelector('label').append(picker);
  picker.setAttribute('aria-label', t('webchat_color'));
  const setColor = (value) => {
    draft.color = value;
    setError(card, 'color', colorProblem(value));
    changed();
  };
  picker.addEventListener('input', () => {
    hex.value = picker.value;
    setColor(picker.value);
  });
  hex.addEventListener('input', () => {
    const value = hex.value.trim();
    if (HEX.test(value)) picker.value = value.toLowerCase();
    setColor(value);
  });

  // Allowed origins, one per line.
  const origins = h('textarea', {
    rows: 3,
    dir: 'ltr',
    spellcheck: 'false',
    placeholder: 'https://shop.example',
  });
  origins.value = (draft.allowed_origins || []).join('\n');
  origins.addEventListener('input', () => {
    draft.allowed_origins = origins.value
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    setError(card, 'allowed_origins', originsProblem(draft.allowed_origins));
    changed();
  });

  const checkbox = (key, label) => {
    const box = h('input', { type: 'checkbox', checked: Boolean(draft[key]) });
    box.addEventListener('change', () => {
      draft[key] = box.checked;
      changed();
    });
    return row(label, box, key, { inline: true });
  };

  const prechat = prechatEditor(draft, changed);
  const hours = hoursEditor(draft, changed);

  const save = h('button', { class: 'primary', type: 'submit' }, t('save'));
  const form = h(
    'form',
    {
      class: 'webchat-form',
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        clearErrors(card);
        const problems = [
          ['color', colorProblem(draft.color)],
          ['allowed_origins', originsProblem(draft.allowed_origins || [])],
        ].filter(([, problem]) => problem);
        if (problems.length) {
          for (const [field, problem] of problems) setError(card, field, problem);
          status.className = 'webchat-status error';
          status.textContent = t('webchat_fix');
          card.querySelector('[aria-invalid="true"]')?.focus();
          return;
        }
        save.disabled = true;
        try {
          const updated = await api(`/inboxes/${inbox.id}`, { method: 'PATCH', body: { settings: draft } });
          inbox.settings = updated.settings;
          Object.assign(saved, clone(updated.settings));
          for (const key of Object.keys(saved)) if (!(key in updated.settings)) delete saved[key];
          status.className = 'webchat-status saved';
          status.textContent = t('saved');
        } catch (error) {
          // The draft stays as the admin left it; the refusal goes beside its field.
          const field = error.field?.replace(/^settings\./, '');
          const placed = field && setError(card, field, error.message);
          status.className = 'webchat-status error';
          status.textContent = t('webchat_refused', { m: error.message });
          if (placed) placed.focus();
        } finally {
          save.disabled = false;
        }
      },
    },
    row(t('webchat_greeting'), greeting, 'greeting'),
    row(t('webchat_away'), awayMessage, 'away_message'),
    colorRow,
    prechat,
    row(t('webchat_origins'), origins, 'allowed_origins'),
    checkbox('require_identity_verification', t('webchat_identity')),
    hours,
    checkbox('csat', t('webchat_csat')),
    h('div', { class: 'webchat-actions' }, save, status),
  );

  const preview = h(
    'div',
    { class: 'webchat-preview' },
    h('h3', {}, t('webchat_preview')),
    frame,
    h('label', {}, away, ' ', t('webchat_preview_away')),
  );

  card.append(
    h('h3', {}, t('webchat_title')),
    await embedSnippet(inbox),
    h('div', { class: 'webchat-layout' }, form, preview),
  );
  return card;
}

// The tag to paste, with a Copy button, from the inbox's page (admins get it from the hub).
async function embedSnippet(inbox) {
  const details = await api(`/inboxes/${inbox.id}`).catch(() => ({}));
  if (!details.embed_snippet) return null;
  const id = nextId('snippet');
  const text = h(
    'pre',
    { class: 'snippet embed-snippet', id, dir: 'ltr', tabindex: '0' },
    details.embed_snippet,
  );
  const status = h('span', { class: 'saved', role: 'status' });
  return h(
    'div',
    { class: 'webchat-embed' },
    h('h4', {}, t('embed')),
    text,
    h(
      'button',
      {
        type: 'button',
        class: 'copy',
        'aria-describedby': id,
        onclick: async () => {
          status.textContent = (await copy(details.embed_snippet, text)) ? t('copied') : t('copy_failed');
        },
      },
      t('copy'),
    ),
    ' ',
    status,
  );
}

function colorProblem(value) {
  if (!HEX.test(value || '')) return t('webchat_color_bad');
  const ratio = contrastWithWhite(value);
  return ratio < MIN_CONTRAST ? t('webchat_color_low', { r: ratio.toFixed(1) }) : '';
}

function originsProblem(list) {
  const bad = list.find((o) => !isOrigin(o));
  return bad ? t('webchat_origin_bad', { o: bad }) : '';
}

// Shows `message` beside the control for `field` (the closest one the path names: a refusal of
// `allowed_origins[1]` goes to the origins box). Answers the control, if one was found.
function setError(card, field, message) {
  let path = field;
  let control = null;
  while (path && !control) {
    control = card.querySelector(`[data-field="${CSS.escape(path)}"]`);
    path = path.replace(/(\[\d+\]|\.[^.[]*)$/, '');
  }
  if (!control) return null;
  const error = card.querySelector(`#${CSS.escape(control.getAttribute('aria-describedby'))}`);
  if (error) error.textContent = message || '';
  if (message) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
  return control;
}

function clearErrors(card) {
  for (const control of card.querySelectorAll('[aria-invalid="true"]'))
    setError(card, control.dataset.field, '');
}

// The pre-chat form: on or off, and its fields, each with a name, label, type, whether it is
// required and (for lists) options; added, removed and moved up or down.
function prechatEditor(draft, changed) {
  const enabled = h('input', { type: 'checkbox', checked: draft.prechat.enabled });
  enabled.addEventListener('change', () => {
    draft.prechat.enabled = enabled.checked;
    changed();
  });
  const list = h('ol', { class: 'prechat-fields' });
  const redraw = (focusIndex, focusSelector) => {
    list.replaceChildren(
      ...draft.prechat.fields.map((field, i) => fieldEditor(draft.prechat.fields, field, i, redraw, changed)),
    );
    if (focusIndex !== undefined) list.children[focusIndex]?.querySelector(focusSelector)?.focus();
  };
  redraw();
  const add = h(
    'button',
    {
      type: 'button',
      class: 'add-field',
      onclick: () => {
        const n = draft.prechat.fields.length + 1;
        draft.prechat.fields.push({
          name: `field_${n}`,
          label: '',
          type: 'text',
          required: false,
          options: [],
        });
        redraw(n - 1, 'input[data-part="label"]');
        changed();
      },
    },
    t('webchat_add_field'),
  );
  return h(
    'fieldset',
    { class: 'webchat-prechat' },
    h('legend', {}, t('webchat_prechat')),
    row(t('webchat_prechat_on'), enabled, 'prechat.enabled', { inline: true }),
    list,
    add,
  );
}

function fieldEditor(fields, field, i, redraw, changed) {
  const at = `prechat.fields[${i}]`;
  const input = (part, attrs) => {
    const el = h('input', { type: 'text', dir: 'auto', ...attrs, value: field[part] ?? '' });
    el.dataset.part = part;
    el.addEventListener('input', () => {
      field[part] = el.value;
      changed();
    });
    return el;
  };
  const type = h(
    'select',
    {},
    FIELD_TYPES.map((k) => h('option', { value: k, selected: field.type === k }, t(`webchat_type_${k}`))),
  );
  const options = h('textarea', { rows: 3, dir: 'auto' });
  options.value = (field.options || []).join('\n');
  const optionsRow = row(t('webchat_field_options'), options, `${at}.options`);
  optionsRow.hidden = field.type !== 'select';
  type.addEventListener('change', () => {
    field.type = type.value;
    optionsRow.hidden = field.type !== 'select';
    // Only lists have options; the hub keeps whatever it is sent.
    field.options = field.type === 'select' ? lines(options.value) : [];
    changed();
  });
  options.addEventListener('input', () => {
    field.options = lines(options.value);
    changed();
  });
  const required = h('input', { type: 'checkbox', checked: Boolean(field.required) });
  required.addEventListener('change', () => {
    field.required = required.checked;
    changed();
  });
  const move = (to, label, disabled) =>
    h(
      'button',
      {
        type: 'button',
        disabled,
        'aria-label': `${label}: ${t('webchat_field', { n: i + 1 })}`,
        onclick: () => {
          const [moved] = fields.splice(i, 1);
          fields.splice(to, 0, moved);
          redraw(to, `button[data-move="${to > i ? 'down' : 'up'}"]:not([disabled])`);
          changed();
        },
        dataset: { move: to > i ? 'down' : 'up' },
      },
      to > i ? '↓' : '↑',
    );
  const remove = h(
    'button',
    {
      type: 'button',
      class: 'remove-field',
      onclick: () => {
        fields.splice(i, 1);
        redraw(Math.min(i, fields.length - 1), 'input[data-part="name"]');
        changed();
      },
    },
    t('webchat_remove'),
  );
  return h(
    'li',
    { class: 'prechat-field', dataset: { index: String(i) } },
    h('b', {}, t('webchat_field', { n: i + 1 })),
    row(t('webchat_field_name'), input('name', { dir: 'ltr', maxlength: '100' }), `${at}.name`),
    row(t('webchat_field_label'), input('label', { maxlength: '1000' }), `${at}.label`),
    row(t('webchat_field_type'), type, `${at}.type`),
    row(t('webchat_field_required'), required, `${at}.required`, { inline: true }),
    optionsRow,
    h(
      'div',
      { class: 'field-actions' },
      move(i - 1, t('webchat_up'), i === 0),
      move(i + 1, t('webchat_down'), i === fields.length - 1),
      remove,
    ),
  );
}

function lines(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

// Business hours: off (always open) or a week with one opening per day, in a time zone from the
// browser's list. More openings a day set through the API are kept as they are.
function hoursEditor(draft, changed) {
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const kept = draft.business_hours || { timezone: here, days: {} };
  const on = h('input', { type: 'checkbox', checked: Boolean(draft.business_hours) });
  const zone = h(
    'select',
    {},
    timeZones(kept.timezone).map((z) => h('option', { value: z, selected: z === kept.timezone }, z)),
  );
  const week = {};
  const rows = DAYS.map((day) => {
    const ranges = kept.days[day] || [];
    const open = h('input', {
      type: 'checkbox',
      checked: ranges.length > 0,
      'aria-label': `${t(`webchat_${day}`)}: ${t('webchat_open_day')}`,
    });
    const from = h('input', {
      type: 'time',
      value: ranges[0]?.[0] || '09:00',
      'aria-label': `${t(`webchat_${day}`)}: ${t('webchat_from')}`,
    });
    const to = h('input', {
      type: 'time',
      value: ranges[0]?.[1] || '17:00',
      'aria-label': `${t(`webchat_${day}`)}: ${t('webchat_to')}`,
    });
    week[day] = { open, from, to, more: ranges.slice(1) };
    return h(
      'tr',
      { dataset: { day } },
      h('th', { scope: 'row' }, t(`webchat_${day}`)),
      h('td', {}, open),
      h('td', {}, from),
      h('td', {}, to),
    );
  });
  const table = h(
    'table',
    { class: 'hours-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['webchat_day', 'webchat_open_day', 'webchat_from', 'webchat_to'].map((k) =>
          h('th', { scope: 'col' }, t(k)),
        ),
      ),
    ),
    h('tbody', {}, rows),
  );
  const body = h(
    'div',
    { class: 'hours-body' },
    row(t('webchat_timezone'), zone, 'business_hours.timezone'),
    table,
  );
  const read = () => {
    body.hidden = !on.checked;
    if (!on.checked) {
      draft.business_hours = null;
      return;
    }
    const days = {};
    for (const day of DAYS) {
      const { open, from, to, more } = week[day];
      from.disabled = !open.checked;
      to.disabled = !open.checked;
      if (open.checked) days[day] = [[from.value, to.value], ...more];
    }
    draft.business_hours = { timezone: zone.value, days };
  };
  read();
  body.addEventListener('input', () => {
    read();
    changed();
  });
  body.addEventListener('change', () => {
    read();
    changed();
  });
  on.addEventListener('change', () => {
    read();
    changed();
  });
  const fieldset = h(
    'fieldset',
    { class: 'webchat-hours' },
    h('legend', {}, t('webchat_hours')),
    row(t('webchat_hours_on'), on, 'business_hours', { inline: true }),
    body,
  );
  return fieldset;
}
