// The right half of the console: one conversation's thread across channels, the reply box (reply
// or private note, canned responses on `/`, attachments), assignment, status and labels, and the
// contact panel with identities, attributes and past conversations.

import { clear, fileToBase64, h } from '../shared/dom.js';
import { all, api } from './api.js';
import { avatar } from './avatar.js';
import { contactRatings, ratingLine } from './csat.js';
import { emailHtml } from './email.js';
import { defineStrings, t } from './i18n.js';
import { actionSvg, attachmentSvg, channelIcon, iconButton } from './icons.js';
import { failedBubble, newClientId } from './send-failure.js';
import { errorBlock, skeleton } from './states.js';
import { clock, num } from './time.js';

// A typist whose frames stop (the widget says "typing" every 3 s while the visitor types and
// nothing when they just stop) is taken to have stopped after this long.
const TYPING_LASTS_MS = 6000;

defineStrings({
  en: { thread_messages: 'Messages', thread_remove_label: 'Remove the label {label}' },
  fa: { thread_messages: 'پیام‌ها', thread_remove_label: 'حذف برچسب {label}' },
  ar: { thread_messages: 'الرسائل', thread_remove_label: 'إزالة الوسم {label}' },
});

export class Thread {
  constructor(app) {
    this.app = app;
    this.messages = [];
    this.files = [];
    this.mode = 'reply';
    // Sends the hub did not confirm, per conversation: shown with Retry until they go through.
    this.unsent = new Map();
    // Messages whose remote images the agent asked to load.
    this.imagesShown = new Set();
    this.pane = h('section', { class: 'thread-pane', 'aria-label': t('reply') });
    clear(this.pane, this.placeholder());
    this.contactPane = h('aside', { class: 'contact-pane', 'aria-label': t('contact') });
    // Who is typing in the open conversation: 'contact' or 'user-<id>' → { name, timer }.
    this.typists = new Map();
  }

  // Shows a skeleton while the conversation loads, and an error block with a retry if it fails.
  async open(id) {
    const switching = this.conversation?.id !== id;
    this.opening = id;
    if (switching) {
      this.conversation = null;
      this.contact = null;
      clear(this.pane, skeleton('thread', 5));
      clear(this.contactPane, skeleton('list', 2));
    }
    let conversation;
    let messages;
    try {
      [conversation, messages] = await Promise.all([
        api(`/conversations/${id}`),
        all(`/conversations/${id}/messages`, 2000),
      ]);
    } catch (error) {
      if (this.opening !== id) return;
      clear(
        this.pane,
        errorBlock(t('load_failed', { m: error.message }), () => this.open(id)),
      );
      clear(this.contactPane);
      return;
    }
    if (this.opening !== id) return;
    this.conversation = conversation;
    this.rating = conversation.rating || null;
    this.messages = messages;
    this.files = [];
    this.clearTyping();
    this.render();
    this.markRead();
    this.loadContact().catch(() => {});
  }

  close() {
    this.conversation = null;
    this.opening = null;
    this.clearTyping();
    clear(this.pane, this.placeholder());
    clear(this.contactPane);
  }

  placeholder() {
    return h(
      'div',
      { class: 'placeholder' },
      h('span', { class: 'placeholder-icon', 'aria-hidden': 'true' }, channelIcon('web_chat')),
      h('p', {}, t('pick_conversation')),
    );
  }

  // Live updates for the open conversation.
  onEvent(event) {
    if (!this.conversation || event.conversation_id !== this.conversation.id) return;
    if (event.kind === 'conversation.rated') {
      this.rating = event.payload;
      this.renderHeader();
      this.loadContact();
      return;
    }
    if (event.kind === 'message.created' || event.kind === 'message.updated') {
      const m = event.payload;
      const i = this.messages.findIndex((x) => x.id === m.id);
      const shown = i === -1 ? null : this.list?.querySelector(`[data-message-id="${m.id}"]`);
      if (i === -1) this.messages.push(m);
      else this.messages[i] = m;
      // Another person's words in the open conversation are read out; one's own are not.
      const mine = m.sender_kind !== 'contact' && m.sender_id === this.app.me.id;
      if (i === -1 && !mine && m.direction !== 'activity') {
        this.app.announce(t('announce_message', { name: this.senderName(m), text: m.text.slice(0, 200) }));
      }
      // Whoever wrote it has stopped typing, whether or not their "stopped" frame came first.
      if (i === -1 && m.direction === 'incoming') this.stopTyping('contact');
      else if (i === -1 && m.sender_id) this.stopTyping(`user-${m.sender_id}`);
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
    const key = frame.contact ? 'contact' : `user-${frame.user_id}`;
    if (!frame.on) return this.stopTyping(key);
    clearTimeout(this.typists.get(key)?.timer);
    const timer = setTimeout(() => this.stopTyping(key), TYPING_LASTS_MS);
    this.typists.set(key, {
      timer,
      contact: frame.contact,
      name: frame.name || this.app.userName(frame.user_id),
    });
    this.renderTyping();
  }

  stopTyping(key) {
    const typist = this.typists.get(key);
    if (!typist) return;
    clearTimeout(typist.timer);
    this.typists.delete(key);
    this.renderTyping();
  }

  clearTyping() {
    for (const typist of this.typists.values()) clearTimeout(typist.timer);
    this.typists.clear();
    this.renderTyping();
  }

  // "Nora is typing…", with the contact's name as the contact pane shows it.
  renderTyping() {
    if (!this.typing) return;
    const names = [...this.typists.values()].map((typist) =>
      typist.contact ? this.contactName() : typist.name || t('customer'),
    );
    this.typing.textContent = names.length ? t('typing', { name: names.join(', ') }) : '';
  }

  contactName() {
    const c = this.contact;
    const row = this.app.inbox.rows.find((r) => r.id === this.conversation?.id);
    return c?.name || row?.summary?.contact_name || c?.email || t('customer');
  }

  markRead() {
    const last = [...this.messages].reverse().find((m) => m.direction === 'incoming');
    if (last)
      this.app.live.send({ type: 'read', conversation_id: this.conversation.id, message_id: last.id });
  }

  render() {
    this.header = h('header', { class: 'thread-header' });
    // Not a live region itself: new messages are announced once by the console's announcer,
    // and a redraw of the list is not read out again.
    this.list = h('ol', { class: 'messages', tabindex: '0', 'aria-label': t('thread_messages') });
    this.typing = h('div', { class: 'typing', 'aria-live': 'polite' });
    clear(this.pane, this.header, this.list, this.typing, this.composer());
    // Where the contact pane starts when it lies over the conversation (responsive.css), so
    // that the header's button to hide it stays in reach.
    this.headerSize?.disconnect();
    this.headerSize = new ResizeObserver(() =>
      this.app.main.style.setProperty('--thread-header-size', `${this.header.offsetHeight}px`),
    );
    this.headerSize.observe(this.header);
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
      {
        'aria-label': t('assignee'),
        class: 'assign',
        title: t('assignee'),
        onchange: (e) => this.assign(e.target.value),
      },
      h('option', { value: '' }, t('nobody')),
      members.map((u) => h('option', { value: String(u.id), selected: u.id === c.assignee_id }, u.name)),
    );
    const team = h(
      'select',
      {
        'aria-label': t('team'),
        class: 'team',
        title: t('team'),
        onchange: (e) => this.assignTeam(e.target.value),
      },
      h('option', { value: '' }, t('no_team')),
      this.app.teams.map((tm) =>
        h('option', { value: String(tm.id), selected: tm.id === c.team_id }, tm.name),
      ),
    );
    const snooze = h(
      'select',
      {
        'aria-label': t('snooze'),
        class: 'snooze',
        title: t('snooze'),
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
    const name = this.contact
      ? this.contact.name || this.contact.email || `#${c.contact_id}`
      : `#${c.contact_id}`;
    // Redrawn on every change: keep the keyboard where it was.
    const focused = this.header.contains(document.activeElement)
      ? [...this.header.querySelectorAll('button, select, input')].indexOf(document.activeElement)
      : -1;
    const field = (icon, control) => h('span', { class: 'field-with-icon' }, actionSvg(icon), control);
    clear(
      this.header,
      h(
        'div',
        { class: 'title' },
        iconButton(
          'back',
          t('ui_back'),
          { class: 'back back-button', onclick: () => this.app.closeConversation() },
          { iconOnly: true },
        ),
        avatar(name, { size: 'lg' }),
        h(
          'span',
          { class: 'title-text' },
          h('bdi', { class: 'name' }, name),
          h(
            'span',
            { class: 'title-meta' },
            channelIcon(inbox?.kind),
            inbox ? h('bdi', {}, inbox.name) : null,
            h('span', { class: `status status-${c.status}` }, t(c.status)),
          ),
        ),
        h(
          'span',
          { class: 'title-actions' },
          iconButton(resolved ? 'reopen' : 'resolve', resolved ? t('reopen') : t('resolve'), {
            class: resolved ? 'reopen' : 'resolve primary',
            onclick: () => this.setStatus(resolved ? 'open' : 'resolved'),
          }),
          this.app.layout.contactButton(),
        ),
      ),
      h(
        'div',
        { class: 'actions' },
        field('assign', assign),
        field('team', team),
        field('snooze', snooze),
        h(
          'span',
          { class: 'labels' },
          c.labels.map((l) =>
            h(
              'span',
              { class: 'chip' },
              h('bdi', {}, l),
              iconButton(
                'close',
                t('thread_remove_label', { label: l }),
                { class: 'chip-x', onclick: () => this.setLabels(c.labels.filter((x) => x !== l)) },
                { iconOnly: true },
              ),
            ),
          ),
          field('label', labelInput),
        ),
      ),
      this.rating ? ratingLine(this.rating) : null,
    );
    if (focused >= 0) this.header.querySelectorAll('button, select, input')[focused]?.focus();
  }

  renderMessages() {
    const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    const unsent = this.unsent.get(this.conversation.id) || [];
    clear(
      this.list,
      this.messages.map((m) => this.message(m)),
      unsent.map((pending) =>
        failedBubble(pending, {
          onRetry: () => this.retry(pending),
          onDiscard: () => this.discard(pending),
        }),
      ),
    );
    if (nearBottom || this.list.dataset.scrolled !== 'yes') {
      this.list.scrollTop = this.list.scrollHeight;
      this.list.dataset.scrolled = 'yes';
    }
  }

  senderName(m) {
    if (m.sender_kind === 'contact') return this.contact?.name || t('customer');
    if (m.sender_id === this.app.me.id) return t('you');
    return this.app.userName(m.sender_id) || 'Switchboard';
  }

  message(m) {
    if (m.direction === 'activity')
      return h(
        'li',
        { class: 'activity', dataset: { messageId: String(m.id) } },
        h('span', { class: 'activity-text', dir: 'auto' }, activityText(m)),
        // Its own bidi island: a date's digits and slashes inside a right-to-left sentence would
        // otherwise be reordered with the words around them.
        h('bdi', {}, h('time', { datetime: new Date(m.created_at).toISOString() }, clock(m.created_at))),
      );
    const inbox = this.app.inboxes.find((i) => i.id === m.inbox_id);
    const sender = this.senderName(m);
    // The avatar shows the person: the contact's name, or the agent's own (not "You").
    const person = m.sender_kind === 'contact' ? sender : this.app.userName(m.sender_id) || sender;
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
      avatar(person, { size: 'sm', kind: m.sender_kind === 'contact' ? 'contact' : 'agent' }),
      h(
        'div',
        { class: 'bubble' },
        h(
          'div',
          { class: 'meta' },
          h('bdi', { class: 'sender' }, sender),
          m.direction === 'note' ? h('span', { class: 'note-tag' }, actionSvg('note'), t('note')) : null,
        ),
        body,
        deliveryFailure(m),
        attachmentList(m, (e, a) => this.download(e, a)),
        h(
          'div',
          { class: 'message-foot' },
          channelIcon(messageChannel(m) || inbox?.kind),
          h('time', { datetime: new Date(m.created_at).toISOString() }, clock(m.created_at)),
          m.direction === 'outgoing' ? deliveryStatus(m) : null,
        ),
      ),
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
      iconButton('reply', t('reply'), {
        role: 'tab',
        class: 'tab-reply',
        onclick: () => this.setMode('reply'),
      }),
      iconButton('note', t('note'), { role: 'tab', class: 'tab-note', onclick: () => this.setMode('note') }),
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
        iconButton('attach', t('attach'), { class: 'attach', onclick: () => picker.click() }),
        picker,
        this.fileList,
        h(
          'button',
          { type: 'submit', class: 'primary send with-icon' },
          h('span', { class: 'button-text' }, t('send')),
          actionSvg('send'),
        ),
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
    this.input.setAttribute('aria-label', mode === 'note' ? t('note') : t('reply'));
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
            dataset: { code: c.short_code, scope: c.shared ? 'shared' : 'personal' },
            onmousedown: (e) => {
              e.preventDefault();
              this.useCanned(c);
            },
          },
          h('b', {}, `/${c.short_code}`),
          ' ',
          // The agent's own, told apart from the team's (settings-canned.js defines the word).
          c.shared ? null : h('span', { class: 'badge personal' }, t('canned_personal_badge')),
          c.shared ? null : ' ',
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
    // The client id is made once per send; a retry reuses it, so the hub stores the reply once.
    const body = { text, private: this.mode === 'note', attachments, client_id: newClientId() };
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
    const conversationId = this.conversation.id;
    // Whatever the answer, the words leave the box: a failure keeps them in the thread.
    const delivered = await this.post(conversationId, { body });
    this.input.value = '';
    if (this.copies) {
      this.cc.value = '';
      this.bcc.value = '';
    }
    this.files = [];
    this.renderFiles();
    if (delivered) {
      this.app.live.send({ type: 'typing', conversation_id: conversationId, on: false });
      this.typedAt = 0;
    }
    this.input.disabled = false;
    this.input.focus();
  }

  // Posts one send; on failure it stays in the thread as unsent. Answers whether it went through.
  async post(conversationId, pending) {
    const unsent = this.unsent.get(conversationId) || [];
    pending.sending = true;
    try {
      const message = await api(`/conversations/${conversationId}/messages`, {
        method: 'POST',
        body: pending.body,
      });
      this.unsent.set(
        conversationId,
        unsent.filter((p) => p !== pending),
      );
      if (this.conversation?.id === conversationId) {
        if (!this.messages.some((m) => m.id === message.id)) this.messages.push(message);
        this.renderMessages();
      }
      return true;
    } catch (error) {
      pending.error = error;
      pending.sending = false;
      if (!unsent.includes(pending)) unsent.push(pending);
      this.unsent.set(conversationId, unsent);
      if (this.conversation?.id === conversationId) this.renderMessages();
      return false;
    }
  }

  async retry(pending) {
    const conversationId = this.conversation.id;
    pending.sending = true;
    this.renderMessages();
    await this.post(conversationId, pending);
  }

  discard(pending) {
    const id = this.conversation.id;
    this.unsent.set(
      id,
      (this.unsent.get(id) || []).filter((p) => p !== pending),
    );
    this.renderMessages();
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
    this.renderTyping();
    const attributes = Object.entries(contact.attributes || {});
    clear(
      this.contactPane,
      this.app.layout.closeButton(),
      h(
        'div',
        { class: 'contact-head' },
        avatar(contact.name || contact.email || `#${num(contact.id)}`, { size: 'xl' }),
        h('h2', {}, h('bdi', {}, contact.name || contact.email || `#${num(contact.id)}`)),
      ),
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
      contactRatings(contact.ratings),
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
              attributes.flatMap(([k, v]) => [
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
                ` #${num(p.id)} · ${t(p.status)}`,
              ),
              h('div', { class: 'preview', dir: 'auto' }, p.summary?.last_message || ''),
            );
          }),
      ),
    );
  }
}

// A message's files, each a link (uploads are fetched with the agent's token by `download`).
function attachmentList(m, download) {
  if (!m.attachments.length) return null;
  return h(
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
            onclick: (e) => download(e, a),
          },
          attachmentSvg(),
          h('bdi', {}, a.filename),
        ),
        h('span', { class: 'attachment-size' }, `${num(Math.ceil(a.size / 1024))} KiB`),
      ),
    ),
  );
}

// An activity line in the agent's language, from the parts the hub keeps with it (meta.activity);
// a kind this console does not know shows the hub's English sentence. Names are isolated
// (U+2068…U+2069) so a Latin name does not reorder a right-to-left sentence around it.
function activityText(m) {
  const a = m.meta?.activity;
  const name = (n) => `\u2068${n}\u2069`;
  const key =
    a?.kind === 'status'
      ? `activity_${a.status}`
      : a?.kind === 'rerouted'
        ? `activity_rerouted_${a.reason}`
        : `activity_${a?.kind}`;
  const text = a ? t(key, { actor: name(a.actor), assignee: name(a.assignee) }) : key;
  return text === key ? m.text : text;
}

// The channel a message came or went by, where the hub says (a contact may write to one inbox
// by SMS and WhatsApp); older hubs leave it out and the inbox's kind stands in.
function messageChannel(m) {
  return typeof m.channel === 'string' ? m.channel : m.channel?.kind;
}

// Where an outgoing message is: queued, sent, delivered, read or failed. A failure's reason is
// written out in the bubble (deliveryFailure), readable without hovering.
function deliveryStatus(m) {
  return h(
    'span',
    { class: `delivery delivery-${m.status}`, dataset: { status: m.status } },
    t(`delivery_${m.status}`),
  );
}

function deliveryFailure(m) {
  if (m.direction !== 'outgoing' || m.status !== 'failed' || !m.error) return null;
  return h('p', { class: 'send-reason', dir: 'auto' }, `${t('delivery_reason')} ${m.error}`);
}
