// The left half of the console: views with their counts, and the conversation list with live
// updates and infinite scroll.

import { clear, h } from '../shared/dom.js';
import { api } from './api.js';
import { avatar } from './avatar.js';
import { healthBadge } from './health.js';
import { defineStrings, t } from './i18n.js';
import { actionSvg, channelIcon } from './icons.js';
import { firstSteps } from './onboarding.js';
import { errorBlock, skeleton } from './states.js';
import { num, timeAgo } from './time.js';

const PAGE = 25;

defineStrings({
  en: { row_unread: 'unread' },
  fa: { row_unread: 'خوانده‌نشده' },
  ar: { row_unread: 'غير مقروءة' },
});

export class Inbox {
  constructor(app) {
    this.app = app;
    this.rows = [];
    this.cursor = null;
    this.loading = false;
    this.loaded = false;
    this.failed = false;
    // Conversations the socket said were created, announced when the list first shows them.
    this.expected = new Set();
    // The views, then (on a phone, where the sidebar is a drawer) the agent's own controls.
    this.views = h('div', { class: 'sidebar-views' });
    this.sidebar = h('nav', { class: 'sidebar', 'aria-label': t('inboxes') }, this.views);
    // A plain list of links: every row is reachable with Tab as well as with j/k.
    this.list = h('ul', {
      class: 'conversation-list',
      id: 'conversation-list',
      tabindex: '-1',
      'aria-label': t('all'),
    });
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
    return h(
      'div',
      { class: 'filters' },
      status,
      h('span', { class: 'search-field' }, actionSvg('search'), label),
    );
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
    if (!this.loaded) clear(this.list, h('li', { class: 'list-state' }, skeleton('list')));
    let page;
    try {
      page = await api(`/conversations?${this.query(limit)}`);
    } catch (error) {
      // Rows already shown stay; an empty list says why it is empty and offers a retry.
      this.failed = !this.rows.length;
      if (this.failed) {
        this.loaded = false;
        clear(
          this.list,
          h(
            'li',
            { class: 'list-state' },
            errorBlock(error.message, () => this.app.reloadList()),
          ),
        );
      }
      throw error;
    }
    this.failed = false;
    this.loaded = true;
    this.rows = page.data;
    this.cursor = page.next_cursor;
    this.renderList();
    this.announceNew();
  }

  expectNew(id) {
    if (id) this.expected.add(id);
  }

  announceNew() {
    for (const row of this.rows) {
      if (!this.expected.delete(row.id)) continue;
      const name = row.summary?.contact_name || t('customer');
      this.app.announce(t('announce_conversation', { name }));
    }
  }

  // The skip link's target: the open conversation's row, else the first.
  focusList() {
    const link = this.list.querySelector('.row.current .row-link') || this.list.querySelector('.row-link');
    (link || this.list).focus();
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
    // With Settings open, Settings is where the agent is, not the view they came from.
    const settings = location.hash.startsWith('#/settings');
    const v = settings ? {} : this.app.view;
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
          h('span', { class: 'view-name' }, label),
          h('span', { class: 'count' }, num(count)),
        ),
      );
    clear(
      this.views,
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
        item(t('all'), c.all, !settings && !v.assignee && !v.inbox, { assignee: null, inbox: null }, 'all'),
      ),
      h('h2', {}, t('inboxes')),
      h(
        'ul',
        { class: 'views' },
        this.app.inboxes.map((inbox) =>
          item(
            [channelIcon(inbox.kind), ' ', h('bdi', {}, inbox.name), healthBadge(inbox)],
            byInbox.get(inbox.id) || 0,
            v.inbox === inbox.id,
            { inbox: inbox.id, assignee: null },
            `inbox-${inbox.id}`,
          ),
        ),
      ),
      h(
        'a',
        { href: '#/settings', class: 'view settings-link', 'aria-current': settings ? 'page' : undefined },
        actionSvg('settings'),
        h('span', { class: 'view-name' }, t('settings')),
      ),
    );
    this.statusSelect.value = this.app.view.status;
    this.labelInput.value = this.app.view.label || '';
  }

  renderList() {
    if (!this.loaded) return;
    const current = this.app.currentId;
    const focused = document.activeElement?.closest?.('.row')?.dataset.conversationId;
    const items = this.rows.map((c) => {
      const s = c.summary || {};
      const inbox = this.app.inboxes.find((i) => i.id === c.inbox_id);
      const assignee = this.app.userName(c.assignee_id);
      const name = s.contact_name || `#${num(c.contact_id)}`;
      return h(
        'li',
        {
          class: `row${c.id === current ? ' current' : ''}${s.unread ? ' unread' : ''}`,
          dataset: { conversationId: String(c.id) },
        },
        h(
          'a',
          {
            class: 'row-link',
            href: `#/conversations/${c.id}`,
            'aria-current': c.id === current ? 'true' : undefined,
          },
          avatar(name),
          h(
            'span',
            { class: 'row-body' },
            h(
              'span',
              { class: 'row-top' },
              h('bdi', { class: 'name' }, name),
              h(
                'time',
                { datetime: new Date(c.last_activity_at).toISOString() },
                timeAgo(c.last_activity_at),
              ),
            ),
            h(
              'span',
              { class: 'row-middle' },
              h('span', { class: 'preview', dir: 'auto' }, s.last_message || ''),
              s.unread
                ? h(
                    'span',
                    { class: 'badge' },
                    num(s.unread),
                    h('span', { class: 'sr-only' }, ` ${t('row_unread')}`),
                  )
                : null,
            ),
            h(
              'span',
              { class: 'row-meta' },
              channelIcon(inbox?.kind),
              inbox ? h('bdi', { class: 'row-inbox' }, inbox.name) : null,
              assignee ? h('span', { class: 'assignee' }, actionSvg('assign'), h('bdi', {}, assignee)) : null,
              c.labels.map((l) => h('span', { class: 'chip' }, l)),
            ),
          ),
        ),
      );
    });
    clear(
      this.list,
      items.length
        ? items
        : h('li', { class: 'empty' }, this.app.inboxes.length ? t('no_conversations') : firstSteps(this.app)),
      this.sentinel,
    );
    // A live redraw must not throw keyboard users out of the list.
    if (focused) this.list.querySelector(`[data-conversation-id="${focused}"] .row-link`)?.focus();
  }

  // The conversation after (or before) the open one, for j/k.
  neighbour(step) {
    const i = this.rows.findIndex((r) => r.id === this.app.currentId);
    const next = this.rows[i === -1 ? 0 : i + step];
    return next ? next.id : null;
  }
}
