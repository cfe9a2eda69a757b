// The widget on the page: a launcher and a panel inside a shadow root. Everything is built once
// and updated in place (messages are keyed by id: new ones are added, changed ones redrawn), so
// the visitor's draft, caret and focus survive whatever frame arrives.
//
// WIDGET_CSS is web/widget/style.css, put in front of the script by src/http/assets.rs.

import { h } from '../shared/dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const BUBBLE = 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z';
const DEFAULT_COLOR = '#2f6fed';

function bubbleIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', BUBBLE);
  svg.append(path);
  return svg;
}

// A constructed stylesheet is not subject to the host page's CSP (style-src); where the browser
// has none, a <style> element carries the nonce the site gave our script tag.
function adoptStyle(root, nonce) {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(h('style', { nonce: nonce || null }, WIDGET_CSS));
  }
}

// `actions` are what the visitor asks for: opened(), send(text), typing(), attach(file),
// startChat(text, prechat), rate(score, comment).
export class WidgetView {
  constructor({ hub, lang, rtl, t, chat, actions, nonce }) {
    this.hub = hub;
    this.t = t;
    this.chat = chat;
    this.actions = actions;
    this.isOpen = false;
    this.mode = null;
    this.drawn = new Map();
    this.ratingKey = '';
    this.rating = null;

    const dir = rtl ? 'rtl' : 'ltr';
    this.host = h('div', { id: 'switchboard-widget' });
    const root = this.host.attachShadow({ mode: 'open' });
    this.root = root;
    adoptStyle(root, nonce);
    this.badge = h('span', { class: 'badge', hidden: true });
    // Hidden until the session tells the inbox's colour: its first paint is in that colour,
    // never a white icon on a see-through button.
    this.launcher = h(
      'button',
      { class: 'launcher', dir, hidden: true, 'aria-label': t('open_chat'), onclick: () => this.toggle() },
      bubbleIcon(),
      this.badge,
    );
    this.title = h('b', {}, t('title'));
    this.status = h('span', { class: 'status' });
    this.header = h(
      'header',
      {},
      this.title,
      this.status,
      h('button', { 'aria-label': t('close'), onclick: () => this.toggle(false) }, '×'),
    );
    this.panel = h('section', {
      class: 'panel',
      hidden: true,
      dir,
      lang,
      role: 'dialog',
      'aria-label': t('title'),
    });
    this.greeting = h('div', { class: 'msg outgoing', dir: 'auto' });
    this.log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite' });
    this.info = h('div', { class: 'info', 'aria-live': 'polite' });
    this.composer = this.buildComposer();
    root.append(this.launcher, this.panel);
  }

  mount(parent) {
    parent.append(this.host);
  }

  unmount() {
    this.host.remove();
  }

  toggle(open = !this.isOpen) {
    this.isOpen = open;
    this.panel.hidden = !open;
    if (open) {
      this.actions.opened();
      this.update();
      this.log.scrollTop = this.log.scrollHeight;
      const field =
        this.mode === 'chat' ? this.box : this.panel.querySelector('.prechat input, .prechat textarea');
      if (field) field.focus();
    }
    this.updateBadge();
  }

  // Brings everything in line with the conversation. Only what changed is touched.
  update() {
    this.updateBadge();
    const s = this.chat.session;
    // The launcher wears the inbox's colour too, before the panel was ever opened.
    this.host.style.setProperty('--c', s?.inbox.color || DEFAULT_COLOR);
    if (s) this.launcher.hidden = false;
    if (!this.isOpen) return;
    this.title.textContent = s?.inbox.name || this.t('title');
    this.status.textContent = s && !s.inbox.online ? this.t('away') : '';
    if (this.chat.needsPrechat()) {
      // A new session (identify) may ask for other fields: only then is the form drawn anew.
      if (this.mode !== 'prechat' || this.prechatFor !== s) {
        this.mode = 'prechat';
        this.prechatFor = s;
        this.panel.replaceChildren(this.header, this.buildPrechat(s));
      }
      return;
    }
    if (this.mode !== 'chat') {
      // Sent from the pre-chat form: the visitor goes on writing in the composer.
      const wasWriting = this.mode === 'prechat' && this.panel.contains(this.root.activeElement);
      this.mode = 'chat';
      this.panel.replaceChildren(this.header, this.log, this.info, this.composer);
      if (wasWriting) this.box.focus();
    }
    this.updateGreeting(s);
    this.updateMessages();
    this.updateInfo();
    this.updateRating(s);
    this.attachButton.hidden = !this.limits().max_bytes;
  }

  updateBadge() {
    this.badge.hidden = !this.chat.unread || this.isOpen;
    this.badge.textContent = String(this.chat.unread);
  }

  updateInfo() {
    const { error, agentTyping, queue, current } = this.chat;
    let text = '';
    if (error) text = error.text || this.t(error.key);
    else if (agentTyping) text = this.t('typing', { name: agentTyping });
    else if (queue > 0 && current?.status === 'open' && !this.chat.agentReplied())
      text = this.t('queue', { n: queue });
    this.info.textContent = text;
  }

  updateGreeting(s) {
    const greeting = s && (s.inbox.online ? s.inbox.greeting : s.inbox.away_message);
    if (greeting) {
      this.greeting.textContent = greeting;
      if (this.log.firstChild !== this.greeting) this.log.prepend(this.greeting);
    } else {
      this.greeting.remove();
    }
  }

  // The keyed list: each message's element is kept while what it shows is unchanged.
  updateMessages() {
    const messages = this.chat.messages;
    const lastMine = messages.findLast((m) => m.direction === 'incoming');
    const kept = new Set();
    let previous = this.greeting.isConnected ? this.greeting : null;
    let added = false;
    for (const m of messages) {
      const receipt = m === lastMine && m.status === 'read';
      const key = JSON.stringify([m.direction, m.sender_name, m.text, m.attachments, receipt]);
      let drawn = this.drawn.get(m.id);
      if (!drawn || drawn.key !== key) {
        const el = this.messageElement(m, receipt);
        if (drawn) drawn.el.replaceWith(el);
        else added = true;
        drawn = { el, key };
        this.drawn.set(m.id, drawn);
      }
      const next = previous ? previous.nextSibling : this.log.firstChild;
      if (drawn.el !== next) this.log.insertBefore(drawn.el, next);
      previous = drawn.el;
      kept.add(m.id);
    }
    for (const [id, drawn] of this.drawn) {
      if (kept.has(id)) continue;
      drawn.el.remove();
      this.drawn.delete(id);
    }
    if (added) this.log.scrollTop = this.log.scrollHeight;
  }

  messageElement(m, receipt) {
    const attachments = (m.attachments || []).map((a) =>
      h('div', {}, h('a', { href: this.hub + a.url, target: '_blank', rel: 'noopener' }, `📎 ${a.filename}`)),
    );
    return h(
      'div',
      { class: `msg ${m.direction}`, dir: 'auto', 'data-id': m.id },
      m.direction === 'outgoing' && m.sender_name ? h('small', {}, m.sender_name) : null,
      m.text,
      attachments,
      receipt ? h('small', { class: 'receipt' }, this.t('read')) : null,
    );
  }

  // The rating form is drawn when a conversation is resolved and again once it is rated; in
  // between it stays, with whatever comment the visitor is writing.
  updateRating(s) {
    const c = this.chat.current;
    const wanted = c && c.status === 'resolved' && s?.inbox.csat;
    const key = wanted ? `${c.id}:${Boolean(c.rated)}` : '';
    if (key === this.ratingKey) return;
    this.ratingKey = key;
    if (this.rating) this.rating.remove();
    this.rating = wanted ? this.buildRating(c) : null;
    if (this.rating) this.composer.before(this.rating);
  }

  limits() {
    return this.chat.session?.inbox.attachments || { max_bytes: 0, content_types: [] };
  }

  buildComposer() {
    const t = this.t;
    this.box = h('textarea', {
      rows: 1,
      placeholder: t('placeholder'),
      'aria-label': t('placeholder'),
      dir: 'auto',
      onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          form.requestSubmit();
        }
      },
      oninput: () => this.actions.typing(),
    });
    const file = h('input', {
      type: 'file',
      hidden: true,
      onchange: () => {
        const picked = file.files[0];
        file.value = '';
        if (picked) this.actions.attach(picked, this.limits());
      },
    });
    this.attachButton = h(
      'button',
      { type: 'button', class: 'icon', 'aria-label': t('attach'), hidden: true, onclick: () => file.click() },
      '📎',
    );
    const form = h(
      'form',
      {
        onsubmit: (e) => {
          e.preventDefault();
          const text = this.box.value.trim();
          if (!text) return;
          this.box.value = '';
          // Sent with the button or Enter, the visitor goes on writing in the box.
          this.box.focus();
          this.actions.send(text);
        },
      },
      this.attachButton,
      file,
      this.box,
      h('button', { class: 'send', type: 'submit' }, t('send')),
    );
    return form;
  }

  buildPrechat(s) {
    const t = this.t;
    const fields = [...(s.inbox.prechat.enabled ? s.inbox.prechat.fields : [])];
    if (!s.inbox.online && !s.visitor.email && !fields.some((f) => f.name === 'email')) {
      fields.push({ name: 'email', label: t('email'), type: 'email', required: true });
    }
    const inputs = fields.map((f) => h('label', {}, `${f.label}${f.required ? ' *' : ''}`, prechatInput(f)));
    const message = h('textarea', {
      name: 'message',
      rows: 3,
      required: true,
      placeholder: t('placeholder'),
      dir: 'auto',
    });
    const submit = (e) => {
      e.preventDefault();
      const data = Object.fromEntries(new FormData(e.target).entries());
      const text = data.message;
      delete data.message;
      const prechat = { fields: {} };
      for (const [name, value] of Object.entries(data)) {
        if (!value) continue;
        if (name === 'name' || name === 'email') prechat[name] = value;
        else prechat.fields[name] = value;
      }
      this.actions.startChat(text, prechat);
    };
    return h(
      'form',
      { class: 'prechat', onsubmit: submit },
      s.inbox.online ? null : h('p', {}, t('email_follow')),
      inputs,
      message,
      h('button', { class: 'primary', type: 'submit' }, t('start')),
    );
  }

  buildRating(c) {
    const t = this.t;
    if (c.rated) return h('div', { class: 'rating note' }, t('thanks'));
    const comment = h('input', { type: 'text', placeholder: t('comment'), dir: 'auto' });
    const stars = [1, 2, 3, 4, 5].map((n) =>
      h(
        'button',
        {
          type: 'button',
          'aria-label': `${n}/5`,
          'data-score': n,
          onclick: () => this.actions.rate(n, comment.value),
        },
        '★',
      ),
    );
    return h(
      'div',
      { class: 'rating' },
      h('div', { class: 'note' }, t('rate')),
      h('div', { class: 'stars' }, stars),
      comment,
    );
  }

  // A short tone for an agent's reply the visitor is not looking at.
  chime() {
    try {
      const ctx = new AudioContext();
      const tone = ctx.createOscillator();
      const gain = ctx.createGain();
      tone.frequency.value = 740;
      gain.gain.setValueAtTime(0.06, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.3);
      tone.connect(gain).connect(ctx.destination);
      tone.start();
      tone.stop(ctx.currentTime + 0.32);
    } catch {
      // No audio before the visitor has interacted with the page: stay silent.
    }
  }
}

function prechatInput(field) {
  const attrs = {
    name: field.name,
    required: field.required,
    type: field.type === 'email' ? 'email' : 'text',
    dir: 'auto',
  };
  if (field.type === 'textarea') return h('textarea', attrs);
  if (field.type !== 'select') return h('input', attrs);
  const options = (field.options || []).map((o) => h('option', { value: o }, o));
  return h('select', attrs, h('option', { value: '' }, '—'), options);
}
