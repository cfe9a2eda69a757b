// The agents' console: sign-in, then the live inbox. State lives here; inbox.js draws the views
// and the list, thread.js the open conversation, live.js keeps the socket.

import { clear, h } from '../shared/dom.js';
import { api, session } from './api.js';
import { LANGUAGES, locale, setLocale, t } from './i18n.js';
import { Inbox } from './inbox.js';
import { Live } from './live.js';
import { renderSettings } from './settings.js';
import { Thread } from './thread.js';
import { debounce } from './time.js';

const root = document.getElementById('app');

class Console {
  constructor(me) {
    this.me = me.user;
    this.token = session.token;
    this.view = JSON.parse(sessionStorage.getItem('switchboard.view') || 'null') || {
      assignee: 'me',
      inbox: null,
      status: 'open',
      label: '',
    };
    this.currentId = null;
    this.memberships = new Map();
  }

  async start() {
    const [users, teams, inboxes, canned] = await Promise.all([
      api('/users'),
      api('/teams'),
      api('/inboxes'),
      api('/canned_responses'),
    ]);
    this.users = users.data || users;
    this.teams = teams.data || teams;
    this.inboxes = inboxes;
    this.canned = canned;
    await Promise.all(
      this.inboxes.map(async (inbox) => {
        const members = await api(`/inboxes/${inbox.id}/members`);
        this.memberships.set(inbox.id, new Set((members.data || members).map((u) => u.id)));
      }),
    );
    this.inbox = new Inbox(this);
    this.thread = new Thread(this);
    this.layout();
    this.refresh = debounce(() => this.reloadList(), 150);
    this.live = new Live({
      token: this.token,
      onEvent: (e) => this.onEvent(e),
      onFrame: (f) => {
        if (f.type === 'typing') this.thread.onTyping(f);
      },
      onState: (state, wait) => this.showConnection(state, wait),
      onResync: () => this.reloadAll(),
    });
    this.live.start();
    await this.reloadList();
    window.addEventListener('hashchange', () => this.route());
    document.addEventListener('keydown', (e) => this.shortcut(e));
    this.route();
  }

  layout() {
    this.connection = h(
      'span',
      { class: 'connection', role: 'status', dataset: { state: 'connecting' } },
      t('connecting'),
    );
    const presence = h(
      'select',
      {
        class: 'presence',
        'aria-label': t('online'),
        onchange: (e) => this.live.setPresence(e.target.value),
      },
      ['online', 'busy', 'offline'].map((s) => h('option', { value: s }, t(s))),
    );
    const language = h(
      'select',
      {
        'aria-label': t('language'),
        onchange: (e) => {
          setLocale(e.target.value);
          location.reload();
        },
      },
      Object.entries(LANGUAGES).map(([code, name]) =>
        h('option', { value: code, selected: code === locale() }, name),
      ),
    );
    this.main = h('main', { class: 'workspace' }, this.inbox.pane, this.thread.pane, this.thread.contactPane);
    this.settingsPane = h('main', { class: 'settings', hidden: true });
    this.toastBox = h('div', { class: 'toast', role: 'alert', hidden: true });
    clear(
      root,
      h(
        'header',
        { class: 'topbar' },
        h('a', { class: 'brand', href: '#/' }, 'Switchboard'),
        h('a', { href: '#/settings', class: 'settings-link' }, t('settings')),
        h('span', { class: 'spacer' }),
        this.connection,
        presence,
        language,
        h('bdi', { class: 'me' }, this.me.name),
        h('button', { onclick: () => this.signOut() }, t('sign_out')),
      ),
      h('div', { class: 'body' }, this.inbox.sidebar, this.main, this.settingsPane),
      this.toastBox,
    );
  }

  route() {
    const m = /^#\/conversations\/(\d+)/.exec(location.hash);
    const settings = location.hash.startsWith('#/settings');
    this.main.hidden = settings;
    this.settingsPane.hidden = !settings;
    root.classList.toggle('has-conversation', Boolean(m));
    if (settings) renderSettings(this, this.settingsPane).catch((e) => this.toast(e.message));
    else if (m) this.show(Number(m[1]));
    else {
      this.currentId = null;
      this.thread.close();
      this.inbox.renderList();
    }
  }

  open(id) {
    location.hash = `#/conversations/${id}`;
  }

  async show(id) {
    this.currentId = id;
    this.inbox.renderList();
    try {
      await this.thread.open(id);
    } catch (error) {
      this.toast(t('load_failed', { m: error.message }));
    }
  }

  setView(patch) {
    this.view = { ...this.view, ...patch };
    sessionStorage.setItem('switchboard.view', JSON.stringify(this.view));
    this.inbox.rows = [];
    if (location.hash.startsWith('#/settings')) location.hash = '#/';
    this.reloadList();
  }

  async reloadList() {
    try {
      await Promise.all([this.inbox.reload(), this.inbox.refreshCounts()]);
    } catch (error) {
      this.toast(t('load_failed', { m: error.message }));
    }
  }

  async reloadAll() {
    await this.reloadList();
    if (this.currentId) await this.thread.open(this.currentId);
  }

  onEvent(event) {
    this.thread.onEvent(event);
    if (event.kind.startsWith('conversation.') || event.kind === 'message.created') this.refresh();
    if (event.kind === 'message.created') this.notify(event);
  }

  // A desktop notification and a sound for a customer message in a conversation assigned to me
  // (or waiting unassigned) that I am not looking at.
  notify(event) {
    const m = event.payload;
    if (m.direction !== 'incoming') return;
    const row = this.inbox.rows.find((r) => r.id === m.conversation_id);
    const mine = row ? row.assignee_id === this.me.id : true;
    const watching = m.conversation_id === this.currentId && document.visibilityState === 'visible';
    if (!mine || watching) return;
    chime();
    if ('Notification' in window && Notification.permission === 'granted') {
      const name = row?.summary?.contact_name || t('customer');
      const n = new Notification(t('new_message', { name }), {
        body: m.text.slice(0, 140),
        tag: `conversation-${m.conversation_id}`,
      });
      n.onclick = () => {
        window.focus();
        this.open(m.conversation_id);
      };
    }
  }

  showConnection(state, wait) {
    this.connection.dataset.state = state;
    this.connection.textContent =
      state === 'offline' ? t('retry_in', { s: Math.ceil(wait / 1000) }) : t(state);
    if (state === 'live' && this.wasOffline) this.reloadAll();
    this.wasOffline = state === 'offline' || state === 'reconnecting';
  }

  userName(id) {
    const u = this.users?.find((x) => x.id === id);
    return u ? u.name : null;
  }

  toast(message) {
    this.toastBox.textContent = message;
    this.toastBox.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => {
      this.toastBox.hidden = true;
    }, 5000);
  }

  shortcut(e) {
    const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement.tagName);
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const go = (id) => {
      if (id) this.open(id);
    };
    const actions = {
      j: () => go(this.inbox.neighbour(1)),
      k: () => go(this.inbox.neighbour(-1)),
      r: () => this.thread.focusComposer('reply'),
      n: () => this.thread.focusComposer('note'),
      e: () => this.thread.conversation && this.thread.setStatus('resolved'),
      a: () => this.thread.header?.querySelector('.assign').focus(),
      '?': () =>
        this.toast(
          `${t('shortcuts')}: j/k · r ${t('reply')} · n ${t('note')} · e ${t('resolve')} · a ${t('assignee')}`,
        ),
    };
    const action = actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }

  signOut() {
    api('/auth/logout', { method: 'POST', body: {} }).catch(() => {});
    session.token = null;
    this.live.stop();
    location.hash = '';
    location.reload();
  }
}

// A short two-tone chime, made here so the console ships no audio files.
function chime() {
  try {
    const ctx = new AudioContext();
    [880, 660].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.08, ctx.currentTime + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + i * 0.12 + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.12);
      osc.stop(ctx.currentTime + i * 0.12 + 0.3);
    });
  } catch {
    /* no audio: the notification still shows */
  }
}

function loginForm(error) {
  const email = h('input', {
    type: 'email',
    name: 'email',
    required: true,
    autocomplete: 'username',
    autofocus: true,
  });
  const password = h('input', {
    type: 'password',
    name: 'password',
    required: true,
    autocomplete: 'current-password',
  });
  const problem = h('p', { class: 'error', role: 'alert' }, error || '');
  clear(
    root,
    h(
      'form',
      {
        class: 'login',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            const { token } = await api('/auth/login', {
              method: 'POST',
              body: { email: email.value, password: password.value },
            });
            session.token = token;
            boot();
          } catch (err) {
            problem.textContent = err.message;
          }
        },
      },
      h('h1', {}, 'Switchboard'),
      h('label', {}, t('email'), email),
      h('label', {}, t('password'), password),
      h('button', { class: 'primary', type: 'submit' }, t('sign_in')),
      problem,
    ),
  );
}

async function boot() {
  setLocale();
  if (!session.token) return loginForm();
  session.onExpired = () => {
    session.token = null;
    loginForm();
  };
  try {
    const me = await api('/me');
    const app = new Console(me);
    window.switchboard = app;
    await app.start();
    if ('Notification' in window && Notification.permission === 'default') {
      document.addEventListener('click', () => Notification.requestPermission(), { once: true });
    }
  } catch (error) {
    if (error.status === 401) return loginForm();
    loginForm(t('load_failed', { m: error.message }));
  }
}

boot();
