// Every settings section, drawn with something in it (a web chat and an email inbox, an agent,
// a team, a canned response, an API token), in English and Persian at 1280x800 and in English
// at phone size. Each page is screenshotted for a person to look at, checked with axe, and
// must not reach past the window's edge.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { browser, checkA11y, consoleFor, Hub, OWNER, shots, unreadableText } from './harness.js';
import { MailLab } from './mail-lab.js';

const SECTIONS = ['inboxes', 'agents', 'teams', 'queue', 'canned', 'profile', 'tokens'];

let hub;
let b;
let lab;

before(async () => {
  lab = MailLab.start();
  hub = await Hub.start({ SWITCHBOARD__OUTBOUND__ALLOW_HOSTS: '127.0.0.1' });
  b = await browser();
  const website = await hub.inbox('Website chat', 'web_chat');
  // A working mailbox, so the page shows an email inbox as it usually is (not failing).
  const mail = await hub.call('POST', '/api/v1/inboxes', {
    name: 'Support mail',
    kind: 'email',
    email: {
      address: 'support@support.test',
      imap: {
        host: '127.0.0.1',
        port: Number(lab.imapPort),
        security: 'plain',
        username: 'support@support.test',
      },
      smtp: { host: '127.0.0.1', port: Number(lab.smtpPort), security: 'plain' },
    },
    imap_password: 'support-pass',
  });
  const nadia = await hub.agent('Nadia Nouri', 'nadia@example.com', [website.id, mail.id]);
  const team = await hub.call('POST', '/api/v1/teams', { name: 'Tier 1' });
  await hub.call('POST', `/api/v1/teams/${team.id}/members`, { user_id: nadia.id });
  await hub.call('POST', '/api/v1/canned_responses', {
    short_code: 'thanks',
    content: 'Thank you for your patience! We will get back to you within one working day.',
    shared: true,
  });
  await hub.call('POST', '/api/v1/tokens', { name: 'CRM sync' });
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
  lab?.stop();
});

function signedIn(viewport) {
  return consoleFor(b, hub, OWNER, viewport);
}

// Opens a section by address (a phone's top bar has no room for the links), waits until it is
// drawn, and checks it: a screenshot of the whole page (the settings pane scrolls by itself,
// so the window is made as tall as its content for the picture), axe, and no sideways overflow.
// What is wrong is added to `problems`, so that one run shows every page, and the test fails
// at its end if anything was.
async function look(page, id, mode, problems) {
  await page.evaluate((id) => {
    location.hash = `#/settings/${id}`;
  }, id);
  await page.locator(`.settings-page[data-section="${id}"]:not([hidden])`).waitFor();
  await page.waitForTimeout(150);
  const overflow = await page.evaluate(() => {
    const pane = document.querySelector('main.settings');
    return {
      document: document.scrollingElement.scrollWidth,
      pane: pane.scrollWidth - pane.clientWidth,
      window: innerWidth,
    };
  });
  if (overflow.document > overflow.window + 1)
    problems.push(`${mode} ${id}: the page is ${overflow.document}px wide in a ${overflow.window}px window`);
  if (overflow.pane > 1)
    problems.push(`${mode} ${id}: the settings pane scrolls sideways by ${overflow.pane}px`);
  await checkA11y(page, `settings ${id} (${mode})`).catch((e) => problems.push(e.message));
  // Buttons drawn on a background of their own: the text must be readable on it (axe missed a
  // red-on-red Disable button, so this is measured here).
  const unreadable = await unreadableText(page, '.settings-page button');
  if (unreadable.length) problems.push(`${mode} ${id}: unreadable buttons: ${unreadable.join(', ')}`);

  const viewport = page.viewportSize();
  const height = await page.evaluate(() => {
    const pane = document.querySelector('main.settings');
    return Math.max(
      document.scrollingElement.scrollHeight,
      Math.ceil(pane.getBoundingClientRect().top + pane.scrollHeight),
    );
  });
  await page.setViewportSize({
    width: viewport.width,
    height: Math.min(Math.max(height, viewport.height), 4000),
  });
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(shots, `settings-screens-${mode}-${id}.png`) });
  await page.setViewportSize(viewport);
}

test('every settings section in English at 1280x800', async () => {
  const page = await signedIn({ width: 1280, height: 800 });
  const problems = [];
  for (const id of SECTIONS) await look(page, id, 'en', problems);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('every settings section in Persian, right to left, at 1280x800', async () => {
  const page = await signedIn({ width: 1280, height: 800 });
  // The top bar's language choice, as a person switches (it reloads the console).
  await Promise.all([page.waitForEvent('load'), page.selectOption('.topbar .language, .language', 'fa')]);
  await page.waitForSelector('.connection[data-state="live"]');
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  const problems = [];
  for (const id of SECTIONS) {
    await look(page, id, 'fa', problems);
    // The section list sits on the right in RTL.
    const nav = await page.locator('.settings-nav').boundingBox();
    if (nav.x <= 640) problems.push(`fa ${id}: the section list at x=${nav.x}`);
  }
  assert.deepEqual(problems, []);
  await page.evaluate(() => localStorage.setItem('switchboard.locale', 'en'));
  await page.context().close();
});

test('every settings section in English at phone size 390x844', async () => {
  const page = await signedIn({ width: 390, height: 844 });
  const problems = [];
  for (const id of SECTIONS) {
    await look(page, id, 'phone', problems);
    // Every control of the page is reachable without scrolling sideways.
    const off = await page.evaluate(() =>
      [
        ...document.querySelectorAll(
          '.settings-page button, .settings-page input, .settings-page select, .settings-page textarea',
        ),
      ]
        .filter((e) => {
          const r = e.getBoundingClientRect();
          // Inside a sideways-scrolling table a control may sit past the edge by design.
          return r.width > 0 && (r.right > innerWidth + 1 || r.left < -1) && !e.closest('.table-scroll');
        })
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}[name=${e.name}]`),
    );
    if (off.length) problems.push(`phone ${id}: controls past the screen's edge: ${off.join(', ')}`);
    // A field's hint has the card's width to itself, not a sliver beside the control.
    const squeezed = await page.evaluate(() =>
      [...document.querySelectorAll('.settings-page label.field .hint')]
        .filter((e) => e.getClientRects().length && e.getBoundingClientRect().width < 200)
        .map((e) => `“${e.textContent}” ${Math.round(e.getBoundingClientRect().width)}px`),
    );
    if (squeezed.length) problems.push(`phone ${id}: squeezed hints: ${squeezed.join(', ')}`);
  }
  assert.deepEqual(problems, []);
  await page.context().close();
});
