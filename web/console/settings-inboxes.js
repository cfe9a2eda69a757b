// Settings › Inboxes: the inboxes with their channels and health, a new one (channel-setup.js),
// and for each what fails now (health.js), its routing policy, a test send, for email a test of
// its servers, and for website chat the script tag to paste. The page follows inbox.updated
// live: a new inbox, or one that starts or stops failing, shows without a reload.

import { clear, h } from '../shared/dom.js';
import { api } from './api.js';
import { newInboxButton } from './channel-setup.js';
import { healthBadge, problemList } from './health.js';
import { defineStrings, t } from './i18n.js';
import { channelIcon } from './icons.js';
import { emailServersCard } from './settings-email.js';
import { webChatCard } from './settings-webchat.js';
import { confirmAction, statusLine } from './states.js';

defineStrings({
  en: {
    inbox_delete: 'Delete inbox',
    inbox_confirm_delete:
      'Delete “{name}”? Only an inbox nothing came through can be deleted: conversations are always kept.',
  },
  fa: {
    inbox_delete: 'حذف صندوق',
    inbox_confirm_delete:
      '«{name}» حذف شود؟ تنها صندوقی که چیزی از آن نگذشته حذف می‌شود: گفتگوها همیشه می‌مانند.',
  },
  ar: {
    inbox_delete: 'حذف الصندوق',
    inbox_confirm_delete: 'حذف «{name}»؟ لا يُحذف إلا صندوق لم يمرّ عبره شيء: تبقى المحادثات دائمًا.',
  },
});

// The list of inboxes with their channels, and the way to add one.
function inboxesCard(app, pane) {
  const created = async (inbox) => {
    await app.reloadInboxes();
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
                healthBadge(inbox),
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
  showCard(pane, inboxId);
}

// Scrolls the inbox's card into view and puts focus on its first control.
function showCard(pane, inboxId) {
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
  const status = statusLine('test-result');
  const send = h('button', { type: 'submit' }, t('send_test'));
  return h(
    'form',
    {
      class: 'send-test',
      onsubmit: async (e) => {
        e.preventDefault();
        send.disabled = true;
        status.busy(t('test_sending'));
        try {
          const body = { to: to.value.trim() };
          if (text.value.trim()) body.text = text.value.trim();
          const answer = await api(`/inboxes/${inbox.id}/test`, { method: 'POST', body });
          status.saved(
            answer.provider_message_id
              ? t('test_sent_id', { id: answer.provider_message_id })
              : t('test_sent'),
          );
        } catch (error) {
          status.failed(t('test_refused', { m: error.message }));
        } finally {
          send.disabled = false;
        }
      },
    },
    h('h3', {}, t('send_test')),
    h('label', {}, t('test_to'), ' ', to),
    h('label', {}, t('test_text_label'), ' ', text),
    send,
    status.el,
  );
}

function inboxName(app, id) {
  const inbox = app.inboxes.find((i) => i.id === id);
  return inbox ? [channelIcon(inbox.kind), ' ', h('bdi', {}, inbox.name), healthBadge(inbox)] : `#${id}`;
}

export async function render(app, pane, rest = []) {
  pane.append(inboxesCard(app, pane));
  for (const inbox of app.inboxes) pane.append(await inboxCard(app, inbox));
  follow(app, pane);
  // #/settings/inboxes/<id>: that inbox's card, in view once the page shows.
  const named = Number(rest[0]);
  if (named) requestAnimationFrame(() => showCard(pane, named));
}

// Keeps the page in step with the hub's inbox.updated news (app.js reloads app.inboxes and
// says so): the list, each card's problems, and a card for an inbox that is new. Forms being
// filled in are left as they are.
function follow(app, pane) {
  // One update at a time, so two pieces of news never both add the same new card.
  let updating = Promise.resolve();
  const update = () => {
    updating = updating.then(step, step);
  };
  const step = async () => {
    if (!pane.isConnected) {
      document.removeEventListener('switchboard:inboxes', update);
      return;
    }
    pane.querySelector('.inboxes-card')?.replaceWith(inboxesCard(app, pane));
    const ids = new Set(app.inboxes.map((inbox) => String(inbox.id)));
    for (const card of pane.querySelectorAll('section.inbox-card')) {
      if (!ids.has(card.dataset.inboxId)) card.remove();
    }
    for (const inbox of app.inboxes) {
      const card = pane.querySelector(`section.inbox-card[data-inbox-id="${inbox.id}"]`);
      if (!card) {
        pane.append(await inboxCard(app, inbox));
        continue;
      }
      const shown = card.querySelector('.inbox-problems');
      const now = problemList(inbox);
      if (shown && now) shown.replaceWith(now);
      else if (shown) shown.remove();
      else if (now) card.querySelector('h2').after(now);
      clear(card.querySelector('h2'), inboxName(app, inbox.id));
    }
  };
  document.addEventListener('switchboard:inboxes', update);
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
  const assignOnReply = h('input', {
    type: 'checkbox',
    name: 'assign_on_reply',
    checked: policy.assign_on_reply !== false,
  });
  const capacity = h('input', {
    type: 'number',
    min: '1',
    name: 'inbox_capacity',
    value: policy.inbox_capacity ?? '',
  });
  const status = statusLine('', 'span');
  const save = async (e) => {
    e.preventDefault();
    const body = {
      ...policy,
      mode: mode.value,
      sticky: sticky.checked,
      assign_on_reply: assignOnReply.checked,
      inbox_capacity: capacity.value ? Number(capacity.value) : null,
    };
    try {
      await api(`/inboxes/${inbox.id}/routing`, { method: 'PUT', body });
      status.saved(t('saved'));
    } catch (error) {
      status.failed(error.message);
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
    problemList(inbox),
    h(
      'form',
      { class: 'routing', onsubmit: save },
      h('label', {}, t('mode'), ' ', mode),
      h('label', {}, sticky, ' ', t('sticky')),
      h('label', {}, assignOnReply, ' ', t('assign_on_reply')),
      h('label', {}, t('capacity'), ' ', capacity),
      h('button', { class: 'primary' }, t('save')),
      status.el,
    ),
    inbox.kind === 'email' ? await emailServersCard(inbox) : null,
    testSendForm(inbox),
    embed,
    inbox.kind === 'web_chat' ? await webChatCard(app, inbox) : null,
    confirmAction(t('inbox_delete'), t('inbox_confirm_delete', { name: inbox.name }), async () => {
      await api(`/inboxes/${inbox.id}`, { method: 'DELETE' });
      await app.reloadInboxes();
    }),
  );
}
