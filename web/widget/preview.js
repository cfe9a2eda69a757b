// The widget as an inbox's settings page shows it before saving (web/console/settings-webchat.js):
// the real view and the real pre-chat rules, drawn from settings the console posts into the
// preview frame (/console/widget-preview.html). Nothing here calls the hub, so no visitor, contact
// or conversation is ever made; the frame's policy (connect-src 'none') would refuse any call
// anyway. build.rs joins it with the view's modules into /console/widget-preview.js, in place of
// main.js: the script every visitor of every site downloads carries none of it.

import { Conversation } from './conversation.js';
import { chooseLanguage, isRightToLeft, translator } from './strings.js';
import { WidgetView } from './view.js';

const HEX = /^#[0-9a-f]{6}$/i;

// What the view reads of a session, from the settings being edited.
function previewSession({ name, settings, online }, previous) {
  const color = HEX.test(settings.color || '') ? settings.color : previous?.inbox.color;
  return {
    visitor: { contact_id: 0, name: null, email: null, verified: false },
    inbox: {
      name,
      online,
      greeting: settings.greeting || null,
      away_message: settings.away_message || null,
      prechat: { enabled: Boolean(settings.prechat?.enabled), fields: settings.prechat?.fields || [] },
      color,
      attachments: { max_bytes: 0, content_types: [] },
      csat: Boolean(settings.csat),
    },
  };
}

function startPreview(script) {
  const lang = chooseLanguage([
    new URLSearchParams(location.search).get('lang'),
    ...(navigator.languages || []),
  ]);
  const refuse = () => Promise.reject(new Error('the preview talks to nobody'));
  const memory = new Map();
  const chat = new Conversation({
    call: refuse,
    websiteToken: 'preview',
    lang,
    storage: { getItem: (k) => memory.get(k) ?? null, setItem: (k, v) => memory.set(k, v) },
  });
  const nothing = () => {};
  const view = new WidgetView({
    hub: location.origin,
    lang,
    rtl: isRightToLeft(lang),
    t: translator(lang),
    chat,
    nonce: script.nonce,
    actions: {
      opened: nothing,
      typing: nothing,
      send: nothing,
      attach: nothing,
      startChat: nothing,
      rate: nothing,
    },
  });
  view.mount(document.body);
  // Open without toggle(): it would move the focus into the frame, away from the field the
  // admin is typing in.
  view.isOpen = true;
  view.panel.hidden = false;
  window.addEventListener('message', (event) => {
    // Only the console page that framed us, from our own origin.
    if (event.source !== window.parent || event.origin !== location.origin) return;
    const data = event.data?.switchboardPreview;
    if (!data || typeof data.settings !== 'object') return;
    chat.session = previewSession(data, chat.session);
    view.update();
    document.body.dataset.previewed = String((Number(document.body.dataset.previewed) || 0) + 1);
  });
  window.parent.postMessage({ switchboardPreviewReady: true }, location.origin);
}

startPreview(document.currentScript);
