// The right half of the console: one conversation's thread across channels, the reply box (reply
// or private note, canned responses on `/`, attachments), assignment, status and labels, and the
// contact panel with identities, attributes and past conversations.

import { clear, fileToBase64, h } from '../shared/dom.js';
import { all, api } from './api.js';
import { emailHtml } from './email.js';
import { locale, t } from './i18n.js';
import { attachmentSvg, channelIcon } from './icons.js';
import { clock } from './time.js';

export class Thread {
  constructor(app) {
    this.app = app;
    this.messages = [];
    this.files = [];
    this.mode = 'reply';
    // Messages whose remote images the agent asked to load.
    this.imagesShown = new Set();
    this.pane = h(
      'section',
      { class: 'thread-pane', 'aria-label': t('reply') },
      h('p', { class: 'placeholder' }, t('pick_conversation')),
    );
    this.contactPane = h('aside', { class: 'contact-pane', 'aria-label': t('contact') });
  }

  async open(id) {
    this.conversation = await api(`/conversations/${id}`);
    this.messages = await all(`/conversations/${id}/messages`, 2000);
    this.files = [];
    this.render();
    this.markRead();
    this.loadContact();
  }

  close() {
    this.conversation = null;
    clear(this.pane, h('p', { class: 'placeholder' }, t('pick_conversation')));
    clear(this.contactPane);
  }

  // Live updates for the open conversation.
  onEvent(event) {
    if (!this.conversation || event.conversation_id !== this.conversation.id) return;
    if (event.kind === 'message.created' || event.kind === 'message.updated') {
      const m = event.payload;
      const i = this.messages.findIndex((x) => x.id === m.id);
      const shown = i === -1 ? null : this.list?.querySelector(`[data-message-id="${m.id}"]`);
      if (i === -1) this.messages.push(m);
      else this.messages[i] = m;
      // A delivery status moving on redraws its message only: the rest of the thread stays as
      // it was (scroll, focus, what a screen reader already read).
      if (shown) shown.replaceWith(this.message(m));
      else this.renderMessages();
      if (m.direction === 'incoming' && document.visibilityState === 'visible') this.markRead();
    } else if (
      event.kind.startsWith('conversation.') &&
      event.payload &&
      event.payload.id === this.conversation.id
    ) {
      this.conversation = event.payload;
      this.renderHeader();
    }
  }

  onTyping(frame) {
    if (!this.conversation || frame.conversation_id !== this.conversation.id || !this.typing) return;
    const who = frame.contact ? t('customer') : this.app.userName(frame.user_id);
    this.typing.textContent = frame.on ? `${who} …` : '';
  }

  markRead() {
    const last = [...this.messages].reverse().find((m) => m.direction === 'incoming');
    if (last)
      this.app.live.send({ type: 'read', conversation_id: this.conversation.id, message_id: last.id });
  }

  render() {
    this.header = h('header', { class: 'thread-header' });
    this.list = h('ol', { class: 'messages', 'aria-live': 'polite' });
    this.typing = h('div', { class: 'typing', 'aria-live': 'polite' });
    clear(this.pane, this.header, this.list, this.typing, this.composer());
    this.renderHeader();
    this.renderMessages();
  }

  renderHeader() {
    const c = this.conversation;
    const inbox = this.app.inboxes.find((i) => i.id === c.inbox_id);
    const members = this.app.users.filter(
      (u) => u.role !== 'agent' || (this.app.memberships.get(c.inbox_id) || new Set()).has(u.id),
    );
    const assign = h(
      'select',
      { 'aria-label': t('assignee'), class: 'assign', onchange: (e) => this.assign(e.target.value) },
      h('option', { value: '' }, t('nobody')),
      members.map((u) => h('option', { value: String(u.id), selected: u.id === c.assignee_id }, u.name)),
    );
    const team = h(
      'select',
      { 'aria-label': t('team'), class: 'team', onchange: (e) => this.assignTeam(e.target.value) },
      h('option', { value: '' }, t('no_team')),
      this.app.teams.map((tm) =>
        h('option', { value: String(tm.id), selected: tm.id === c.team_id }, tm.name),
      ),
    );
    const snooze = h(
      'select',
      {
        'aria-label': t('snooze'),
        onchange: (e) => {
          if (e.target.value) this.snooze(e.target.value);
        },
      },
      h('option', { value: '' }, t('snooze')),
      h('option', { value: '1h' }, t('snooze_1h')),
      h('option', { value: 'tomorrow' }, t('snooze_tomorrow')),
    );
    const resolved = c.status === 'resolved';
    const labelInput = h('input', {
      type: 'text',
      class: 'label-input',
      placeholder: t('add_label'),
      'aria-label': t('add_label'),
      onkeydown: (e) => {
        if (e.key === 'Enter' && e.target.value.trim()) {
          this.setLabels([...c.labels, e.target.value.trim()]);
          e.target.value = '';
        }
      },
    });
    clear(
      this.header,
      h(
        'div',
        { class: 'title' },
        channelIcon(inbox?.kind),
        h(
          'bdi',
          { class: 'name' },
          this.contact ? this.contact.name || this.contact.email || `#${c.contact_id}` : `#${c.contact_id}`,
        ),
        h('span', { class: `status status-${c.status}` }, t(c.status)),
      ),
      h(
        'div',
        { class: 'actions' },
        assign,
        team,
        snooze,
        h(
          'button',
          {
            class: resolved ? 'reopen' : 'resolve primary',
            onclick: () => this.setStatus(resolved ? 'open' : 'resolved'),
          },
          resolved ? t('reopen') : t('resolve'),
        ),
      ),
      h(
        'div',
        { class: 'labels' },
        c.labels.map((l) =>
          h(
            'span',
            { class: 'chip' },
            l,
            h(
              'button',
              {
                class: 'chip-x',
                'aria-label': `remove ${l}`,
                onclick: () => this.setLabels(c.labels.filter((x) => x !== l)),
              },
              '×',
            ),
          ),
        ),
        labelInput,
      ),
    );
  }

  renderMessages() {
    const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    clear(
      this.list,
      this.messages.map((m) => this.message(m)),
    );
    if (nearBottom || this.list.dataset.scrolled !== 'yes') {
      this.list.scrollTop = this.list.scrollHeight;
      this.list.dataset.scrolled = 'yes';
    }
  }

  message(m) {
    if (m.direction === 'activity')
      return h('li', { class: 'activity', dir: 'auto' }, m.text, ' · ', clock(m.created_at, locale()));
    const inbox = this.app.inboxes.find((i) => i.id === m.inbox_id);
    const sender =
      m.sender_kind === 'contact'
        ? this.contact?.name || t('customer')
        : m.sender_id === this.app.me.id
          ? t('you')
          : this.app.userName(m.sender_id) || 'Switchboard';
    // Email HTML is shown in a sandbox with no forms or same-origin access, remote images held
    // back until the agent asks (email.js).
    const frame = () =>
      emailHtml(m.html, {
        title: sender,
        shown: this.imagesShown.has(m.id),
        onShow: () => {
          this.imagesShown.add(m.id);
          this.renderMessages();
        },
      });
    const email = m.meta?.email;
    const body =
      email && m.html
        ? // A customer's mail shows the words they wrote; the whole mail (quoted history, formatting)
          // is one click away.
          h(
            'div',
            { class: 'email-body' },
            h('div', { class: 'text', dir: 'auto' }, m.text),
            // Kept open when it is drawn again after the agent asked for the images.
            h(
              'details',
              { class: 'original', open: this.imagesShown.has(m.id) },
              h('summary', {}, t('show_original')),
              frame(),
            ),
          )
        : m.html
          ? frame()
          : h('div', { class: 'text', dir: 'auto' }, m.text);
    return h(
      'li',
      { class: `message ${m.direction}`, dataset: { messageId: String(m.id) } },
      h(
        'div',
        { class: 'meta' },
        channelIcon(messageChannel(m) || inbox?.kind),
        h('bdi', { class: 'sender' }, sender),
        m.direction === 'note' ? h('span', { class: 'note-tag' }, t('note')) : null,
        h('time', {}, clock(m.created_at, locale())),
        m.direction === 'outgoing' ? deliveryStatus(m) : null,
      ),
      body,
      m.attachments.length
        ? h(
            'ul',
            { class: 'attachments' },
            m.attachments.map((a) =>
              h(
                'li',
                {},
                h(
                  'a',
                  {
                    href: a.url || `/api/v1/attachments/${a.id}`,
                    target: '_blank',
                    rel: 'noopener',
                    onclick: (e) => this.download(e, a),
                  },
                  attachmentSvg(),
                  ` ${a.filename}`,
                ),
                ` (${Math.ceil(a.size / 1024)} KiB)`,
              ),
            ),
          )
        : null,
    );
  }

  // Uploaded files need the agent's token, which a plain link cannot carry.
  async download(event, attachment) {
    if (attachment.url) return;
    event.preventDefault();
    const response = await fetch(`/api/v1/attachments/${attachment.id}`, {
      headers: { Authorization: `Bearer ${this.app.token}` },
    });
    const url = URL.createObjectURL(await response.blob());
    const a = h('a', { href: url, download: attachment.filename });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  composer() {
    this.input = h('textarea', {
      class: 'reply-input',
      rows: '3',
      dir: 'auto',
      'aria-label': t('reply'),
      oninput: () => {
        this.suggest();
        this.sendTyping();
      },
      onkeydown: (e) => this.composerKey(e),
    });
    this.tabs = h(
      'div',
      { class: 'tabs', role: 'tablist' },
      h('button', { role: 'tab', class: 'tab-reply', onclick: () => this.setMode('reply') }, t('reply')),
      h('button', { role: 'tab', class: 'tab-note', onclick: () => this.setMode('note') }, t('note')),
    );
    this.suggestions = h('ul', { class: 'canned', role: 'listbox', hidden: true });
    this.fileList = h('span', { class: 'files' });
    // Email replies can copy more people; other channels have one recipient.
    const inbox = this.app.inboxes.find((i) => i.id === this.conversation.inbox_id);
    const email = inbox && inbox.kind === 'email';
    this.cc = h('input', {
      type: 'text',
      class: 'copies',
      dir: 'ltr',
      placeholder: t('cc'),
      'aria-label': t('cc'),
    });
    this.bcc = h('input', {
      type: 'text',
      class: 'copies',
      dir: 'ltr',
      placeholder: t('bcc'),
      'aria-label': t('bcc'),
    });
    this.copies = email ? h('div', { class: 'copies-row' }, this.cc, this.bcc) : null;
    const picker = h('input', {
      type: 'file',
      multiple: true,
      hidden: true,
      onchange: (e) => {
        this.files.push(...e.target.files);
        this.renderFiles();
      },
    });
    this.form = h(
      'form',
      {
        class: 'composer',
        onsubmit: (e) => {
          e.preventDefault();
          this.send();
        },
      },
      this.tabs,
      this.copies,
      this.suggestions,
      this.input,
      h(
        'div',
        { class: 'composer-actions' },
        h('button', { type: 'button', onclick: () => picker.click() }, attachmentSvg(), ` ${t('attach')}`),
        picker,
        this.fileList,
        h('button', { type: 'submit', class: 'primary send' }, t('send')),
      ),
    );
    this.setMode(this.mode);
    return this.form;
  }

  setMode(mode) {
    this.mode = mode;
    this.form.classList.toggle('noting', mode === 'note');
    this.input.placeholder = mode === 'note' ? t('note_placeholder') : t('reply_placeholder');
    for (const tab of this.tabs.children)
      tab.setAttribute('aria-selected', String(tab.classList.contains(`tab-${mode}`)));
  }

  focusComposer(mode) {
    if (!this.conversation) return;
    this.setMode(mode);
    this.input.focus();
  }

  renderFiles() {
    clear(
      this.fileList,
      this.files.map((f) => h('span', { class: 'chip' }, f.name)),
    );
  }

  sendTyping() {
    const now = Date.now();
    if (this.mode === 'reply' && now - (this.typedAt || 0) > 3000) {
      this.typedAt = now;
      this.app.live.send({ type: 'typing', conversation_id: this.conversation.id, on: true });
    }
  }

  // `/code` at the start of the box offers the matching canned responses.
  suggest() {
    const m = /^\/(\S*)$/.exec(this.input.value);
    const matches = m ? this.app.canned.filter((c) => c.short_code.startsWith(m[1])).slice(0, 8) : [];
    this.suggestions.hidden = !matches.length;
    this.suggestionIndex = 0;
    clear(
      this.suggestions,
      matches.map((c, i) =>
        h(
          'li',
          {
            role: 'option',
            'aria-selected': String(i === 0),
            dataset: { code: c.short_code },
            onmousedown: (e) => {
              e.preventDefault();
              this.useCanned(c);
            },
          },
          h('b', {}, `/${c.short_code}`),
          ' ',
          c.content,
        ),
      ),
    );
    this.matches = matches;
  }

  useCanned(canned) {
    this.input.value = canned.content;
    this.suggestions.hidden = true;
    this.input.focus();
  }

  composerKey(e) {
    if (!this.suggestions.hidden && this.matches.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        this.suggestionIndex =
          (this.suggestionIndex + (e.key === 'ArrowDown' ? 1 : -1) + this.matches.length) %
          this.matches.length;
        for (const [i, li] of [...this.suggestions.children].entries()) {
          li.setAttribute('aria-selected', String(i === this.suggestionIndex));
        }
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        this.useCanned(this.matches[this.suggestionIndex]);
        return;
      }
      if (e.key === 'Escape') {
        this.suggestions.hidden = true;
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.send();
    }
    if (e.key === 'Escape') this.input.blur();
  }

  async send() {
    const text = this.input.value.trim();
    if (!text && !this.files.length) return;
    const attachments = await Promise.all(
      this.files.map(async (f) => ({
        filename: f.name,
        content_type: f.type || undefined,
        data: await fileToBase64(f),
      })),
    );
    const body = { text, private: this.mode === 'note', attachments };
    if (this.copies && this.mode === 'reply') {
      const list = (input) =>
        input.value
          .split(/[,;\s]+/)
          .map((a) => a.trim())
          .filter(Boolean);
      body.cc = list(this.cc);
      body.bcc = list(this.bcc);
    }
    this.input.disabled = true;
    try {
      const message = await api(`/conversations/${this.conversation.id}/messages`, { method: 'POST', body });
      if (!this.messages.some((m) => m.id === message.id)) this.messages.push(message);
      this.input.value = '';
      if (this.copies) {
        this.cc.value = '';
        this.bcc.value = '';
      }
      this.files = [];
      this.renderFiles();
      this.renderMessages();
      this.app.live.send({ type: 'typing', conversation_id: this.conversation.id, on: false });
      this.typedAt = 0;
    } catch (error) {
      this.app.toast(error.message);
    } finally {
      this.input.disabled = false;
      this.input.focus();
    }
  }

  async update(body) {
    try {
      this.conversation = await api(`/conversations/${this.conversation.id}`, { method: 'PATCH', body });
      this.renderHeader();
    } catch (error) {
      this.app.toast(error.message);
    }
  }

  setStatus(status) {
    return this.update({ status });
  }
  setLabels(labels) {
    return this.update({ labels: [...new Set(labels)] });
  }
  snooze(choice) {
    const until = new Date();
    if (choice === '1h') until.setHours(until.getHours() + 1);
    else {
      until.setDate(until.getDate() + 1);
      until.setHours(9, 0, 0, 0);
    }
    return this.update({ status: 'snoozed', snoozed_until: until.getTime() });
  }

  async assign(userId) {
    try {
      this.conversation = await api(`/conversations/${this.conversation.id}/assignment`, {
        method: 'POST',
        body: { assignee_id: userId ? Number(userId) : null, team_id: this.conversation.team_id },
      });
      this.renderHeader();
    } catch (error) {
      this.app.toast(error.message);
    }
  }

  async assignTeam(teamId) {
    try {
      this.conversation = await api(`/conversations/${this.conversation.id}/assignment`, {
        method: 'POST',
        body: { assignee_id: this.conversation.assignee_id, team_id: teamId ? Number(teamId) : null },
      });
      this.renderHeader();
    } catch (error) {
      this.app.toast(error.message);
    }
  }

  async loadContact() {
    const c = this.conversation;
    const [contact, past] = await Promise.all([
      api(`/contacts/${c.contact_id}`),
      api(`/conversations?contact=${c.contact_id}&limit=20`),
    ]);
    if (!this.conversation || this.conversation.id !== c.id) return;
    this.contact = contact;
    this.renderHeader();
    this.renderMessages();
    const attributes = Object.entries(contact.attributes || {});
    clear(
      this.contactPane,
      h('h2', {}, h('bdi', {}, contact.name || contact.email || `#${contact.id}`)),
      h(
        'dl',
        {},
        contact.email
          ? [
              h('dt', {}, t('email')),
              h(
                'dd',
                {},
                h('bdi', {}, contact.email),
                // What a visitor typed is not proof of who they are: say so beside it.
                contact.email_verified === false
                  ? h('span', { class: 'unverified' }, ` (${t('unverified')})`)
                  : null,
              ),
            ]
          : null,
        contact.phone ? [h('dt', {}, 'Phone'), h('dd', { dir: 'ltr' }, contact.phone)] : null,
      ),
      h('h3', {}, t('identities')),
      h(
        'ul',
        { class: 'identities' },
        contact.identities.map((i) =>
          h('li', {}, h('span', { class: 'ns' }, i.namespace), ' ', h('bdi', {}, i.identifier)),
        ),
      ),
      attributes.length
        ? [
            h('h3', {}, t('attributes')),
            h(
              'dl',
              {},
              attributes.map(([k, v]) => [
                h('dt', {}, k),
                h('dd', { dir: 'auto' }, typeof v === 'string' ? v : JSON.stringify(v)),
              ]),
            ),
          ]
        : null,
      h('h3', {}, t('past_conversations')),
      h(
        'ul',
        { class: 'past' },
        past.data
          .filter((p) => p.id !== c.id)
          .map((p) => {
            const inbox = this.app.inboxes.find((i) => i.id === p.inbox_id);
            return h(
              'li',
              {},
              h(
                'a',
                { href: `#/conversations/${p.id}` },
                channelIcon(inbox?.kind),
                ` #${p.id} · ${t(p.status)}`,
              ),
              h('div', { class: 'preview', dir: 'auto' }, p.summary?.last_message || ''),
            );
          }),
      ),
    );
  }
}

// The channel a message came or went by, where the hub says (a contact may write to one inbox
// by SMS and WhatsApp); older hubs leave it out and the inbox's kind stands in.
function messageChannel(m) {
  return typeof m.channel === 'string' ? m.channel : m.channel?.kind;
}

// Where an outgoing message is: queued, sent, delivered, read or failed. A failure's reason is
// part of the text (screen readers read it) and shows beside it on hover and keyboard focus.
function deliveryStatus(m) {
  const reason = m.status === 'failed' && m.error ? m.error : null;
  return h(
    'span',
    {
      class: `delivery delivery-${m.status}`,
      dataset: { status: m.status },
      tabindex: reason ? '0' : undefined,
    },
    t(`delivery_${m.status}`),
    reason
      ? h('span', { class: 'delivery-error', role: 'tooltip' }, `${t('delivery_reason')} ${reason}`)
      : null,
  );
}
