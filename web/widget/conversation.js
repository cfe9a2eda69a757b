// The visitor's side of the chat: the session, the current conversation and its messages keyed
// by id, and the calls that change them. No DOM here: the view draws what this holds.

// One client id per message, so a retry after a network error is never doubled.
function clientId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Conversation {
  // `storage` keeps the visitor token across reloads, under a key per website token.
  constructor({ call, websiteToken, lang, storage }) {
    this.call = call;
    this.websiteToken = websiteToken;
    this.lang = lang;
    this.storage = storage;
    this.storeKey = `switchboard.visitor.${websiteToken}`;
    this.token = storage.getItem(this.storeKey);
    this.identity = null;
    this.session = null;
    this.current = null;
    this.messages = [];
    this.unread = 0;
    this.queue = 0;
    this.agentTyping = null;
    // What went wrong last, for the info line: `{ text }` from the hub or `{ key }` of a phrase.
    this.error = null;
  }

  async startSession() {
    const body = { website_token: this.websiteToken, locale: this.lang };
    if (this.token) body.visitor_token = this.token;
    if (this.identity) body.identity = this.identity;
    let session;
    try {
      session = await this.call('POST', '/widget/v1/sessions', body);
    } catch (e) {
      // A stale or foreign visitor token: start afresh rather than stay broken.
      if (e.status !== 401 || !body.visitor_token) throw e;
      delete body.visitor_token;
      session = await this.call('POST', '/widget/v1/sessions', body);
    }
    this.session = session;
    this.token = session.visitor_token;
    this.storage.setItem(this.storeKey, session.visitor_token);
    const list = await this.call('GET', '/widget/v1/conversations');
    const latest = list.data.sort((a, b) => b.last_activity_at - a.last_activity_at)[0];
    this.current = latest || null;
    this.messages = [];
    this.unread = latest ? latest.unread : 0;
    if (latest) await this.fetchMessages();
  }

  lastMessageId() {
    return this.messages.length ? this.messages[this.messages.length - 1].id : 0;
  }

  // What came after the last message we have (all of them when we have none).
  async fetchMessages() {
    if (!this.current) return;
    const last = this.lastMessageId();
    const after = last ? `?after=${last}` : '';
    const page = await this.call('GET', `/widget/v1/conversations/${this.current.id}/messages${after}`);
    for (const message of page.data) this.upsert(message);
  }

  async refetchMessages() {
    this.messages = [];
    await this.fetchMessages();
  }

  // A message is new or replaces the one with its id; the list stays in id order.
  upsert(message) {
    const i = this.messages.findIndex((m) => m.id === message.id);
    if (i === -1) this.messages.push(message);
    else this.messages[i] = message;
    this.messages.sort((a, b) => a.id - b.id);
  }

  has(messageId) {
    return this.messages.some((m) => m.id === messageId);
  }

  // A message of another conversation (the visitor's old one was resolved) moves us there.
  follow(conversationId) {
    if (this.current && this.current.id === conversationId) return;
    this.current = { id: conversationId, status: 'open' };
    this.messages = [];
  }

  // An agent has answered: the visitor is no longer waiting in the queue.
  agentReplied() {
    return this.messages.some((m) => m.direction === 'outgoing');
  }

  isOpen() {
    return Boolean(this.current) && this.current.status !== 'resolved';
  }

  // The pre-chat form comes before a first message when the inbox asks for it, or when nobody is
  // in and we have no email address to answer to.
  needsPrechat() {
    const s = this.session;
    return Boolean(s) && !this.current && (s.inbox.prechat.enabled || (!s.inbox.online && !s.visitor.email));
  }

  markRead() {
    const last = this.messages.findLast((m) => m.direction === 'outgoing');
    this.unread = 0;
    if (last && this.current) {
      this.call('POST', `/widget/v1/conversations/${this.current.id}/read`, { message_id: last.id }).catch(
        () => {},
      );
    }
  }

  // Sends until the hub has it: 5xx and 429 are retried with backoff, other refusals are shown.
  // `onChange` is told after each step, so the view shows "retrying" and then the message.
  async post(text, attachments, prechat, onChange) {
    const body = { client_id: clientId(), text, attachments };
    if (this.isOpen()) body.conversation_id = this.current.id;
    if (prechat) body.prechat = prechat;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const answer = await this.call('POST', '/widget/v1/messages', body);
        if (!this.current || this.current.id !== answer.conversation_id) {
          this.follow(answer.conversation_id);
          await this.fetchMessages();
        }
        this.upsert(answer.message);
        this.error = null;
        onChange();
        return;
      } catch (e) {
        const final = e.status && e.status < 500 && e.status !== 429;
        this.error = final ? { text: e.message } : { key: 'failed' };
        onChange();
        if (final) return;
        await sleep(Math.min(10000, 500 * 2 ** attempt));
      }
    }
  }

  async rate(score, comment) {
    const c = this.current;
    try {
      await this.call('POST', `/widget/v1/conversations/${c.id}/rating`, {
        score,
        comment: comment || undefined,
      });
      c.rated = true;
    } catch (e) {
      this.error = { text: e.message };
    }
  }
}
