// Settings › Waiting queue: the customers waiting for an agent, longest first, in the order the
// routing engine will take them. Every member sees it.

import { h } from '../shared/dom.js';
import { api } from './api.js';
import { t } from './i18n.js';
import { channelIcon } from './icons.js';
import { num, timeAgo } from './time.js';

export async function render(app, pane) {
  const queue = await api('/queue');
  pane.append(
    h(
      'section',
      { class: 'card queue' },
      h('h2', {}, t('queue')),
      queue.length
        ? h(
            'table',
            {},
            h(
              'thead',
              {},
              h('tr', {}, h('th', {}, '#'), h('th', {}, t('inboxes')), h('th', {}, t('waiting_since'))),
            ),
            h(
              'tbody',
              {},
              queue.map((w) =>
                h(
                  'tr',
                  {},
                  h('td', {}, num(w.position)),
                  h(
                    'td',
                    {},
                    h(
                      'a',
                      { href: `#/conversations/${w.conversation.id}` },
                      inboxName(app, w.conversation.inbox_id),
                      ` · #${num(w.conversation.id)}`,
                    ),
                  ),
                  h('td', {}, timeAgo(Date.now() - w.waiting_ms)),
                ),
              ),
            ),
          )
        : h('p', {}, t('no_conversations')),
    ),
  );
}

function inboxName(app, id) {
  const inbox = app.inboxes.find((i) => i.id === id);
  return inbox ? [channelIcon(inbox.kind), ' ', h('bdi', {}, inbox.name)] : `#${num(id)}`;
}
