// The console's layout at each width. Wide: the sidebar, the list, the conversation and the
// contact pane side by side, the pane folded away on request. Narrower than 1180 px: the contact
// pane is an overlay the conversation header's button shows and hides (the choice is kept). A
// phone (700 px and less): the sidebar is a drawer behind the menu button and also holds what the
// top bar has no room for (presence, language, sign out); the list or the open conversation
// takes the whole width; the contact pane is a sheet. The rules are in responsive.css.

import { h } from '../shared/dom.js';
import { t } from './i18n.js';
import { actionSvg } from './icons.js';

const PHONE = matchMedia('(max-width: 700px)');
const NARROW = matchMedia('(max-width: 1180px)');
const CHOICE_KEY = 'switchboard.contact';

export class Layout {
  // `account` holds the controls that live in the top bar, or in the drawer on a phone.
  constructor(root, { topbar, sidebar, account, contactPane }) {
    this.root = root;
    this.topbar = topbar;
    this.sidebar = sidebar;
    this.account = account;
    this.contactPane = contactPane;
    sidebar.id = 'sidebar';
    contactPane.id = 'contact-pane';
    this.menuButton = h(
      'button',
      {
        type: 'button',
        class: 'menu-button',
        'aria-label': t('menu'),
        'aria-controls': 'sidebar',
        'aria-expanded': 'false',
        onclick: () => this.menu(),
      },
      actionSvg('menu'),
    );
    this.drawerSlot = h('div', { class: 'drawer-account' });
    this.backdrop = h('div', {
      class: 'drawer-backdrop',
      onclick: () => {
        this.closeDrawer();
        this.closeSheet();
      },
    });
    sidebar.append(this.drawerSlot);
    // Picking a view, an inbox or Settings in the drawer is done with the drawer.
    sidebar.addEventListener('click', (e) => {
      if (e.target.closest('button.view, a')) this.closeDrawer(false);
    });
    this.applyChoice();
    PHONE.addEventListener('change', () => this.fit());
    NARROW.addEventListener('change', () => this.sync());
  }

  // The top bar's first item and the backdrop, placed once the page is drawn.
  mount() {
    this.topbar.prepend(this.menuButton);
    this.root.append(this.backdrop);
    this.fit();
  }

  fit() {
    if (PHONE.matches) this.drawerSlot.append(this.account);
    else {
      this.topbar.append(this.account);
      this.closeDrawer(false);
      this.closeSheet();
    }
    const open = PHONE.matches
      ? this.root.classList.contains('drawer-open')
      : !this.root.classList.contains('sidebar-folded');
    this.menuButton.setAttribute('aria-expanded', String(open));
    this.sync();
  }

  // The menu button: on a phone it opens the drawer; wider, it folds the sidebar away for room.
  menu() {
    if (PHONE.matches) {
      if (this.root.classList.contains('drawer-open')) this.closeDrawer();
      else this.openDrawer();
      return;
    }
    const folded = this.root.classList.toggle('sidebar-folded');
    this.menuButton.setAttribute('aria-expanded', String(!folded));
  }

  openDrawer() {
    this.root.classList.add('drawer-open');
    this.menuButton.setAttribute('aria-expanded', 'true');
    // After the slide starts: focus cannot go to an element that is still hidden.
    requestAnimationFrame(() => this.sidebar.querySelector('button, a, select')?.focus());
  }

  closeDrawer(refocus = true) {
    if (!this.root.classList.contains('drawer-open')) return;
    this.root.classList.remove('drawer-open');
    this.menuButton.setAttribute('aria-expanded', 'false');
    if (refocus && this.sidebar.contains(document.activeElement)) this.menuButton.focus();
  }

  // Escape closes whatever lies over the page; true when something was closed.
  escape() {
    if (this.root.classList.contains('drawer-open')) {
      this.closeDrawer();
      return true;
    }
    if (this.root.classList.contains('contact-sheet')) {
      this.closeSheet();
      return true;
    }
    return false;
  }

  // The conversation header's button for the contact pane (drawn anew with each header).
  contactButton() {
    return h(
      'button',
      {
        type: 'button',
        class: 'contact-toggle',
        'aria-controls': 'contact-pane',
        'aria-expanded': String(this.contactShown()),
        'aria-label': t('contact_info'),
        title: t('contact_info'),
        onclick: () => this.toggleContact(),
      },
      actionSvg('contact'),
    );
  }

  // The pane's own close button, for when it lies over the conversation.
  closeButton() {
    return h(
      'button',
      { type: 'button', class: 'contact-close', 'aria-label': t('close'), onclick: () => this.hideContact() },
      actionSvg('close'),
    );
  }

  contactShown() {
    if (PHONE.matches) return this.root.classList.contains('contact-sheet');
    return getComputedStyle(this.contactPane).display !== 'none';
  }

  toggleContact() {
    if (this.contactShown()) this.hideContact();
    else if (PHONE.matches) {
      this.root.classList.add('contact-sheet');
      this.sync();
      this.contactPane.querySelector('.contact-close')?.focus();
    } else this.choose('shown');
  }

  hideContact() {
    if (PHONE.matches) this.closeSheet();
    else this.choose('hidden');
    this.root.querySelector('.thread-header .contact-toggle')?.focus();
  }

  closeSheet() {
    this.root.classList.remove('contact-sheet');
    this.sync();
  }

  // Shown or hidden, kept for the next visit. Without a choice, the pane shows where it fits.
  choose(choice) {
    localStorage.setItem(CHOICE_KEY, choice);
    this.applyChoice();
  }

  applyChoice() {
    const choice = localStorage.getItem(CHOICE_KEY);
    this.root.classList.toggle('contact-shown', choice === 'shown');
    this.root.classList.toggle('contact-hidden', choice === 'hidden');
    this.sync();
  }

  sync() {
    const shown = String(this.contactShown());
    for (const button of this.root.querySelectorAll('.contact-toggle'))
      button.setAttribute('aria-expanded', shown);
  }
}
