// Settings for admins and supervisors: new inboxes (channel-setup.js), each inbox's routing
// policy, test send and (for website chat) the script tag to paste, each agent's capacity, and
// the queue of customers waiting for an agent.

import { clear, h } from '../shared/dom.js';
import { api } from './api.js';
import { newInboxButton } from './channel-setup.js';
import { locale, t } from './i18n.js';
import { channelIcon } from './icons.js';
import { timeAgo } from './time.js';

export async function renderSettings(app, pane) {
  clear(pane, h('h1', {}, t('settings')));
  const isAdmin = app.me.role !== 'agent';
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
                  h('td', {}, String(w.position)),
                  h(
                    'td',
                    {},
                    h(
                      'a',
                      { href: `#/conversations/${w.conversation.id}` },
                      inboxName(app, w.conversation.inbox_id),
                      ` · #${w.conversation.id}`,
                    ),
                  ),
                  h('td', {}, timeAgo(Date.now() - w.waiting_ms, locale())),
                ),
              ),
            ),
          )
        : h('p', {}, t('no_conversations')),
    ),
  );
  if (!isAdmin) return;
  pane.append(inboxesCard(app, pane));
  for (const inbox of app.inboxes) pane.append(await inboxCard(app, inbox));
  pane.append(await agentsCard(app));
}

// The list of inboxes with their channels, and the way to add one.
function inboxesCard(app, pane) {
  const created = async (inbox) => {
    app.inboxes = await api('/inboxes');
    if (!app.memberships.has(inbox.id)) app.memberships.set(inbox.id, new Set());
    app.inbox.renderSidebar();
    await renderSettings(app, pane);
    pane.querySelector(`[data-inbox-id="${inbox.id}"] h2`)?.scrollIntoView({ block: 'nearest' });
  };
  return h(
    'section',
    { class: 'card inboxes-card' },
    h('h2', {}, t('inboxes')),
    app.inboxes.length
      ? h(
          'ul',
          { class: 'inbox-list' },
          app.inboxes.map((inbox) =>
            h(
              'li',
              { dataset: { inboxId: String(inbox.id) } },
              h('a', { href: `#/settings/inboxes/${inbox.id}`, onclick: (e) => jumpTo(e, pane, inbox.id) }, [
                channelIcon(inbox.kind, { visible: true }),
                ' · ',
                h('bdi', {}, inbox.name),
              ]),
            ),
          ),
        )
      : h('p', {}, t('no_inboxes')),
    newInboxButton(created),
  );
}

function jumpTo(event, pane, inboxId) {
  event.preventDefault();
  const card = pane.querySelector(`section.inbox-card[data-inbox-id="${inboxId}"]`);
  card?.scrollIntoView({ block: 'start' });
  card?.querySelector('select, input, button')?.focus();
}

// "Send test": a short message through the inbox's channel now, and what the provider said.
function testSendForm(inbox) {
  const to = h('input', {
    name: 'to',
    type: 'text',
    required: true,
    maxlength: '255',
    dir: 'ltr',
    autocomplete: 'off',
    placeholder: t('test_to_placeholder'),
  });
  const text = h('input', {
    name: 'text',
    type: 'text',
    maxlength: '320',
    dir: 'auto',
    placeholder: t('test_text'),
  });
  const status = h('p', { class: 'test-result', role: 'status' });
  const send = h('button', { type: 'submit' }, t('send_test'));
  return h(
    'form',
    {
      class: 'send-test',
      onsubmit: async (e) => {
        e.preventDefault();
        send.disabled = true;
        status.className = 'test-result';
        status.textContent = t('test_sending');
        try {
          const body = { to: to.value.trim() };
          if (text.value.trim()) body.text = text.value.trim();
          const answer = await api(`/inboxes/${inbox.id}/test`, { method: 'POST', body });
          status.classList.add('saved');
          status.textContent = answer.provider_message_id
            ? t('test_sent_id', { id: answer.provider_message_id })
            : t('test_sent');
        } catch (error) {
          status.classList.add('error');
          status.textContent = t('test_refused', { m: error.message });
        } finally {
          send.disabled = false;
        }
      },
    },
    h('h3', {}, t('send_test')),
    h('label', {}, t('test_to'), ' ', to),
    h('label', {}, t('test_text_label'), ' ', text),
    send,
    status,
  );
}

function inboxName(app, id) {
  const inbox = app.inboxes.find((i) => i.id === id);
  return inbox ? [channelIcon(inbox.kind), ' ', h('bdi', {}, inbox.name)] : `#${id}`;
}

async function inboxCard(app, inbox) {
  const policy = await api(`/inboxes/${inbox.id}/routing`);
  const mode = h(
    'select',
    { name: 'mode', 'aria-label': t('mode') },
    ['manual', 'round_robin', 'balanced'].map((m) =>
      h('option', { value: m, selected: policy.mode === m }, t(m)),
    ),
  );
  const sticky = h('input', { type: 'checkbox', name: 'sticky', checked: policy.sticky });
  const capacity = h('input', {
    type: 'number',
    min: '1',
    name: 'inbox_capacity',
    value: policy.inbox_capacity ?? '',
  });
  const status = h('span', { class: 'saved', role: 'status' });
  const save = async (e) => {
    e.preventDefault();
    const body = {
      ...policy,
      mode: mode.value,
      sticky: sticky.checked,
      inbox_capacity: capacity.value ? Number(capacity.value) : null,
    };
    try {
      await api(`/inboxes/${inbox.id}/routing`, { method: 'PUT', body });
      status.textContent = t('saved');
    } catch (error) {
      status.textContent = error.message;
    }
  };
  const embed =
    inbox.kind === 'web_chat' && inbox.embed_snippet
      ? [h('h3', {}, t('embed')), h('pre', { class: 'snippet', dir: 'ltr' }, inbox.embed_snippet)]
      : null;
  return h(
    'section',
    { class: 'card inbox-card', dataset: { inboxId: String(inbox.id) } },
    h('h2', {}, inboxName(app, inbox.id)),
    h(
      'form',
      { class: 'routing', onsubmit: save },
      h('label', {}, t('mode'), ' ', mode),
      h('label', {}, sticky, ' ', t('sticky')),
      h('label', {}, t('capacity'), ' ', capacity),
      h('button', { class: 'primary' }, t('save')),
      status,
    ),
    testSendForm(inbox),
    embed,
  );
}

async function agentsCard(app) {
  const rows = await Promise.all(
    app.users.map(async (user) => {
      const routing = await api(`/users/${user.id}/routing`);
      const capacity = h('input', {
        type: 'number',
        min: '0',
        value: String(routing.capacity),
        'aria-label': `${t('capacity')} ${user.name}`,
      });
      const status = h('span', { class: 'saved', role: 'status' });
      capacity.addEventListener('change', async () => {
        try {
          await api(`/users/${user.id}/routing`, {
            method: 'PUT',
            body: { capacity: Number(capacity.value), skills: routing.skills },
          });
          status.textContent = t('saved');
        } catch (error) {
          status.textContent = error.message;
        }
      });
      return h(
        'tr',
        {},
        h('td', {}, h('bdi', {}, user.name)),
        h('td', {}, user.role),
        h('td', {}, capacity, status),
      );
    }),
  );
  return h('section', { class: 'card' }, h('h2', {}, t('capacity')), h('table', {}, h('tbody', {}, rows)));
}
