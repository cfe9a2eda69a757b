// Settings › Agents: invite people by name, email and role (the link is mailed, or shown here to
// copy), and for each member their role, status, capacity, inboxes, and disabling or enabling
// them. Only owners and admins see this page; the API checks every change again.

import { clear, h } from '../shared/dom.js';
import { api } from './api.js';
import { avatar } from './avatar.js';
import { defineStrings, t } from './i18n.js';

defineStrings({
  en: {
    agents_invite_title: 'Invite an agent',
    agents_name: 'Name',
    agents_email: 'Email',
    agents_role: 'Role',
    agents_role_agent: 'Agent',
    agents_role_admin: 'Admin',
    agents_role_owner: 'Owner',
    agents_send_invite: 'Send invitation',
    agents_mailed: 'Invitation mailed to {email}.',
    agents_link_intro: 'Give {name} this link. It works once, for 7 days.',
    agents_mail_failed: 'The mail could not be sent ({m}). Give {name} this link instead.',
    agents_link_label: 'Invitation link',
    agents_copy: 'Copy',
    agents_copied: 'Copied',
    agents_members: 'Members',
    agents_status: 'Status',
    agents_inboxes: 'Inboxes',
    agents_actions: 'Actions',
    agents_active: 'Active',
    agents_invited: 'Invited',
    agents_disabled: 'Disabled',
    agents_disable: 'Disable',
    agents_enable: 'Enable',
    agents_resend: 'Resend invitation',
    agents_you: '(you)',
    agents_none: 'Nobody else is here yet. Invite your team above.',
    agents_no_inboxes: 'No inboxes',
    agents_inboxes_of: 'Inboxes of {name}',
    agents_capacity_of: 'Capacity of {name}',
    agents_role_of: 'Role of {name}',
  },
  fa: {
    agents_invite_title: 'دعوت از کارشناس',
    agents_name: 'نام',
    agents_email: 'ایمیل',
    agents_role: 'نقش',
    agents_role_agent: 'کارشناس',
    agents_role_admin: 'مدیر',
    agents_role_owner: 'مالک',
    agents_send_invite: 'ارسال دعوت‌نامه',
    agents_mailed: 'دعوت‌نامه به {email} ایمیل شد.',
    agents_link_intro: 'این پیوند را به {name} بدهید. یک بار و تا ۷ روز کار می‌کند.',
    agents_mail_failed: 'ایمیل فرستاده نشد ({m}). به جای آن این پیوند را به {name} بدهید.',
    agents_link_label: 'پیوند دعوت',
    agents_copy: 'کپی',
    agents_copied: 'کپی شد',
    agents_members: 'اعضا',
    agents_status: 'وضعیت',
    agents_inboxes: 'صندوق‌ها',
    agents_actions: 'اقدامات',
    agents_active: 'فعال',
    agents_invited: 'دعوت‌شده',
    agents_disabled: 'غیرفعال',
    agents_disable: 'غیرفعال کردن',
    agents_enable: 'فعال کردن',
    agents_resend: 'ارسال دوباره دعوت',
    agents_you: '(شما)',
    agents_none: 'هنوز کس دیگری اینجا نیست. از بالا تیمتان را دعوت کنید.',
    agents_no_inboxes: 'بدون صندوق',
    agents_inboxes_of: 'صندوق‌های {name}',
    agents_capacity_of: 'ظرفیت {name}',
    agents_role_of: 'نقش {name}',
  },
  ar: {
    agents_invite_title: 'دعوة وكيل',
    agents_name: 'الاسم',
    agents_email: 'البريد الإلكتروني',
    agents_role: 'الدور',
    agents_role_agent: 'وكيل',
    agents_role_admin: 'مسؤول',
    agents_role_owner: 'مالك',
    agents_send_invite: 'إرسال الدعوة',
    agents_mailed: 'أُرسلت الدعوة بالبريد إلى {email}.',
    agents_link_intro: 'أعطِ {name} هذا الرابط. يعمل مرة واحدة، لمدة ٧ أيام.',
    agents_mail_failed: 'تعذّر إرسال البريد ({m}). أعطِ {name} هذا الرابط بدلًا منه.',
    agents_link_label: 'رابط الدعوة',
    agents_copy: 'نسخ',
    agents_copied: 'تم النسخ',
    agents_members: 'الأعضاء',
    agents_status: 'الحالة',
    agents_inboxes: 'صناديق الوارد',
    agents_actions: 'الإجراءات',
    agents_active: 'نشط',
    agents_invited: 'مدعو',
    agents_disabled: 'معطّل',
    agents_disable: 'تعطيل',
    agents_enable: 'تفعيل',
    agents_resend: 'إعادة إرسال الدعوة',
    agents_you: '(أنت)',
    agents_none: 'لا أحد غيرك هنا بعد. ادعُ فريقك من الأعلى.',
    agents_no_inboxes: 'لا صناديق',
    agents_inboxes_of: 'صناديق {name}',
    agents_capacity_of: 'سعة {name}',
    agents_role_of: 'دور {name}',
  },
});

const ROLES = ['agent', 'admin', 'owner'];

// The API names fields in backticks (`name` must not be empty): quotes read better on a page.
export function readable(message) {
  return String(message).replace(/`([^`]*)`/g, '“$1”');
}

function statusOf(user) {
  if (user.disabled) return 'disabled';
  return user.invited ? 'invited' : 'active';
}

// May the signed-in user change this one? Not themselves, and an owner only if they are one.
function manageable(app, user) {
  return user.id !== app.me.id && (user.role !== 'owner' || app.me.role === 'owner');
}

// Copies text, falling back to selecting it where the clipboard is not offered.
async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    input.select();
    document.execCommand('copy');
  }
}

// What became of an invitation: mailed, or the link to hand over with a Copy button.
function invitationResult(answer) {
  const name = answer.user.name;
  if (answer.mailed)
    return h('p', { class: 'saved', role: 'status' }, t('agents_mailed', { email: answer.user.email }));
  const link = `${location.origin}/#/invitation/${answer.token}`;
  const input = h('input', {
    class: 'invitation-link',
    type: 'text',
    readonly: true,
    dir: 'ltr',
    value: link,
    'aria-label': t('agents_link_label'),
    onfocus: (e) => e.target.select(),
  });
  const done = h('span', { class: 'saved', role: 'status' });
  const intro = answer.mail_error
    ? t('agents_mail_failed', { m: readable(answer.mail_error), name })
    : t('agents_link_intro', { name });
  return h(
    'div',
    { class: 'invitation-result' },
    h('p', {}, intro),
    h(
      'div',
      { class: 'copy-row' },
      input,
      h(
        'button',
        {
          type: 'button',
          class: 'copy-link',
          onclick: async () => {
            await copy(link, input);
            done.textContent = t('agents_copied');
          },
        },
        t('agents_copy'),
      ),
      done,
    ),
  );
}

function inviteCard(app, redraw, report) {
  const name = h('input', {
    name: 'name',
    required: true,
    maxlength: '200',
    autocomplete: 'off',
    dir: 'auto',
  });
  const email = h('input', { name: 'email', type: 'email', required: true, maxlength: '254', dir: 'ltr' });
  const roles = ROLES.filter((r) => r !== 'owner' || app.me.role === 'owner');
  const role = h(
    'select',
    { name: 'role' },
    roles.map((r) => h('option', { value: r }, t(`agents_role_${r}`))),
  );
  const result = h('div', { class: 'invite-answer' });
  const send = h('button', { class: 'primary', type: 'submit' }, t('agents_send_invite'));
  return h(
    'section',
    { class: 'card invite-card' },
    h('h2', {}, t('agents_invite_title')),
    h(
      'form',
      {
        class: 'invite',
        onsubmit: async (e) => {
          e.preventDefault();
          send.disabled = true;
          report(null);
          try {
            const answer = await api('/invitations', {
              method: 'POST',
              body: { name: name.value.trim(), email: email.value.trim(), role: role.value },
            });
            name.value = '';
            email.value = '';
            await redraw();
            clear(result, invitationResult(answer));
          } catch (error) {
            report(error);
          } finally {
            send.disabled = false;
          }
        },
      },
      h('label', {}, t('agents_name'), ' ', name),
      h('label', {}, t('agents_email'), ' ', email),
      h('label', {}, t('agents_role'), ' ', role),
      send,
    ),
    result,
  );
}

function roleCell(app, user, act) {
  if (!manageable(app, user)) return t(`agents_role_${user.role}`);
  const roles = ROLES.filter((r) => r !== 'owner' || app.me.role === 'owner');
  return h(
    'select',
    {
      class: 'role',
      'aria-label': t('agents_role_of', { name: user.name }),
      onchange: (e) =>
        act(() => api(`/users/${user.id}`, { method: 'PATCH', body: { role: e.target.value } })),
    },
    roles.map((r) => h('option', { value: r, selected: r === user.role }, t(`agents_role_${r}`))),
  );
}

async function capacityCell(user, report) {
  const routing = await api(`/users/${user.id}/routing`);
  const capacity = h('input', {
    type: 'number',
    min: '0',
    class: 'capacity',
    value: String(routing.capacity),
    'aria-label': t('agents_capacity_of', { name: user.name }),
  });
  const status = h('span', { class: 'saved', role: 'status' });
  capacity.addEventListener('change', async () => {
    try {
      await api(`/users/${user.id}/routing`, {
        method: 'PUT',
        body: { capacity: Number(capacity.value), skills: routing.skills },
      });
      status.textContent = t('saved');
      report(null);
    } catch (error) {
      status.textContent = '';
      report(error);
    }
  });
  return [capacity, status];
}

// The inboxes a user is a member of, and (for those who may) checkboxes to change them.
function inboxesCell(app, user, report) {
  const mine = app.inboxes.filter((i) => app.memberships.get(i.id)?.has(user.id));
  const summary = mine.length ? mine.map((i) => i.name).join(', ') : t('agents_no_inboxes');
  if (!app.inboxes.length) return summary;
  // Whose inboxes these are is said to screen readers inside the summary, not by an aria-label:
  // a label that replaces the visible inbox names breaks voice control ("click Billing").
  const whose = () => h('span', { class: 'sr-only' }, t('agents_inboxes_of', { name: user.name }), ': ');
  const summaryEl = h('summary', {}, whose(), h('bdi', {}, summary));
  const boxes = app.inboxes.map((inbox) => {
    const box = h('input', {
      type: 'checkbox',
      checked: app.memberships.get(inbox.id)?.has(user.id),
      onchange: async (e) => {
        const members = app.memberships.get(inbox.id) || new Set();
        try {
          if (e.target.checked) {
            await api(`/inboxes/${inbox.id}/members`, { method: 'POST', body: { user_id: user.id } });
            members.add(user.id);
          } else {
            await api(`/inboxes/${inbox.id}/members/${user.id}`, { method: 'DELETE' });
            members.delete(user.id);
          }
          app.memberships.set(inbox.id, members);
          const now = app.inboxes.filter((i) => app.memberships.get(i.id)?.has(user.id));
          clear(
            summaryEl,
            whose(),
            h('bdi', {}, now.length ? now.map((i) => i.name).join(', ') : t('agents_no_inboxes')),
          );
          report(null);
        } catch (error) {
          e.target.checked = !e.target.checked;
          report(error);
        }
      },
    });
    return h('label', { class: 'inbox-choice' }, box, ' ', h('bdi', {}, inbox.name));
  });
  return h('details', { class: 'inbox-members' }, summaryEl, h('div', { class: 'choices' }, boxes));
}

function actionsCell(app, user, act, showInvitation) {
  if (!manageable(app, user)) return null;
  const buttons = [];
  if (user.invited && !user.disabled) {
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          class: 'resend',
          onclick: () =>
            act(async () =>
              showInvitation(await api(`/users/${user.id}/invitation`, { method: 'POST', body: {} })),
            ),
        },
        t('agents_resend'),
      ),
    );
  }
  buttons.push(
    h(
      'button',
      {
        type: 'button',
        class: user.disabled ? 'enable' : 'disable danger',
        onclick: () =>
          act(() => api(`/users/${user.id}`, { method: 'PATCH', body: { disabled: !user.disabled } })),
      },
      t(user.disabled ? 'agents_enable' : 'agents_disable'),
    ),
  );
  return h('div', { class: 'row-actions' }, buttons);
}

export async function render(app, pane) {
  const problem = h('p', { class: 'error page-error', role: 'alert' });
  const report = (error) => {
    problem.textContent = error ? readable(error.message) : '';
  };
  const members = h('section', { class: 'card members-card' });
  const redraw = async () => {
    app.users = await api('/users');
    const others = app.users.filter((u) => u.id !== app.me.id);
    let lastInvitation = null;
    const showInvitation = (answer) => {
      lastInvitation = invitationResult(answer);
    };
    // Runs a change, then draws the table again from what the hub now says.
    const act = async (change) => {
      try {
        await change();
        report(null);
      } catch (error) {
        report(error);
      }
      await redraw();
      if (lastInvitation) members.append(lastInvitation);
    };
    const rows = await Promise.all(
      app.users.map(async (user) => {
        const status = statusOf(user);
        return h(
          'tr',
          { dataset: { userId: String(user.id), status } },
          h(
            'td',
            {},
            h(
              'div',
              { class: 'who' },
              avatar(user.name, { kind: 'agent' }),
              h(
                'span',
                { class: 'who-text' },
                h(
                  'span',
                  {},
                  h('bdi', { class: 'name' }, user.name),
                  user.id === app.me.id ? ` ${t('agents_you')}` : '',
                ),
                h('span', { class: 'email', dir: 'ltr' }, user.email),
              ),
            ),
          ),
          h('td', {}, roleCell(app, user, act)),
          h('td', {}, h('span', { class: `badge status-${status}` }, t(`agents_${status}`))),
          h('td', {}, await capacityCell(user, report)),
          h('td', {}, inboxesCell(app, user, report)),
          h('td', {}, actionsCell(app, user, act, showInvitation)),
        );
      }),
    );
    clear(
      members,
      h('h2', {}, t('agents_members')),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'agents-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('agents_name')),
              h('th', { scope: 'col' }, t('agents_role')),
              h('th', { scope: 'col' }, t('agents_status')),
              h('th', { scope: 'col' }, t('capacity')),
              h('th', { scope: 'col' }, t('agents_inboxes')),
              h('th', { scope: 'col' }, t('agents_actions')),
            ),
          ),
          h('tbody', {}, rows),
        ),
      ),
      others.length ? null : h('p', { class: 'settings-empty' }, t('agents_none')),
    );
  };
  pane.append(problem, inviteCard(app, redraw, report), members);
  try {
    await redraw();
  } catch (error) {
    report(error);
  }
}
