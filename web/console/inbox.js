// The left half of the console: views with their counts, and the conversation list with live
// updates and infinite scroll.

import { clear, h } from '../shared/dom.js';
import { api } from './api.js';
import { locale, t } from './i18n.js';
import { channelIcon } from './icons.js';
import { timeAgo } from './time.js';

const PAGE = 25;

export class Inbox {
  constructor(app) {
    this.app = app;
    this.rows = [];
    this.cursor = null;
    this.loading = false;
    this.sidebar = h('nav', { class: 'sidebar', 'aria-label': t('inboxes') });
    this.list = h('ul', { class: 'conversation-list', role: 'listbox', 'aria-label': t('all') });
    this.sentinel = h('li', { class: 'sentinel', 'aria-hidden': 'true' });
    this.pane = h('section', { class: 'list-pane' }, this.filters(), this.list);
    new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) this.more();
      },
      { root: this.list },
    ).observe(this.sentinel);
  }

  filters() {
    const status = h(
      'select',
      { 'aria-label': t('status'), onchange: (e) => this.app.setView({ status: e.target.value }) },
      ['open', 'pending', 'snoozed', 'resolved'].map((s) => h('option', { value: s }, t(s))),
    );
    const label = h('input', {
      type: 'search',
      placeholder: t('label'),
      'aria-label': t('label'),
      onchange: (e) => this.app.setView({ label: e.target.value.trim() }),
    });
    this.statusSelect = status;
    this.labelInput = label;
    return h('div', { class: 'filters' }, status, label);
  }

  query(limit) {
    const v = this.app.view;
    const p = new URLSearchParams({ status: v.status, limit: String(limit) });
    if (v.assignee) p.set('assignee', v.assignee);
    if (v.inbox) p.set('inbox', v.inbox);
    if (v.label) p.set('label', v.label);
    return p;
  }

  // Loads the first page again (after a view change or a live update), keeping as many rows as
  // were shown so infinite scroll does not jump back.
  async reload() {
    const limit = Math.min(100, Math.max(PAGE, this.rows.length));
    const page = await api(`/conversations?${this.query(limit)}`);
    this.rows = page.data;
    this.cursor = page.next_cursor;
    this.renderList();
  }

  async more() {
    if (!this.cursor || this.loading) return;
    this.loading = true;
    try {
      const p = this.query(PAGE);
      p.set('cursor', this.cursor);
      const page = await api(`/conversations?${p}`);
      const known = new Set(this.rows.map((r) => r.id));
      this.rows.push(...page.data.filter((r) => !known.has(r.id)));
      this.cursor = page.next_cursor;
      this.renderList();
    } finally {
      this.loading = false;
    }
  }

  async refreshCounts() {
    this.counts = await api('/conversations/counts');
    this.renderSidebar();
  }

  renderSidebar() {
    const c = this.counts || { mine: 0, unassigned: 0, all: 0, by_inbox: [] };
    const v = this.app.view;
    const byInbox = new Map(c.by_inbox);
    const item = (label, count, active, patch, key) =>
      h(
        'li',
        {},
        h(
          'button',
          {
            class: active ? 'view active' : 'view',
            'aria-current': active ? 'true' : undefined,
            dataset: { view: key },
            onclick: () => this.app.setView(patch),
          },
          h('span', {}, label),
          h('span', { class: 'count' }, String(count)),
        ),
      );
    clear(
      this.sidebar,
      h(
        'ul',
        { class: 'views' },
        item(t('mine'), c.mine, v.assignee === 'me' && !v.inbox, { assignee: 'me', inbox: null }, 'mine'),
        item(
          t('unassigned'),
          c.unassigned,
          v.assignee === 'none' && !v.inbox,
          { assignee: 'none', inbox: null },
          'unassigned',
        ),
        item(t('all'), c.all, !v.assignee && !v.inbox, { assignee: null, inbox: null }, 'all'),
      ),
      h('h2', {}, t('inboxes')),
      h(
        'ul',
        { class: 'views' },
        this.app.inboxes.map((inbox) =>
          item(
            [channelIcon(inbox.kind), ' ', h('bdi', {}, inbox.name)],
            byInbox.get(inbox.id) || 0,
            v.inbox === inbox.id,
            { inbox: inbox.id, assignee: null },
            `inbox-${inbox.id}`,
          ),
        ),
      ),
    );
    this.statusSelect.value = v.status;
    this.labelInput.value = v.label || '';
  }

  renderList() {
    const current = this.app.currentId;
    const items = this.rows.map((c) => {
      const s = c.summary || {};
      const inbox = this.app.inboxes.find((i) => i.id === c.inbox_id);
      const assignee = this.app.userName(c.assignee_id);
      return h(
        'li',
        {
          role: 'option',
          tabindex: '-1',
          'aria-selected': c.id === current ? 'true' : 'false',
          class: `row${c.id === current ? ' current' : ''}${s.unread ? ' unread' : ''}`,
          dataset: { conversationId: String(c.id) },
          onclick: () => this.app.open(c.id),
        },
        h(
          'div',
          { class: 'row-top' },
          channelIcon(inbox?.kind),
          h('bdi', { class: 'name' }, s.contact_name || `#${c.contact_id}`),
          s.unread
            ? h('span', { class: 'badge', 'aria-label': `${s.unread} unread` }, String(s.unread))
            : null,
          h(
            'time',
            { datetime: new Date(c.last_activity_at).toISOString() },
            timeAgo(c.last_activity_at, locale()),
          ),
        ),
        h('div', { class: 'preview', dir: 'auto' }, s.last_message || ''),
        h(
          'div',
          { class: 'row-meta' },
          assignee ? h('span', { class: 'assignee' }, assignee) : null,
          c.labels.map((l) => h('span', { class: 'chip' }, l)),
        ),
      );
    });
    clear(
      this.list,
      items.length ? items : h('li', { class: 'empty' }, t('no_conversations')),
      this.sentinel,
    );
  }

  // The conversation after (or before) the open one, for j/k.
  neighbour(step) {
    const i = this.rows.findIndex((r) => r.id === this.app.currentId);
    const next = this.rows[i === -1 ? 0 : i + step];
    return next ? next.id : null;
  }
}
