// The agents' console: sign-in, then the live inbox. State lives here; inbox.js draws the views
// and the list, thread.js the open conversation, live.js keeps the socket.

import { clear, codeSpans, h } from '../shared/dom.js';
import { api, session } from './api.js';
import { signedInAs } from './avatar.js';
import { defineStrings, LANGUAGES, locale, setLocale, t } from './i18n.js';
import { iconButton } from './icons.js';
import { Inbox } from './inbox.js';
import { Layout } from './layout.js';
import { Live } from './live.js';
import { renderSettings } from './settings.js';
import { Announcer } from './states.js';
import { Thread } from './thread.js';
import { debounce, num } from './time.js';

const root = document.getElementById('app');

defineStrings({
  en: {
    app_skip: 'Skip to the conversation list',
    invitation_title: 'Join your team on Switchboard',
    invitation_intro: 'Choose a password to finish your invitation. You will be signed in right away.',
    invitation_password: 'New password (at least 8 characters)',
    invitation_repeat: 'The same password again',
    invitation_mismatch: 'The two passwords are not the same.',
    invitation_submit: 'Set password and sign in',
    invitation_invalid:
      'This invitation link does not work: it may be mistyped, used already, replaced by a newer invitation or older than 7 days. Ask an admin to send a new one.',
  },
  fa: {
    app_skip: 'رفتن به فهرست گفتگوها',
    invitation_title: 'به تیمتان در Switchboard بپیوندید',
    invitation_intro: 'برای تکمیل دعوت یک گذرواژه انتخاب کنید. بی‌درنگ وارد می‌شوید.',
    invitation_password: 'گذرواژهٔ تازه (دست‌کم ۸ نویسه)',
    invitation_repeat: 'همان گذرواژه دوباره',
    invitation_mismatch: 'دو گذرواژه یکسان نیستند.',
    invitation_submit: 'تعیین گذرواژه و ورود',
    invitation_invalid:
      'این پیوند دعوت کار نمی‌کند: شاید نادرست نوشته شده، پیش‌تر به کار رفته، با دعوتی تازه‌تر جایگزین شده یا بیش از ۷ روز از آن گذشته است. از یک مدیر دعوت تازه بخواهید.',
  },
  ar: {
    app_skip: 'انتقل إلى قائمة المحادثات',
    invitation_title: 'انضم إلى فريقك في Switchboard',
    invitation_intro: 'اختر كلمة مرور لإكمال دعوتك. ستدخل فورًا.',
    invitation_password: 'كلمة مرور جديدة (٨ أحرف على الأقل)',
    invitation_repeat: 'كلمة المرور نفسها مرة أخرى',
    invitation_mismatch: 'كلمتا المرور غير متطابقتين.',
    invitation_submit: 'تعيين كلمة المرور والدخول',
    invitation_invalid:
      'رابط الدعوة هذا لا يعمل: ربما كُتب خطأً، أو استُخدم من قبل، أو حلّت محله دعوة أحدث، أو مضى عليه أكثر من ٧ أيام. اطلب من أحد المشرفين دعوة جديدة.',
  },
});

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
    this.announcer = new Announcer();
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
    await this.loadMembers(this.inboxes);
    this.inbox = new Inbox(this);
    this.thread = new Thread(this);
    this.draw();
    this.refresh = debounce(() => this.reloadList(), 150);
    this.inboxesChanged = debounce(
      () => this.reloadInboxes().catch((e) => console.warn('inboxes not reloaded', e)),
      150,
    );
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

  draw() {
    this.connection = h(
      'span',
      { class: 'connection', role: 'status', dataset: { state: 'connecting' } },
      t('connecting'),
    );
    const presence = h(
      'select',
      {
        class: 'presence',
        'aria-label': t('presence'),
        onchange: (e) => this.live.setPresence(e.target.value),
      },
      ['online', 'busy', 'offline'].map((s) => h('option', { value: s }, t(s))),
    );
    const language = h(
      'select',
      {
        class: 'language',
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
    this.toastText = h('span', { class: 'toast-text' });
    this.toastBox = h(
      'div',
      { class: 'toast', role: 'alert', hidden: true },
      this.toastText,
      iconButton(
        'close',
        t('ui_close'),
        {
          class: 'toast-close',
          onclick: () => {
            this.toastBox.hidden = true;
          },
        },
        { iconOnly: true },
      ),
    );
    // Hash links drive the router, so the skip link moves focus itself rather than by its href.
    const skip = h(
      'a',
      {
        class: 'skip-link',
        href: '#conversation-list',
        onclick: (e) => {
          e.preventDefault();
          this.inbox.focusList();
        },
      },
      t('app_skip'),
    );
    const topbar = h(
      'header',
      { class: 'topbar' },
      h(
        'a',
        { class: 'brand', href: '#/' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
        'Switchboard',
      ),
      h('span', { class: 'spacer' }),
      this.connection,
    );
    // In the top bar, or in the drawer on a phone (layout.js).
    const account = h(
      'div',
      { class: 'account' },
      presence,
      language,
      h('span', { class: 'me' }, ...signedInAs(this.me.name)),
      iconButton(
        'info',
        t('shortcuts'),
        { class: 'shortcuts', onclick: () => this.showShortcuts() },
        { iconOnly: true },
      ),
      iconButton(
        'signout',
        t('sign_out'),
        { class: 'sign-out', onclick: () => this.signOut() },
        { iconOnly: true },
      ),
    );
    this.layout = new Layout(root, {
      topbar,
      sidebar: this.inbox.sidebar,
      account,
      contactPane: this.thread.contactPane,
    });
    clear(
      root,
      skip,
      topbar,
      h('div', { class: 'body' }, this.inbox.sidebar, this.main, this.settingsPane),
      this.toastBox,
      this.announcer.el,
    );
    this.layout.mount();
  }

  announce(text) {
    this.announcer.say(text);
  }

  showShortcuts() {
    this.toast(
      `${t('shortcuts')}: j/k · r ${t('reply')} · n ${t('note')} · e ${t('resolve')} · a ${t('assignee')}`,
    );
  }

  route() {
    const m = /^#\/conversations\/(\d+)/.exec(location.hash);
    const settings = location.hash.startsWith('#/settings');
    this.main.hidden = settings;
    this.settingsPane.hidden = !settings;
    root.classList.toggle('has-conversation', Boolean(m));
    // The phone's contact sheet belongs to the conversation it was opened on.
    this.layout.closeSheet();
    // Settings, not a view, is where the agent is now (and the other way round).
    this.inbox.renderSidebar();
    if (settings) renderSettings(this, this.settingsPane);
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

  // Back to the list: focus lands on the row of the conversation just left.
  closeConversation() {
    const left = this.currentId;
    location.hash = '#/';
    requestAnimationFrame(() =>
      this.inbox.list.querySelector(`[data-conversation-id="${left}"] .row-link`)?.focus(),
    );
  }

  async show(id) {
    this.currentId = id;
    this.inbox.renderList();
    // A failure shows in the thread pane itself, with a retry (thread.js).
    await this.thread.open(id);
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
      // The list shows its own error block with a retry; the toast covers the counts.
      if (!this.inbox.failed) this.toast(t('load_failed', { m: error.message }));
    }
  }

  async loadMembers(inboxes) {
    await Promise.all(
      inboxes.map(async (inbox) => {
        const members = await api(`/inboxes/${inbox.id}/members`);
        this.memberships.set(inbox.id, new Set((members.data || members).map((u) => u.id)));
      }),
    );
  }

  // The inboxes again (a new one, settings or health changed), their members for new ones, then
  // the sidebar, and any page showing inboxes is told (switchboard:inboxes).
  async reloadInboxes() {
    this.inboxes = await api('/inboxes');
    await this.loadMembers(this.inboxes.filter((inbox) => !this.memberships.has(inbox.id)));
    this.inbox.renderSidebar();
    this.inbox.renderList();
    document.dispatchEvent(new CustomEvent('switchboard:inboxes'));
  }

  async reloadAll() {
    await this.reloadList();
    if (this.currentId) await this.thread.open(this.currentId);
  }

  onEvent(event) {
    if (event.kind === 'inbox.updated') {
      this.inboxesChanged();
      return;
    }
    this.thread.onEvent(event);
    if (event.kind === 'conversation.created') this.inbox.expectNew(event.conversation_id);
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
      state === 'offline' ? t('retry_in', { s: num(Math.ceil(wait / 1000)) }) : t(state);
    if (state === 'live' && this.wasOffline) this.reloadAll();
    this.wasOffline = state === 'offline' || state === 'reconnecting';
  }

  userName(id) {
    const u = this.users?.find((x) => x.id === id);
    return u ? u.name : null;
  }

  toast(message) {
    clear(this.toastText, codeSpans(message));
    this.toastBox.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => {
      this.toastBox.hidden = true;
    }, 5000);
  }

  shortcut(e) {
    if (e.key === 'Escape' && this.layout.escape()) {
      e.preventDefault();
      return;
    }
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
      '?': () => this.showShortcuts(),
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
      'main',
      { class: 'login-page' },
      h(
        'form',
        {
          class: 'login',
          'aria-label': t('sign_in'),
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
              problem.textContent = signInProblem(err);
            }
          },
        },
        h(
          'div',
          { class: 'login-brand' },
          h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
          h('h1', {}, 'Switchboard'),
        ),
        h('label', {}, h('span', {}, t('email')), email),
        h('label', {}, h('span', {}, t('password')), password),
        h('button', { class: 'primary', type: 'submit' }, t('sign_in')),
        problem,
      ),
    ),
  );
}

// The page an invitation link opens (#/invitation/<token>): choose a password, be signed in.
function invitationForm(token) {
  const password = h('input', {
    type: 'password',
    name: 'new_password',
    required: true,
    minlength: '8',
    autocomplete: 'new-password',
    autofocus: true,
  });
  const repeat = h('input', {
    type: 'password',
    name: 'repeat_password',
    required: true,
    autocomplete: 'new-password',
  });
  const problem = h('p', { class: 'error', role: 'alert' });
  clear(
    root,
    h(
      'form',
      {
        class: 'login invitation',
        onsubmit: async (e) => {
          e.preventDefault();
          if (password.value !== repeat.value) {
            problem.textContent = t('invitation_mismatch');
            return;
          }
          try {
            const answer = await api('/auth/accept-invitation', {
              method: 'POST',
              body: { token, password: password.value },
            });
            session.token = answer.token;
            // The link is spent: keep it out of the address bar and the history.
            history.replaceState(null, '', `${location.pathname}#/`);
            boot();
          } catch (err) {
            problem.textContent = signInProblem(err);
          }
        },
      },
      h('h1', {}, t('invitation_title')),
      h('p', {}, t('invitation_intro')),
      h('label', {}, t('invitation_password'), password),
      h('label', {}, t('invitation_repeat'), repeat),
      h('button', { class: 'primary', type: 'submit' }, t('invitation_submit')),
      problem,
    ),
  );
}

// What a refused sign-in means, from the API's error code (its message is for developers).
function signInProblem(error) {
  switch (error.code) {
    case 'unauthorized':
      return t('wrong_credentials');
    case 'invitation_invalid':
      return t('invitation_invalid');
    case 'forbidden':
      return t('account_disabled');
    case 'too_many_requests':
      return t('too_many_attempts');
    default:
      return t('load_failed', { m: error.message });
  }
}

async function boot() {
  setLocale();
  const invitation = /^#\/invitation\/([^/]+)$/.exec(location.hash);
  if (invitation) return invitationForm(decodeURIComponent(invitation[1]));
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
