// Boots the widget on the host page: reads the script tag, opens the visitor's session, feeds
// the live socket's frames to the conversation and the view, and offers `window.Switchboard`.

import { fileToBase64 } from '../shared/dom.js';
import { attachmentProblem } from './attachments.js';
import { Conversation } from './conversation.js';
import { chooseLanguage, isRightToLeft, translator } from './strings.js';
import { LiveSocket, visitorApi } from './transport.js';
import { WidgetView } from './view.js';

// A typing frame at most this often while the visitor types.
const TYPING_EVERY_MS = 3000;

// Who the visitor is, when the site's backend vouched for them in the script tag.
function identityFromTag(data) {
  if (!data.identifier) return null;
  return {
    identifier: data.identifier,
    identifier_hash: data.identifierHash,
    jwt: data.identityJwt,
    name: data.name,
    email: data.email,
  };
}

function start() {
  // Pasted twice, or loaded again by a single-page app: the first copy stays in charge.
  if (window.Switchboard?.loaded) return;
  const script = document.currentScript || document.querySelector('script[data-website-token]');
  if (!script) return;
  const hub = new URL(script.src, location.href).origin;
  const lang = chooseLanguage([script.dataset.locale, ...(navigator.languages || [navigator.language])]);
  const t = translator(lang);
  const chat = new Conversation({
    call: visitorApi(hub, () => chat.token),
    websiteToken: script.dataset.websiteToken,
    lang,
    storage: localStorage,
  });

  const live = new LiveSocket((reconnecting) => {
    // Coming back: the server sends what came after our last message first (no REST round trip).
    const last = chat.lastMessageId();
    const after = reconnecting && last ? `&after=${last}` : '';
    const base = `${hub.replace(/^http/, 'ws')}/widget/v1/ws`;
    return { url: `${base}?token=${encodeURIComponent(chat.token)}${after}`, resumed: Boolean(after) };
  }, onFrame);

  let typingAt = 0;
  const post = (text, attachments, prechat) => chat.post(text, attachments, prechat, () => view.update());
  const view = new WidgetView({
    hub,
    lang,
    rtl: isRightToLeft(lang),
    t,
    chat,
    nonce: script.nonce,
    actions: {
      opened: () => chat.markRead(),
      typing: () => {
        if (!chat.current || Date.now() - typingAt < TYPING_EVERY_MS) return;
        typingAt = Date.now();
        live.send({ type: 'typing', conversation_id: chat.current.id, on: true });
      },
      send: (text) => {
        typingAt = 0;
        if (chat.current) live.send({ type: 'typing', conversation_id: chat.current.id, on: false });
        post(text, []);
      },
      attach: async (file, limits) => {
        const problem = attachmentProblem(file, limits);
        if (problem) {
          chat.error = { key: problem };
          view.updateInfo();
          return;
        }
        const data = await fileToBase64(file);
        post('', [{ filename: file.name, content_type: file.type, data }]);
      },
      startChat: (text, prechat) => {
        // Offline, the email asked for is where the answer goes: do not ask for it again.
        if (prechat.email) chat.session.visitor.email = prechat.email;
        post(text, [], prechat);
      },
      rate: async (score, comment) => {
        await chat.rate(score, comment);
        view.update();
      },
    },
  });

  async function onFrame(frame, { missed }) {
    switch (frame.type) {
      case 'ready':
        if (missed) await chat.fetchMessages().catch(() => {});
        view.update();
        break;
      case 'message': {
        const m = frame.message;
        chat.follow(m.conversation_id);
        const fresh = !chat.has(m.id);
        chat.upsert(m);
        if (fresh && m.direction === 'outgoing') {
          chat.agentTyping = null;
          if (view.isOpen && document.visibilityState === 'visible') {
            chat.markRead();
          } else {
            chat.unread += 1;
            view.chime();
          }
        }
        view.update();
        break;
      }
      case 'conversation':
        if (chat.current && frame.conversation.id === chat.current.id) {
          chat.current.status = frame.conversation.status;
          view.update();
        }
        break;
      case 'typing':
        chat.agentTyping = frame.on ? frame.agent_name || t('agent') : null;
        view.updateInfo();
        break;
      case 'queue':
        if (chat.current && frame.conversation_id === chat.current.id) {
          chat.queue = frame.position;
          view.updateInfo();
        }
        break;
      case 'resync':
        await chat.refetchMessages().catch(() => {});
        view.update();
        break;
      case 'expired':
        // The session ran out (a verification's lifetime): start a new one, then come back.
        live.release();
        await chat.startSession().catch(() => {});
        live.open();
        view.update();
        break;
    }
  }

  async function boot() {
    chat.identity = identityFromTag(script.dataset);
    view.mount(document.body);
    try {
      await chat.startSession();
    } catch (e) {
      console.warn('Switchboard chat is unavailable:', e.message);
      view.unmount();
      return;
    }
    live.open();
    view.update();
  }

  window.Switchboard = {
    loaded: true,
    open: () => view.toggle(true),
    close: () => view.toggle(false),
    // For single-page apps: who the visitor is, vouched for by the site's backend.
    identify: async (identity) => {
      chat.identity = identity;
      await chat.startSession();
      live.drop();
      view.update();
    },
  };
  if (document.body) boot();
  else document.addEventListener('DOMContentLoaded', boot);
}

start();
