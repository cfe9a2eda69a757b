// Accessibility of the console, checked by axe-core: the sign-in page, the inbox list, an open
// conversation with every kind of bubble, and Settings, in the light and the dark theme, in
// English and in Arabic (right to left). Serious and critical violations fail; the screenshots
// are the design's record (target/screenshots/design-*.png).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Hub, OWNER, browser, checkA11y, shots } from './harness.js';

let hub;
let b;
let conversationId;

before(async () => {
  hub = await Hub.start();
  b = await browser();
  const support = await hub.inbox('Support');
  const billing = await hub.inbox('Billing');
  const ana = await hub.agent('Ana Lima', 'ana@example.com', [support.id, billing.id]);
  ({ conversation_id: conversationId } = await hub.customerSays(
    support.id,
    { identifier: 'dario', name: 'Dario Rossi' },
    'Hi! Where is my parcel? It was due yesterday.',
    's-1',
  ));
  const messages = `/api/v1/conversations/${conversationId}/messages`;
  await hub.call('POST', messages, { text: 'Sorry about that, let me check the tracking for you.' });
  await hub.call('POST', messages, { text: 'Carrier says it is at the depot: call them if not here by Friday.', private: true });
  await hub.call('POST', `/api/v1/conversations/${conversationId}/assignment`, { assignee_id: ana.id, team_id: null });
  await hub.customerSays(support.id, { identifier: 'dario', name: 'Dario Rossi' }, 'Thanks, that helps a lot.', 's-2');
  await hub.customerSays(billing.id, { identifier: 'layla', name: 'ليلى حسن' }, 'مرحبا، أين فاتورتي؟', 'b-1');
  await hub.customerSays(billing.id, { identifier: 'carla', name: 'Carla Mendes' }, 'My invoice shows the wrong address', 'b-2');
  await hub.customerSays(support.id, { identifier: 'wei', name: 'Wei Zhang' }, 'Can I change the size of my order?', 's-3');
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
});

// A browser context in one theme and language; `page` starts on the sign-in form.
async function open(colorScheme, locale) {
  const context = await b.newContext({ viewport: { width: 1280, height: 720 }, locale, colorScheme });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${colorScheme} ${locale}] page error:`, e.message));
  await page.goto(hub.url);
  await page.waitForSelector('form.login');
  return { context, page };
}

async function signIn(page) {
  await page.fill('input[name=email]', OWNER.email);
  await page.fill('input[name=password]', OWNER.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.connection[data-state="live"]');
  await page.click('[data-view="all"]');
  await page.waitForSelector('.conversation-list .row-link');
}

async function openConversation(page) {
  await page.click(`.conversation-list [data-conversation-id="${conversationId}"] .row-link`);
  await page.waitForSelector('.message.incoming');
  await page.waitForSelector('.message.outgoing');
  await page.waitForSelector('.message.note');
  await page.waitForSelector('.messages .activity');
  await page.waitForSelector('.contact-pane .contact-head');
}

for (const [colorScheme, locale] of [
  ['light', 'en-US'],
  ['dark', 'en-US'],
  ['light', 'ar'],
  ['dark', 'ar'],
]) {
  const lang = locale.slice(0, 2);
  test(`no serious accessibility violations: ${colorScheme} theme, ${lang}`, async () => {
    const { context, page } = await open(colorScheme, locale);
    try {
      assert.equal(await page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
      await checkA11y(page, `sign-in (${colorScheme}, ${lang})`);

      await signIn(page);
      await checkA11y(page, `inbox list (${colorScheme}, ${lang})`);
      if (lang === 'en') await page.screenshot({ path: join(shots, `design-inbox-${colorScheme}.png`) });

      await openConversation(page);
      await checkA11y(page, `conversation (${colorScheme}, ${lang})`);
      if (lang === 'en') await page.screenshot({ path: join(shots, `design-thread-${colorScheme}.png`) });
      if (lang === 'ar' && colorScheme === 'light') await page.screenshot({ path: join(shots, 'design-thread-ar.png') });

      // The composer in note mode is yellow: its text and controls are checked too.
      await page.click('.tab-note');
      await checkA11y(page, `note composer (${colorScheme}, ${lang})`);

      await page.click('.settings-link');
      await page.waitForSelector('.settings-page .inbox-card');
      await checkA11y(page, `settings (${colorScheme}, ${lang})`);
      if (lang === 'en' && colorScheme === 'dark') await page.screenshot({ path: join(shots, 'design-settings-dark.png') });
    } finally {
      await context.close();
    }
  });
}

test('an action button without a name fails the check (axe button-name)', async () => {
  const { context, page } = await open('light', 'en-US');
  try {
    await signIn(page);
    await openConversation(page);
    await checkA11y(page, 'before');
    // The resolve button's only name is its text; an icon-only button's is its aria-label.
    await page.evaluate(() => {
      document.querySelector('.thread-header .back').removeAttribute('aria-label');
      document.querySelector('.thread-header .back').removeAttribute('title');
    });
    await assert.rejects(checkA11y(page, 'unnamed back button'), /button-name/);
  } finally {
    await context.close();
  }
});

test('every action has an icon and a name, and the keyboard can reach the list first', async () => {
  const { context, page } = await open('light', 'en-US');
  try {
    await signIn(page);
    await openConversation(page);
    const buttons = await page.$$eval('.topbar button, .thread-header button, .composer button', (all) =>
      all.map((el) => ({
        html: el.outerHTML.slice(0, 120),
        icon: Boolean(el.querySelector('svg.icon')),
        name: (el.getAttribute('aria-label') || el.textContent).trim(),
      })),
    );
    assert.ok(buttons.length >= 8, `${buttons.length} buttons`);
    for (const button of buttons) {
      assert.ok(button.icon, `no icon: ${button.html}`);
      assert.ok(button.name, `no name: ${button.html}`);
    }
    // No emoji and no "missing glyph" boxes stand in for icons anywhere.
    const text = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(text, /[\u{1F300}-\u{1FAFF}\u{2600}-\u{27BF}\u{25A1}\u{FFFD}]/u);

    // The first Tab lands on the skip link, which takes focus to the conversation list.
    await page.reload();
    await page.waitForSelector('.connection[data-state="live"]');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
    await page.keyboard.press('Enter');
    assert.equal(
      await page.evaluate(() => document.activeElement.closest('.conversation-list') !== null),
      true,
      'focus in the conversation list',
    );
    // The focus ring is drawn (an outline, not the browser's default none).
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(outline, 'solid');
  } finally {
    await context.close();
  }
});

test('a new message in the open conversation and a new conversation are announced politely', async () => {
  const { context, page } = await open('light', 'en-US');
  try {
    await signIn(page);
    await openConversation(page);
    const region = page.locator('.announcer');
    assert.equal(await region.getAttribute('aria-live'), 'polite');
    await hub.customerSays(
      (await hub.call('GET', `/api/v1/conversations/${conversationId}`)).inbox_id,
      { identifier: 'dario', name: 'Dario Rossi' },
      'One more thing: can you leave it with a neighbour?',
      's-4',
    );
    await page.waitForFunction(() =>
      document.querySelector('.announcer').textContent.includes('can you leave it with a neighbour'),
    );
    assert.match(await region.textContent(), /^New message from Dario Rossi: /);
    const support = (await hub.call('GET', '/api/v1/inboxes')).find((i) => i.name === 'Support');
    await hub.customerSays(support.id, { identifier: 'nora', name: 'Nora Berg' }, 'Hello there', 's-5');
    await page.waitForFunction(() => document.querySelector('.announcer').textContent === 'New conversation from Nora Berg');
  } finally {
    await context.close();
  }
});

test('a list that fails to load says why and offers a retry that works', async () => {
  const { context, page } = await open('light', 'en-US');
  try {
    let fail = true;
    await page.route('**/api/v1/conversations?*', (route) =>
      fail
        ? route.fulfill({
            status: 500,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'internal', message: 'database unavailable' } }),
          })
        : route.continue(),
    );
    await page.fill('input[name=email]', OWNER.email);
    await page.fill('input[name=password]', OWNER.password);
    await page.click('button[type=submit]');
    const block = page.locator('.conversation-list .error-block');
    await block.waitFor();
    assert.match(await block.textContent(), /database unavailable/);
    await checkA11y(page, 'list error');
    fail = false;
    await block.locator('button.retry').click();
    await page.waitForSelector('.conversation-list .row, .conversation-list .empty');
    assert.equal(await block.count(), 0);
  } finally {
    await context.close();
  }
});
