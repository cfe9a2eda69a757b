/* Switchboard website chat. One script tag, no framework: everything lives in a shadow DOM so the
   host page's CSS cannot reach in and ours cannot leak out. Protocol: docs/widget.md. */
(() => {
  'use strict';
  if (window.Switchboard && window.Switchboard.loaded) return;
  const script = document.currentScript || document.querySelector('script[data-website-token]');
  if (!script) return;
  const HUB = new URL(script.src, location.href).origin;
  const WEBSITE_TOKEN = script.dataset.websiteToken;
  const STORE_KEY = `switchboard.visitor.${WEBSITE_TOKEN}`;

  const STRINGS = {
    en: { title: 'Chat with us', placeholder: 'Write a message…', send: 'Send', start: 'Start chat', attach: 'Attach a file',
      typing: '{name} is typing…', queue: 'You are number {n} in the queue', read: 'Read', away: 'We are away right now.',
      email_follow: 'Leave your email and we will reply there.', rate: 'How did we do?', thanks: 'Thank you for your rating!',
      comment: 'Anything to add? (optional)', close: 'Close', too_big: 'That file is too large.', bad_type: 'That file type is not allowed.',
      failed: 'Not sent. Retrying…', name: 'Name', email: 'Email', open_chat: 'Open chat', agent: 'Agent', required: 'Required' },
    fa: { title: 'گفتگو با ما', placeholder: 'پیام بنویسید…', send: 'ارسال', start: 'شروع گفتگو', attach: 'پیوست فایل',
      typing: '{name} در حال نوشتن…', queue: 'شما نفر {n} در صف هستید', read: 'خوانده شد', away: 'اکنون در دسترس نیستیم.',
      email_follow: 'ایمیل خود را بگذارید تا همان‌جا پاسخ دهیم.', rate: 'کار ما چطور بود؟', thanks: 'از امتیاز شما سپاسگزاریم!',
      comment: 'نکته‌ای دارید؟ (اختیاری)', close: 'بستن', too_big: 'این فایل بیش از حد بزرگ است.', bad_type: 'این نوع فایل مجاز نیست.',
      failed: 'ارسال نشد. تلاش دوباره…', name: 'نام', email: 'ایمیل', open_chat: 'باز کردن گفتگو', agent: 'پشتیبان', required: 'الزامی' },
    ar: { title: 'تحدث معنا', placeholder: 'اكتب رسالة…', send: 'إرسال', start: 'ابدأ المحادثة', attach: 'إرفاق ملف',
      typing: '{name} يكتب…', queue: 'ترتيبك {n} في الطابور', read: 'قُرئت', away: 'نحن غير متاحين الآن.',
      email_follow: 'اترك بريدك الإلكتروني وسنرد عليك هناك.', rate: 'كيف كانت خدمتنا؟', thanks: 'شكرًا لتقييمك!',
      comment: 'هل من إضافة؟ (اختياري)', close: 'إغلاق', too_big: 'الملف كبير جدًا.', bad_type: 'نوع الملف غير مسموح.',
      failed: 'لم تُرسل. إعادة المحاولة…', name: 'الاسم', email: 'البريد الإلكتروني', open_chat: 'فتح المحادثة', agent: 'الوكيل', required: 'مطلوب' },
    el: { title: 'Συνομιλήστε μαζί μας', placeholder: 'Γράψτε ένα μήνυμα…', send: 'Αποστολή', start: 'Έναρξη συνομιλίας', attach: 'Επισύναψη αρχείου',
      typing: 'Ο/Η {name} πληκτρολογεί…', queue: 'Είστε {n}οι στην ουρά', read: 'Διαβάστηκε', away: 'Δεν είμαστε διαθέσιμοι αυτή τη στιγμή.',
      email_follow: 'Αφήστε το email σας και θα σας απαντήσουμε εκεί.', rate: 'Πώς τα πήγαμε;', thanks: 'Ευχαριστούμε για τη βαθμολογία!',
      comment: 'Κάτι να προσθέσετε; (προαιρετικό)', close: 'Κλείσιμο', too_big: 'Το αρχείο είναι πολύ μεγάλο.', bad_type: 'Αυτός ο τύπος αρχείου δεν επιτρέπεται.',
      failed: 'Δεν στάλθηκε. Νέα προσπάθεια…', name: 'Όνομα', email: 'Email', open_chat: 'Άνοιγμα συνομιλίας', agent: 'Εκπρόσωπος', required: 'Υποχρεωτικό' },
  };
  const lang = [script.dataset.locale, ...(navigator.languages || [navigator.language])]
    .filter(Boolean).map((l) => l.slice(0, 2).toLowerCase()).find((l) => STRINGS[l]) || 'en';
  const rtl = lang === 'fa' || lang === 'ar';
  const t = (key, vars = {}) => (STRINGS[lang][key] || STRINGS.en[key]).replace(/\{(\w+)\}/g, (_, k) => vars[k]);

  const CSS = `
:host{all:initial}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Tahoma,"Noto Sans","Noto Sans Arabic",sans-serif;font-size:14px;line-height:1.45}
.launcher{position:fixed;bottom:20px;${rtl ? 'left' : 'right'}:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 4px 14px #0003;z-index:2147483646}
.launcher svg{width:26px;height:26px;fill:#fff}
.badge{position:absolute;top:-4px;${rtl ? 'left' : 'right'}:-4px;background:#d93025;color:#fff;border-radius:10px;min-width:20px;padding:0 5px;font-size:12px;line-height:20px}
.panel{position:fixed;bottom:88px;${rtl ? 'left' : 'right'}:20px;width:360px;max-width:calc(100vw - 24px);height:520px;max-height:calc(100vh - 110px);background:#fff;color:#1d2430;border-radius:14px;box-shadow:0 8px 30px #0003;display:flex;flex-direction:column;overflow:hidden;z-index:2147483647}
.panel[hidden],[hidden]{display:none!important}
header{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}
header b{flex:1;font-size:16px}
header button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}
.status{font-size:12px;opacity:.9}
.log{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f6f7f9}
.msg{max-width:80%;padding:7px 10px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.incoming{align-self:flex-end;background:var(--c);color:#fff}
.msg.outgoing{align-self:flex-start;background:#fff;border:1px solid #e3e6ea}
.msg.activity,.note{align-self:center;font-size:12px;color:#6a7280;background:none}
.msg small{display:block;font-size:11px;opacity:.75}
.msg a{color:inherit}
.info{font-size:12px;color:#6a7280;padding:4px 12px;min-height:20px}
form{display:flex;gap:6px;padding:8px;border-top:1px solid #e3e6ea;align-items:flex-end}
textarea,input,select{flex:1;border:1px solid #d5d9de;border-radius:8px;padding:7px;resize:none;width:100%;background:#fff;color:#1d2430}
button.send,button.primary{background:var(--c);color:#fff;border:0;border-radius:8px;padding:8px 12px;cursor:pointer}
button.icon{background:none;border:0;cursor:pointer;font-size:18px;padding:6px}
.prechat{display:grid;gap:8px;padding:14px;overflow:auto;flex:1}
.prechat label{display:grid;gap:3px;font-size:13px}
.rating{display:grid;gap:8px;padding:12px;border-top:1px solid #e3e6ea}
.stars{display:flex;gap:4px;justify-content:center}
.stars button{font-size:24px;background:none;border:0;cursor:pointer;color:#f2b600}
:focus-visible{outline:2px solid #1d2430;outline-offset:1px}
`;

  // Element helper: text goes in as text, never as HTML.
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) e.append(kid.nodeType ? kid : String(kid));
    return e;
  };

  const state = { token: localStorage.getItem(STORE_KEY), identity: null, session: null, conversation: null, messages: [],
    unread: 0, open: false, queue: 0, attempt: 0, typingAt: 0, pending: new Map() };

  async function call(method, path, body) {
    const headers = { 'Content-Type': 'application/json' };
    if (state.token && path !== '/widget/v1/sessions') headers.Authorization = `Bearer ${state.token}`;
    const r = await fetch(HUB + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    if (!r.ok) { const e = new Error((data.error && data.error.message) || r.statusText); e.status = r.status; throw e; }
    return data;
  }

  function identityFromTag() {
    const d = script.dataset;
    if (!d.identifier) return null;
    return { identifier: d.identifier, identifier_hash: d.identifierHash, jwt: d.identityJwt, name: d.name, email: d.email };
  }

  async function startSession() {
    const body = { website_token: WEBSITE_TOKEN, locale: lang };
    if (state.token) body.visitor_token = state.token;
    if (state.identity) body.identity = state.identity;
    let s;
    try {
      s = await call('POST', '/widget/v1/sessions', body);
    } catch (e) {
      // A stale or foreign visitor token: start afresh rather than stay broken.
      if (e.status !== 401 || !body.visitor_token) throw e;
      delete body.visitor_token;
      s = await call('POST', '/widget/v1/sessions', body);
    }
    state.session = s;
    state.token = s.visitor_token;
    localStorage.setItem(STORE_KEY, s.visitor_token);
    const list = await call('GET', '/widget/v1/conversations');
    const latest = list.data.sort((a, b) => b.last_activity_at - a.last_activity_at)[0];
    state.conversation = latest || null;
    state.messages = [];
    state.unread = latest ? latest.unread : 0;
    if (latest) await fetchMessages();
  }

  const lastMessageId = () => (state.messages.length ? state.messages[state.messages.length - 1].id : 0);

  async function fetchMessages() {
    if (!state.conversation) return;
    const last = lastMessageId();
    const page = await call('GET', `/widget/v1/conversations/${state.conversation.id}/messages${last ? `?after=${last}` : ''}`);
    for (const m of page.data) upsert(m);
  }

  function upsert(m) {
    const i = state.messages.findIndex((x) => x.id === m.id);
    if (i === -1) state.messages.push(m); else state.messages[i] = m;
    state.messages.sort((a, b) => a.id - b.id);
  }

  // ---- the socket: live messages, typing, queue and status; reconnects with backoff and jitter.
  let socket;
  function connect() {
    // Coming back: the server sends what came after our last message first (no REST round trip).
    const last = lastMessageId();
    const after = state.attempt && last ? `&after=${last}` : '';
    const ws = new WebSocket(`${HUB.replace(/^http/, 'ws')}/widget/v1/ws?token=${encodeURIComponent(state.token)}${after}`);
    ws.resumed = Boolean(after);
    socket = ws;
    let pinger;
    ws.onopen = () => { pinger = setInterval(() => send({ type: 'ping' }), 25000); };
    ws.onmessage = (e) => onFrame(JSON.parse(e.data), ws);
    ws.onclose = () => {
      clearInterval(pinger);
      if (socket !== ws) return;
      state.attempt += 1;
      setTimeout(connect, Math.random() * Math.min(30000, 500 * 2 ** Math.min(state.attempt, 10)));
    };
  }
  const send = (frame) => socket && socket.readyState === 1 && socket.send(JSON.stringify({ v: 1, ...frame }));

  async function onFrame(f, ws) {
    if (f.type === 'ready') {
      if (state.attempt && !ws.resumed) await fetchMessages().catch(() => {});
      state.attempt = 0;
      render();
    } else if (f.type === 'message') {
      const m = f.message;
      if (!state.conversation || m.conversation_id !== state.conversation.id) {
        state.conversation = { id: m.conversation_id, status: 'open' };
        state.messages = [];
      }
      const fresh = !state.messages.some((x) => x.id === m.id);
      upsert(m);
      if (fresh && m.direction === 'outgoing') {
        state.agentTyping = null;
        if (state.open && document.visibilityState === 'visible') markRead(); else { state.unread += 1; chime(); }
      }
      render();
    } else if (f.type === 'conversation') {
      if (state.conversation && f.conversation.id === state.conversation.id) {
        state.conversation.status = f.conversation.status;
        render();
      }
    } else if (f.type === 'typing') {
      state.agentTyping = f.on ? f.agent_name || t('agent') : null;
      renderInfo();
    } else if (f.type === 'queue') {
      if (state.conversation && f.conversation_id === state.conversation.id) { state.queue = f.position; renderInfo(); }
    } else if (f.type === 'resync') {
      state.messages = [];
      await fetchMessages().catch(() => {});
      render();
    } else if (f.type === 'expired') {
      // The session ran out (a verification's lifetime): start a new one, then come back.
      socket = null;
      ws.close();
      await startSession().catch(() => {});
      connect();
      render();
    }
  }

  function markRead() {
    const last = [...state.messages].reverse().find((m) => m.direction === 'outgoing');
    state.unread = 0;
    if (last && state.conversation) call('POST', `/widget/v1/conversations/${state.conversation.id}/read`, { message_id: last.id }).catch(() => {});
  }

  function chime() {
    try {
      const ctx = new AudioContext(); const o = ctx.createOscillator(); const g = ctx.createGain();
      o.frequency.value = 740; g.gain.setValueAtTime(0.06, ctx.currentTime); g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.3);
      o.connect(g).connect(ctx.destination); o.start(); o.stop(ctx.currentTime + 0.32);
    } catch (_) { /* no audio allowed yet */ }
  }

  // ---- sending: one client id per message, so a retry after a network error is never doubled.
  async function post(text, attachments = [], prechat) {
    const body = { client_id: crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`, text, attachments };
    if (state.conversation && state.conversation.status !== 'resolved') body.conversation_id = state.conversation.id;
    if (prechat) body.prechat = prechat;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const r = await call('POST', '/widget/v1/messages', body);
        if (!state.conversation || state.conversation.id !== r.conversation_id) {
          state.conversation = { id: r.conversation_id, status: 'open' };
          state.messages = [];
          await fetchMessages();
        }
        upsert(r.message);
        state.error = null;
        render();
        return;
      } catch (e) {
        if (e.status && e.status < 500 && e.status !== 429) { state.error = e.message; renderInfo(); return; }
        state.error = t('failed'); renderInfo();
        await new Promise((r) => setTimeout(r, Math.min(10000, 500 * 2 ** attempt)));
      }
    }
  }

  // ---- drawing
  const host = el('div', { id: 'switchboard-widget' });
  const root = host.attachShadow({ mode: 'open' });
  const badge = el('span', { class: 'badge', hidden: true });
  const launcher = el('button', { class: 'launcher', 'aria-label': t('open_chat'), onclick: () => toggle() },
    (() => { const s = document.createElementNS('http://www.w3.org/2000/svg', 'svg'); s.setAttribute('viewBox', '0 0 24 24');
      const p = document.createElementNS('http://www.w3.org/2000/svg', 'path'); p.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z'); s.append(p); return s; })(), badge);
  const panel = el('section', { class: 'panel', hidden: true, dir: rtl ? 'rtl' : 'ltr', lang, role: 'dialog', 'aria-label': t('title') });
  root.append(el('style', {}, CSS), launcher, panel);

  function toggle(open = !state.open) {
    state.open = open;
    panel.hidden = !open;
    if (open) { markRead(); render(); const box = panel.querySelector('textarea, input'); if (box) box.focus(); }
    renderBadge();
  }

  function renderBadge() {
    badge.hidden = !state.unread || state.open;
    badge.textContent = String(state.unread);
  }

  let log; let info;
  function render() {
    renderBadge();
    if (!state.open) return;
    const s = state.session;
    host.style.setProperty('--c', (s && s.inbox.color) || '#2f6fed');
    const header = el('header', {}, el('b', {}, (s && s.inbox.name) || t('title')),
      el('span', { class: 'status' }, s && !s.inbox.online ? t('away') : ''),
      el('button', { 'aria-label': t('close'), onclick: () => toggle(false) }, '×'));
    const needsForm = s && !state.conversation && (s.inbox.prechat.enabled || (!s.inbox.online && !s.visitor.email));
    if (needsForm) { panel.replaceChildren(header, prechatForm(s)); return; }
    log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite' });
    const greeting = s && (s.inbox.online ? s.inbox.greeting : s.inbox.away_message);
    if (greeting) log.append(el('div', { class: 'msg outgoing', dir: 'auto' }, greeting));
    const lastMine = [...state.messages].reverse().find((m) => m.direction === 'incoming');
    for (const m of state.messages) {
      log.append(el('div', { class: `msg ${m.direction}`, dir: 'auto', 'data-id': m.id },
        m.direction === 'outgoing' && m.sender_name ? el('small', {}, m.sender_name) : null,
        m.text,
        (m.attachments || []).map((a) => el('div', {}, el('a', { href: HUB + a.url, target: '_blank', rel: 'noopener' }, `📎 ${a.filename}`))),
        m === lastMine && m.status === 'read' ? el('small', { class: 'receipt' }, t('read')) : null));
    }
    info = el('div', { class: 'info', 'aria-live': 'polite' });
    const parts = [header, log, info];
    if (state.conversation && state.conversation.status === 'resolved' && s.inbox.csat) parts.push(ratingForm());
    parts.push(composer());
    panel.replaceChildren(...parts);
    renderInfo();
    log.scrollTop = log.scrollHeight;
  }

  function renderInfo() {
    if (!info) return;
    info.textContent = state.error || (state.agentTyping ? t('typing', { name: state.agentTyping })
      : state.queue > 0 && state.conversation && state.conversation.status === 'open' ? t('queue', { n: state.queue }) : '');
  }

  // The inbox lists types as the server matches them: exact, or a family such as `image/*`.
  function typeAllowed(pattern, type) {
    const family = pattern.endsWith('/*') ? pattern.slice(0, -2) : null;
    return family ? type.split('/')[0] === family : pattern.toLowerCase() === type.toLowerCase();
  }

  function prechatForm(s) {
    const fields = [...(s.inbox.prechat.enabled ? s.inbox.prechat.fields : [])];
    if (!s.inbox.online && !s.visitor.email && !fields.some((f) => f.name === 'email')) fields.push({ name: 'email', label: t('email'), type: 'email', required: true });
    const inputs = fields.map((f) => {
      const attrs = { name: f.name, required: f.required, type: f.type === 'email' ? 'email' : 'text', dir: 'auto' };
      const input = f.type === 'textarea' ? el('textarea', attrs) : f.type === 'select'
        ? el('select', attrs, el('option', { value: '' }, '—'), (f.options || []).map((o) => el('option', { value: o }, o))) : el('input', attrs);
      return el('label', {}, `${f.label}${f.required ? ' *' : ''}`, input);
    });
    const message = el('textarea', { name: 'message', rows: 3, required: true, placeholder: t('placeholder'), dir: 'auto' });
    return el('form', { class: 'prechat', onsubmit: (e) => {
      e.preventDefault();
      const data = Object.fromEntries(new FormData(e.target).entries());
      const text = data.message; delete data.message;
      const prechat = { fields: {} };
      for (const [k, v] of Object.entries(data)) { if (!v) continue; if (k === 'name' || k === 'email') prechat[k] = v; else prechat.fields[k] = v; }
      if (prechat.email) s.visitor.email = prechat.email;
      post(text, [], prechat);
    } }, !s.inbox.online ? el('p', {}, t('email_follow')) : null, inputs, message, el('button', { class: 'primary', type: 'submit' }, t('start')));
  }

  function composer() {
    const limits = (state.session && state.session.inbox.attachments) || { max_bytes: 0, content_types: [] };
    const box = el('textarea', { rows: 1, placeholder: t('placeholder'), 'aria-label': t('placeholder'), dir: 'auto',
      onkeydown: (e) => { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); } },
      oninput: () => {
        if (!state.conversation || Date.now() - state.typingAt < 3000) return;
        state.typingAt = Date.now(); send({ type: 'typing', conversation_id: state.conversation.id, on: true });
      } });
    const file = el('input', { type: 'file', hidden: true, onchange: async () => {
      const f = file.files[0]; file.value = '';
      if (!f) return;
      if (f.size > limits.max_bytes) { state.error = t('too_big'); renderInfo(); return; }
      if (limits.content_types.length && !limits.content_types.some((pattern) => typeAllowed(pattern, f.type))) { state.error = t('bad_type'); renderInfo(); return; }
      const data = await new Promise((ok) => { const r = new FileReader(); r.onload = () => ok(String(r.result).split(',')[1]); r.readAsDataURL(f); });
      post('', [{ filename: f.name, content_type: f.type, data }]);
    } });
    const form = el('form', { onsubmit: (e) => {
      e.preventDefault();
      const text = box.value.trim();
      if (!text) return;
      box.value = '';
      state.typingAt = 0;
      if (state.conversation) send({ type: 'typing', conversation_id: state.conversation.id, on: false });
      post(text);
    } }, limits.max_bytes ? el('button', { type: 'button', class: 'icon', 'aria-label': t('attach'), onclick: () => file.click() }, '📎') : null,
    file, box, el('button', { class: 'send', type: 'submit' }, t('send')));
    return form;
  }

  function ratingForm() {
    const c = state.conversation;
    if (c.rated) return el('div', { class: 'rating note' }, t('thanks'));
    const comment = el('input', { type: 'text', placeholder: t('comment'), dir: 'auto' });
    const rate = async (score) => {
      try {
        await call('POST', `/widget/v1/conversations/${c.id}/rating`, { score, comment: comment.value || undefined });
        c.rated = true;
      } catch (e) { state.error = e.message; }
      render();
    };
    return el('div', { class: 'rating' }, el('div', { class: 'note' }, t('rate')),
      el('div', { class: 'stars' }, [1, 2, 3, 4, 5].map((n) => el('button', { type: 'button', 'aria-label': `${n}/5`, 'data-score': n, onclick: () => rate(n) }, '★'))), comment);
  }

  async function boot() {
    state.identity = identityFromTag();
    document.body.append(host);
    try {
      await startSession();
    } catch (e) {
      console.warn('Switchboard chat is unavailable:', e.message);
      host.remove();
      return;
    }
    connect();
    render();
  }

  window.Switchboard = {
    loaded: true,
    open: () => toggle(true),
    close: () => toggle(false),
    // For single-page apps: who the visitor is, vouched for by the site's backend.
    identify: async (identity) => {
      state.identity = identity;
      await startSession();
      if (socket) socket.close();
      render();
    },
  };
  if (document.body) boot(); else document.addEventListener('DOMContentLoaded', boot);
})();
