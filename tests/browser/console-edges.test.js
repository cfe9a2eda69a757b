// The console's rough edges, found by trying it as a new team would: contact attributes, the
// visitor's typing indicator, activity lines and numbers in Persian and Arabic, errors that look
// like errors, the sign-in message, Settings in the sidebar, a phone (390×844) and a laptop
// narrower than three columns.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertDangerColour, browser, consoleFor, Hub, OWNER, shots, unreadableText } from './harness.js';

let hub;
let b;
let support;
let website;
let nora;
let noraConversation;
let owner;

const PHONE = { width: 390, height: 844 };

// A visitor of the website inbox, in a page of their own: REST for the session and the first
// message, the widget socket for typing frames the test sends when it wants.
async function visitor(name) {
  const session = await hub.call(
    'POST',
    '/widget/v1/sessions',
    { website_token: website.settings.website_token },
    null,
  );
  const posted = await fetch(`${hub.url}/widget/v1/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${session.visitor_token}` },
    body: JSON.stringify({
      client_id: `c-${name}-1`,
      text: `Hello from ${name}`,
      prechat: { name, fields: { plan: 'gold', seats: 12 } },
    }),
  }).then((r) => r.json());
  const page = await (await b.newContext()).newPage();
  await page.goto(`${hub.url}/readyz`);
  await page.evaluate(
    async (url) => {
      window.socket = new WebSocket(url);
      await new Promise((resolve) => {
        window.socket.onmessage = (m) => {
          if (JSON.parse(m.data).type === 'ready') resolve();
        };
      });
    },
    `${hub.url.replace(/^http/, 'ws')}/widget/v1/ws?token=${encodeURIComponent(session.visitor_token)}`,
  );
  const conversationId = posted.conversation_id;
  return {
    conversationId,
    typing: (on) =>
      page.evaluate(
        ([id, on]) => window.socket.send(JSON.stringify({ v: 1, type: 'typing', conversation_id: id, on })),
        [conversationId, on],
      ),
    says: (text, n) =>
      fetch(`${hub.url}/widget/v1/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${session.visitor_token}` },
        body: JSON.stringify({ client_id: `c-${name}-${n}`, text, conversation_id: conversationId }),
      }),
  };
}

function signIn(locale, viewport = { width: 1280, height: 720 }, user = OWNER) {
  return consoleFor(b, hub, user, viewport, locale);
}

before(async () => {
  hub = await Hub.start();
  b = await browser();
  support = await hub.inbox('Support');
  website = await hub.inbox('Website', 'web_chat');
  nora = await visitor('Nora');
  noraConversation = nora.conversationId;
  owner = (await hub.call('GET', '/api/v1/me')).user;
  // Activity lines: assigned, resolved, reopened.
  await hub.call('POST', `/api/v1/conversations/${noraConversation}/assignment`, { assignee_id: owner.id });
  await hub.call('PATCH', `/api/v1/conversations/${noraConversation}`, { status: 'resolved' });
  await hub.call('PATCH', `/api/v1/conversations/${noraConversation}`, { status: 'open' });
  for (let i = 0; i < 12; i += 1) {
    await hub.customerSays(
      support.id,
      { identifier: `c${i}`, name: `Customer ${i}` },
      `Question number ${i + 10}`,
      `q-${i}`,
    );
  }
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
});

const open = async (page, id) => {
  await page.evaluate((id) => {
    location.hash = `#/conversations/${id}`;
  }, id);
  await page.waitForSelector(`.thread-header`);
};

test('h() flattens children at any depth; contact attributes read as text', async () => {
  const page = await consoleFor(b, hub, OWNER);
  const text = await page.evaluate(async () => {
    const { h } = await import('/shared/dom.js');
    return h('p', {}, [[h('b', {}, 'a'), [[h('i', {}, 'b')]]], 'c', [null, ['d']]]).outerHTML;
  });
  assert.equal(text, '<p><b>a</b><i>b</i>cd</p>');
  await open(page, noraConversation);
  await page.locator('.contact-pane dd', { hasText: 'gold' }).waitFor();
  const pane = await page.locator('.contact-pane').innerText();
  assert.doesNotMatch(pane, /object HTMLElement/);
  assert.match(pane, /plan\s+gold/);
  assert.match(pane, /seats\s+12/);
  await page.context().close();
});

test("the visitor's typing names the contact and clears when they stop or their message arrives", async () => {
  const page = await consoleFor(b, hub, OWNER);
  await open(page, noraConversation);
  await page.locator('.contact-pane', { hasText: 'Nora' }).waitFor();
  const typing = page.locator('.thread-pane .typing');
  await nora.typing(true);
  await page.waitForFunction(() => document.querySelector('.typing').textContent.includes('Nora'), null, {
    timeout: 2000,
  });
  assert.doesNotMatch(await typing.textContent(), /Customer/);
  // The typing frames say so.
  await nora.typing(false);
  await page.waitForFunction(() => document.querySelector('.typing').textContent === '', null, {
    timeout: 2000,
  });
  // Their message arrives (with no "stopped" frame first).
  await nora.typing(true);
  await page.waitForFunction(() => document.querySelector('.typing').textContent !== '', null, {
    timeout: 2000,
  });
  await nora.says('One more thing', 2);
  await page.locator('.message.incoming', { hasText: 'One more thing' }).waitFor({ timeout: 2000 });
  assert.equal(await typing.textContent(), '');
  // They just stop: no frame at all for a few seconds.
  await nora.typing(true);
  await page.waitForFunction(() => document.querySelector('.typing').textContent !== '', null, {
    timeout: 2000,
  });
  const since = Date.now();
  await page.waitForFunction(() => document.querySelector('.typing').textContent === '', null, {
    timeout: 10_000,
  });
  assert.ok(Date.now() - since > 3000, 'not cleared while a visitor may still be typing');
  await page.context().close();
});

for (const [locale, latinWords] of [
  ['fa-IR', /assigned|set the conversation|unassigned/],
  ['ar', /assigned|set the conversation|unassigned/],
]) {
  test(`${locale}: activity lines translated, their dates isolated, one numbering everywhere`, async () => {
    const page = await signIn(locale);
    await page.click('[data-view="all"]');
    await page.waitForSelector('.conversation-list .row');
    await open(page, noraConversation);
    await page.waitForSelector('.activity');
    const lines = await page.locator('.activity').allInnerTexts();
    assert.equal(lines.length, 3, lines.join('\n'));
    for (const line of lines) assert.doesNotMatch(line, latinWords, line);
    assert.ok(
      lines.every((l) => l.includes(owner.name)),
      'the names stay',
    );
    // The date is its own bidi island, so the line's words do not scramble it.
    assert.equal((await page.locator('.activity bdi, .activity time[dir]').count()) >= 3, true);
    // Numbers and times in the locale's digits, no Latin digits among them.
    const numbers = await page
      .locator('.sidebar .count, .row time, .message time, .activity time, .badge')
      .allInnerTexts();
    assert.ok(numbers.length > 5);
    // The digits Intl gives the console's language (Persian ones in Persian), and no other.
    const digits = await page.evaluate(() =>
      new Intl.NumberFormat(document.documentElement.lang).format(1234567890),
    );
    if (locale.startsWith('fa')) assert.equal(digits, '۱,۲۳۴,۵۶۷,۸۹۰'.replace(/,/g, '٬'));
    for (const n of numbers) {
      for (const d of n.match(/[0-9٠-٩۰-۹]/g) || [])
        assert.ok(digits.includes(d), `"${d}" in "${n}" is not one of ${digits}`);
    }
    await page.screenshot({ path: join(shots, `activity-${locale}.png`) });
    await page.context().close();
  });
}

test('a wrong password says so, in the console language, keyed on the error code', async () => {
  for (const [locale, words] of [
    ['en-US', 'Wrong email or password'],
    ['ar', 'البريد الإلكتروني أو كلمة المرور غير صحيحة'],
  ]) {
    const page = await (await b.newContext({ locale })).newPage();
    await page.goto(hub.url);
    await page.fill('input[name=email]', OWNER.email);
    await page.fill('input[name=password]', 'not the password');
    await page.click('button[type=submit]');
    await page.locator('.login .error', { hasText: words }).waitFor({ timeout: 3000 });
    assert.doesNotMatch(await page.locator('.login .error').innerText(), /authentication required/);
    await page.context().close();
  }
});

test('a failed save shows as an error, its message without Markdown backticks', async () => {
  const page = await consoleFor(b, hub, OWNER);
  await page.click('.settings-link');
  await page.waitForSelector('.inbox-card');
  const card = page.locator(`.inbox-card[data-inbox-id="${support.id}"]`);
  await card.locator('input[name=inbox_capacity]').evaluate((e) => {
    e.removeAttribute('min');
    e.value = '0';
  });
  await card.locator('.routing button').click();
  const status = card.locator('.routing [role=status]');
  await page.waitForFunction((el) => el.textContent.length > 0, await status.elementHandle());
  assert.equal(
    await status.getAttribute('class').then((c) => c.split(' ').includes('saved')),
    false,
    'not shown as saved',
  );
  assert.ok((await status.getAttribute('class')).split(' ').includes('error'));
  assert.doesNotMatch(await status.innerText(), /`/);
  await assertDangerColour(status, 'the error colour');
  await page.context().close();
});

test('Settings open: Settings is the current item in the sidebar and no view is', async () => {
  const page = await consoleFor(b, hub, OWNER);
  await page.click('[data-view="mine"]');
  assert.equal(await page.locator('.sidebar [data-view="mine"][aria-current]').count(), 1);
  await page.click('.settings-link');
  await page.waitForSelector('.settings-nav');
  assert.equal(await page.locator('.sidebar .views [aria-current]').count(), 0);
  assert.equal(await page.locator('.sidebar .settings-link').getAttribute('aria-current'), 'page');
  await page.click('[data-view="all"]');
  await page.waitForSelector('.list-pane');
  assert.equal(await page.locator('.sidebar .settings-link[aria-current]').count(), 0);
  assert.equal(await page.locator('.sidebar [data-view="all"][aria-current]').count(), 1);
  await page.context().close();
});

const inViewport = async (locator, width = PHONE.width) => {
  const box = await locator.boundingBox();
  return box && box.x >= -1 && box.x + box.width <= width + 1 && box.width > 0;
};

for (const [locale, tag] of [
  ['en-US', 'en'],
  ['ar', 'ar'],
]) {
  test(`phone (${tag}): a drawer for the sidebar, a full-width list and conversation, back and contact`, async () => {
    const page = await signIn(locale, PHONE);
    // Nothing sticks out of the screen, and the top bar keeps its controls inside it.
    assert.ok(
      await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth),
      'no sideways scroll',
    );
    const top = await page.locator('.topbar').evaluate((e) => [e.scrollWidth, e.clientWidth]);
    assert.ok(top[0] <= top[1], `top bar overflows: ${top}`);
    const menu = page.locator('.menu-button');
    assert.ok(await inViewport(menu));
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    assert.ok(!(await inViewport(page.locator('.sidebar'))), 'the drawer starts closed');

    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    const drawer = page.locator('.sidebar');
    await page.waitForFunction(() => {
      const r = document.querySelector('.sidebar').getBoundingClientRect();
      return r.left >= 0 && r.right <= innerWidth;
    });
    for (const part of [
      '[data-view="all"]',
      '[data-view="mine"]',
      `[data-view="inbox-${support.id}"]`,
      '.settings-link',
      'select.presence',
      'select.language',
      '.sign-out',
    ]) {
      assert.ok(await inViewport(drawer.locator(part)), `${part} in the drawer`);
    }
    await page.screenshot({ path: join(shots, `phone-drawer-${tag}.png`) });
    await page.keyboard.press('Escape');
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await menu.click();
    await drawer.locator('[data-view="all"]').click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'false', 'picking a view closes the drawer');

    const list = page.locator('.list-pane');
    await page.waitForSelector('.conversation-list .row');
    assert.ok((await list.boundingBox()).width >= PHONE.width - 1, 'the list is full width');
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, `phone-list-${tag}.png`) });

    await page.locator('.conversation-list .row', { hasText: 'Nora' }).click();
    await page.waitForSelector('.thread-header .back-button');
    const thread = page.locator('.thread-pane');
    assert.ok((await thread.boundingBox()).width >= PHONE.width - 1, 'the conversation is full width');
    assert.ok(!(await list.isVisible()));
    await page.locator('.contact-pane', { hasText: 'Nora' }).waitFor({ state: 'attached' });
    assert.ok(await inViewport(page.locator('.back-button')));
    assert.ok(await inViewport(page.locator('.thread-header .contact-toggle')));
    assert.ok(await inViewport(page.locator('.composer .send')), 'the send button is on screen');
    await page.screenshot({ path: join(shots, `phone-conversation-${tag}.png`) });

    await page.click('.thread-header .contact-toggle');
    const sheet = page.locator('.contact-pane');
    await sheet.locator('dd', { hasText: 'gold' }).waitFor();
    assert.ok(await inViewport(sheet));
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, `phone-contact-${tag}.png`) });
    await sheet.locator('.contact-close').click();
    assert.ok(!(await sheet.isVisible()), 'the sheet closes');

    await page.click('.back-button');
    await page.waitForFunction(() => location.hash === '#/' || location.hash === '');
    assert.ok(await list.isVisible(), 'back to the list');
    await page.context().close();
  });
}

test('below 1180 px a header button shows and hides the contact pane, and remembers', async () => {
  const page = await signIn('en-US', { width: 1024, height: 720 });
  await open(page, noraConversation);
  const pane = page.locator('.contact-pane');
  const toggle = page.locator('.thread-header .contact-toggle');
  await page.locator('.contact-pane', { hasText: 'Nora' }).waitFor({ state: 'attached' });
  assert.ok(!(await pane.isVisible()), 'hidden at first on a narrow screen');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  assert.ok(await pane.isVisible());
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, 'narrow-contact.png') });
  // Remembered across a reload.
  await page.reload();
  await page.waitForSelector('.connection[data-state="live"]');
  await page.locator('.contact-pane', { hasText: 'Nora' }).waitFor();
  assert.ok(await pane.isVisible(), 'still shown after a reload');
  await toggle.click();
  assert.ok(!(await pane.isVisible()));
  await page.reload();
  await page.waitForSelector('.thread-header .contact-toggle');
  assert.ok(!(await pane.isVisible()), 'still hidden after a reload');
  await page.context().close();
});

test('an unread count reads on its row, also the current one; the header buttons do not touch', async () => {
  const page = await signIn('en-US');
  await page.click('[data-view="all"]');
  const row = page.locator('.conversation-list .row.unread').first();
  await row.locator('.badge').waitFor();
  assert.deepEqual(
    await unreadableText(page, '.conversation-list .row .badge'),
    [],
    'unread counts are readable',
  );
  await row.locator('.row-link').click();
  await page.waitForSelector('.thread-header');
  // The next unread row drawn as current: its count must read on the current row's colour too.
  await page.locator('.conversation-list .row.current').waitFor();
  assert.deepEqual(await unreadableText(page, '.conversation-list .row .badge'), []);
  const resolve = await page
    .locator('.thread-header .resolve, .thread-header button', { hasText: 'Resolve' })
    .first()
    .boundingBox();
  const toggle = await page.locator('.thread-header .contact-toggle').boundingBox();
  if (resolve && toggle) {
    const gap = Math.max(toggle.x - (resolve.x + resolve.width), resolve.x - (toggle.x + toggle.width));
    assert.ok(gap >= 4, `Resolve and the contact button are ${gap}px apart`);
  }
  await page.context().close();
});
