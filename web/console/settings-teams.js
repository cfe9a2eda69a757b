// Settings › Teams: groups of agents a conversation can be handed to. Make a team, rename it,
// add and remove its members. Only owners and admins see this page; the API checks again.

import { clear, h } from '../shared/dom.js';
import { api } from './api.js';
import { avatar } from './avatar.js';
import { defineStrings, t } from './i18n.js';
import { readable } from './settings-agents.js';
import { confirmAction } from './states.js';

defineStrings({
  en: {
    teams_section: 'Teams',
    teams_new: 'New team',
    teams_name: 'Team name',
    teams_create: 'Create team',
    teams_none: 'No teams yet. A team is a group of agents a conversation can be handed to.',
    teams_no_members: 'Nobody is on this team yet.',
    teams_rename: 'Rename',
    teams_add: 'Add',
    teams_add_member: 'Add a member to {team}',
    teams_pick: 'Choose an agent…',
    teams_remove: 'Remove',
    teams_delete: 'Delete team',
    teams_confirm_delete: 'Delete “{team}”? Its conversations stay, with no team.',
    teams_remove_member: 'Remove {name} from {team}',
    teams_rename_of: 'Name of {team}',
  },
  fa: {
    teams_section: 'تیم‌ها',
    teams_new: 'تیم تازه',
    teams_name: 'نام تیم',
    teams_create: 'ساختن تیم',
    teams_none: 'هنوز تیمی نیست. تیم گروهی از کارشناسان است که می‌توان گفتگو را به آن سپرد.',
    teams_no_members: 'هنوز کسی در این تیم نیست.',
    teams_rename: 'تغییر نام',
    teams_add: 'افزودن',
    teams_add_member: 'افزودن عضو به {team}',
    teams_pick: 'یک کارشناس انتخاب کنید…',
    teams_remove: 'حذف',
    teams_delete: 'حذف تیم',
    teams_confirm_delete: '«{team}» حذف شود؟ گفتگوهایش می‌مانند، بی‌تیم.',
    teams_remove_member: 'حذف {name} از {team}',
    teams_rename_of: 'نام {team}',
  },
  ar: {
    teams_section: 'الفرق',
    teams_new: 'فريق جديد',
    teams_name: 'اسم الفريق',
    teams_create: 'إنشاء الفريق',
    teams_none: 'لا فرق بعد. الفريق مجموعة من الوكلاء يمكن تسليم المحادثة إليها.',
    teams_no_members: 'لا أحد في هذا الفريق بعد.',
    teams_rename: 'إعادة التسمية',
    teams_add: 'إضافة',
    teams_add_member: 'إضافة عضو إلى {team}',
    teams_pick: 'اختر وكيلًا…',
    teams_remove: 'إزالة',
    teams_delete: 'حذف الفريق',
    teams_confirm_delete: 'حذف «{team}»؟ تبقى محادثاته بلا فريق.',
    teams_remove_member: 'إزالة {name} من {team}',
    teams_rename_of: 'اسم {team}',
  },
});

function teamCard(app, team, act) {
  const name = h('input', {
    name: 'team_name',
    value: team.name,
    required: true,
    maxlength: '200',
    dir: 'auto',
    'aria-label': t('teams_rename_of', { team: team.name }),
  });
  const members = team.member_ids.map((id) => app.users.find((u) => u.id === id)).filter(Boolean);
  const candidates = app.users.filter((u) => !team.member_ids.includes(u.id) && !u.disabled);
  const pick = h(
    'select',
    { name: 'user', 'aria-label': t('teams_add_member', { team: team.name }) },
    h('option', { value: '' }, t('teams_pick')),
    candidates.map((u) => h('option', { value: String(u.id) }, u.name)),
  );
  return h(
    'section',
    { class: 'card team-card', dataset: { teamId: String(team.id) } },
    h(
      'form',
      {
        class: 'team-rename',
        onsubmit: (e) => {
          e.preventDefault();
          act(() => api(`/teams/${team.id}`, { method: 'PATCH', body: { name: name.value.trim() } }));
        },
      },
      h('h2', {}, h('bdi', {}, team.name)),
      name,
      h('button', { type: 'submit' }, t('teams_rename')),
    ),
    members.length
      ? h(
          'ul',
          { class: 'team-members' },
          members.map((user) =>
            h(
              'li',
              { dataset: { userId: String(user.id) } },
              avatar(user.name, { kind: 'agent' }),
              h('bdi', {}, user.name),
              h(
                'button',
                {
                  type: 'button',
                  class: 'remove-member',
                  'aria-label': t('teams_remove_member', { name: user.name, team: team.name }),
                  onclick: () => act(() => api(`/teams/${team.id}/members/${user.id}`, { method: 'DELETE' })),
                },
                t('teams_remove'),
              ),
            ),
          ),
        )
      : h('p', { class: 'settings-empty' }, t('teams_no_members')),
    candidates.length
      ? h(
          'form',
          {
            class: 'team-add',
            onsubmit: (e) => {
              e.preventDefault();
              if (!pick.value) return;
              act(() =>
                api(`/teams/${team.id}/members`, { method: 'POST', body: { user_id: Number(pick.value) } }),
              );
            },
          },
          pick,
          h('button', { type: 'submit' }, t('teams_add')),
        )
      : null,
    confirmAction(t('teams_delete'), t('teams_confirm_delete', { team: team.name }), () =>
      act(() => api(`/teams/${team.id}`, { method: 'DELETE' })),
    ),
  );
}

export async function render(app, pane) {
  const problem = h('p', { class: 'error page-error', role: 'alert' });
  const report = (error) => {
    problem.textContent = error ? readable(error.message) : '';
  };
  const list = h('div', { class: 'teams' });
  const redraw = async () => {
    const [users, teams] = await Promise.all([api('/users'), api('/teams')]);
    app.users = users;
    app.teams = teams;
    clear(
      list,
      teams.length
        ? teams.map((team) => teamCard(app, team, act))
        : h('p', { class: 'card settings-empty' }, t('teams_none')),
    );
  };
  const act = async (change) => {
    try {
      await change();
      report(null);
    } catch (error) {
      report(error);
    }
    await redraw();
  };
  const name = h('input', { name: 'name', required: true, maxlength: '200', dir: 'auto' });
  const create = h(
    'section',
    { class: 'card' },
    h('h2', {}, t('teams_new')),
    h(
      'form',
      {
        class: 'team-create',
        onsubmit: async (e) => {
          e.preventDefault();
          await act(async () => {
            await api('/teams', { method: 'POST', body: { name: name.value.trim() } });
            name.value = '';
          });
        },
      },
      h('label', {}, t('teams_name'), ' ', name),
      h('button', { class: 'primary', type: 'submit' }, t('teams_create')),
    ),
  );
  pane.append(problem, create, list);
  try {
    await redraw();
  } catch (error) {
    report(error);
  }
}
