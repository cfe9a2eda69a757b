// Settings: one page per thing a team lead sets up, behind a list of sections. A page is one
// module, settings-<id>.js, exporting `render(app, pane, rest)` where `rest` is what follows
// #/settings/<id>/ in the address (an inbox's id, say). Admin pages are left out of an agent's
// list; the API refuses them anyway.

import { clear, h } from '../shared/dom.js';
import { t } from './i18n.js';
import * as agents from './settings-agents.js';
import * as canned from './settings-canned.js';
import * as inboxes from './settings-inboxes.js';
import * as profile from './settings-profile.js';
import * as queue from './settings-queue.js';
import * as teams from './settings-teams.js';
import * as tokens from './settings-tokens.js';
import { errorBlock, skeleton } from './states.js';

// The sections in the order the list shows them; the first one a member may see is where
// "Settings" opens. `label` is an i18n key.
const SECTIONS = [
  { id: 'inboxes', label: 'inboxes', page: inboxes, admin: true },
  { id: 'agents', label: 'agents', page: agents, admin: true },
  { id: 'teams', label: 'teams_section', page: teams, admin: true },
  { id: 'queue', label: 'queue', page: queue, admin: false },
  { id: 'canned', label: 'canned_title', page: canned, admin: false },
  { id: 'profile', label: 'profile_title', page: profile, admin: false },
  { id: 'tokens', label: 'tokens_title', page: tokens, admin: false },
];

// The section an address names: #/settings/<id>/<rest…>.
export function settingsAddress(hash) {
  const [, id = '', ...rest] = hash.replace(/^#\/?/, '').split('/');
  return { id, rest };
}

export async function renderSettings(app, pane) {
  const { id, rest } = settingsAddress(location.hash);
  const visible = SECTIONS.filter((s) => !s.admin || app.me.role !== 'agent');
  const section = visible.find((s) => s.id === id) || visible[0];
  const page = h('div', { class: 'settings-page', dataset: { section: section.id } });
  clear(
    pane,
    h(
      'nav',
      { class: 'settings-nav', 'aria-label': t('settings') },
      h('h1', {}, t('settings')),
      h(
        'ul',
        {},
        visible.map((s) =>
          h(
            'li',
            {},
            h('a', { href: `#/settings/${s.id}`, 'aria-current': s === section ? 'page' : null }, t(s.label)),
          ),
        ),
      ),
    ),
    page,
  );
  // The page draws itself out of sight; a skeleton stands in until it is done, an error block
  // with a retry if it fails.
  const loading = skeleton('page', 2);
  page.before(loading);
  page.hidden = true;
  try {
    await section.page.render(app, page, rest);
    page.hidden = false;
    loading.remove();
  } catch (error) {
    loading.replaceWith(
      h(
        'div',
        { class: 'settings-page' },
        errorBlock(t('load_failed', { m: error.message }), () => renderSettings(app, pane)),
      ),
    );
  }
}
