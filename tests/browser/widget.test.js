// The website widget in headless Chromium, embedded in a page of another origin: a visitor fills
// the pre-chat form and writes, an agent answers from the console, the visitor sees it live,
// reloads and keeps the history, and rates once the conversation is resolved; a reply arriving
// while the visitor writes leaves the draft alone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { Hub, browser, consoleFor, shots, OWNER } from './harness.js';

let hub; let b; let site; let siteUrl; let inbox;

function hostPage(locale) {
  // The host page's own CSS tries hard to break whatever it can reach.
  return `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>* { color: red !important; font-size: 40px !important; } button { display: none !important; }</style></head>
<body><h1>Acme shop</h1>
<script src="${hub.url}/widget.js" data-website-token="${inbox.settings.website_token}" ${locale ? `data-locale="${locale}"` : ''} async></script>
</body></html>`;
}

before(async () => {
  hub = await Hub.start();
  b = await browser();
  inbox = await hub.inbox('Website', 'web_chat');
  await hub.call('PATCH', `/api/v1/inboxes/${inbox.id}`, { settings: {
    ...inbox.settings,
    greeting: 'Hi! How can we help?',
    csat: true,
    prechat: { enabled: true, fields: [
      { name: 'name', label: 'Name', type: 'text', required: true },
      { name: 'email', label: 'Email', type: 'email', required: true },
      { name: 'order', label: 'Order number', type: 'text', required: false },
    ] },
  } });
  site = http.createServer((req, res) => {
    const locale = new URL(req.url, 'http://x').searchParams.get('locale');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(hostPage(locale));
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://localhost:${site.address().port}/`;
});

after(async () => {
  if (b) await b.close();
  if (site) site.close();
  if (hub) await hub.stop();
});

test('a visitor and an agent talk live; history survives a reload; the visitor rates', async () => {
  const visitor = await (await b.newContext({ viewport: { width: 1000, height: 720 }, locale: 'en-US' })).newPage();
  visitor.on('pageerror', (e) => console.error('visitor page error:', e.message));
  await visitor.goto(siteUrl);
  const launcher = visitor.locator('#switchboard-widget .launcher');
  // The host page hides every button and paints everything red: not inside the shadow root.
  await launcher.waitFor({ state: 'visible', timeout: 5000 });
  assert.notEqual(await launcher.evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(255, 0, 0)');
  await launcher.click();
  await visitor.fill('#switchboard-widget input[name=name]', 'Nora');
  await visitor.fill('#switchboard-widget input[name=email]', 'nora@example.org');
  await visitor.fill('#switchboard-widget input[name=order]', 'A-1001');
  await visitor.fill('#switchboard-widget textarea[name=message]', 'Do you ship to Crete?');
  await visitor.click('#switchboard-widget .prechat button[type=submit]');
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: 'Do you ship to Crete?' }).waitFor();
  await visitor.screenshot({ path: join(shots, 'widget-en.png') });

  const agent = await consoleFor(b, hub, OWNER);
  await agent.click('[data-view="all"]');
  await agent.locator('.conversation-list .row', { hasText: 'Do you ship to Crete?' }).click();
  await agent.waitForSelector('.contact-pane >> text=nora@example.org');
  // A pre-chat email is what the visitor typed: the contact pane says it is unverified.
  await agent.locator('.contact-pane .unverified').waitFor();
  await agent.screenshot({ path: join(shots, 'console-unverified-email.png') });
  await agent.fill('.reply-input', 'Yes, in two days.');
  await agent.press('.reply-input', 'Enter');
  await visitor.locator('#switchboard-widget .msg.outgoing', { hasText: 'Yes, in two days.' }).waitFor({ timeout: 3000 });

  await visitor.reload();
  await visitor.locator('#switchboard-widget .launcher').click();
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: 'Do you ship to Crete?' }).waitFor();
  await visitor.locator('#switchboard-widget .msg.outgoing', { hasText: 'Yes, in two days.' }).waitFor();

  await agent.click('.thread-header .resolve');
  await visitor.locator('#switchboard-widget .stars button[data-score="5"]').click({ timeout: 5000 });
  await visitor.locator('#switchboard-widget .rating', { hasText: 'Thank you' }).waitFor();
  const { events } = await hub.call('GET', '/api/v1/events?after=0&limit=1000');
  const rated = events.filter((e) => e.kind === 'conversation.rated');
  assert.equal(rated.length, 1);
  assert.equal(rated[0].payload.score, 5);
});

test('the widget speaks Persian right to left', async () => {
  const visitor = await (await b.newContext({ viewport: { width: 1000, height: 720 } })).newPage();
  await visitor.goto(`${siteUrl}?locale=fa`);
  await visitor.locator('#switchboard-widget .launcher').click();
  const panel = visitor.locator('#switchboard-widget .panel');
  assert.equal(await panel.getAttribute('dir'), 'rtl');
  assert.ok((await panel.boundingBox()).x < 500, 'the panel opens on the left');
  await visitor.locator('#switchboard-widget .prechat button[type=submit]', { hasText: 'شروع گفتگو' }).waitFor();
  await visitor.fill('#switchboard-widget input[name=name]', 'نرگس');
  await visitor.fill('#switchboard-widget input[name=email]', 'narges@example.org');
  await visitor.fill('#switchboard-widget textarea[name=message]', 'سلام، آیا به شیراز ارسال دارید؟');
  await visitor.click('#switchboard-widget .prechat button[type=submit]');
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: 'شیراز' }).waitFor();
  await visitor.screenshot({ path: join(shots, 'widget-fa.png') });
});

test('a visitor sends a picture: the widget takes `image/*` as the inbox allows it', async () => {
  const visitor = await (await b.newContext({ viewport: { width: 1000, height: 720 }, locale: 'en-US' })).newPage();
  visitor.on('pageerror', (e) => console.error('visitor page error:', e.message));
  await visitor.goto(siteUrl);
  await visitor.locator('#switchboard-widget .launcher').click();
  await visitor.fill('#switchboard-widget input[name=name]', 'Pia');
  await visitor.fill('#switchboard-widget input[name=email]', 'pia@example.org');
  await visitor.fill('#switchboard-widget textarea[name=message]', 'Here is the broken part');
  await visitor.click('#switchboard-widget .prechat button[type=submit]');
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: 'Here is the broken part' }).waitFor();
  // A 1×1 PNG: the inbox allows `image/*`, which once matched no file type in the widget.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  await visitor.setInputFiles('#switchboard-widget input[type=file]', { name: 'part.png', mimeType: 'image/png', buffer: png });
  await visitor.locator('#switchboard-widget .msg.incoming a', { hasText: 'part.png' }).waitFor({ timeout: 5000 });
});

test('an agent reply leaves the visitor’s unsent draft, its caret and focus as they were', async () => {
  const visitor = await (await b.newContext({ viewport: { width: 1000, height: 720 }, locale: 'en-US' })).newPage();
  visitor.on('pageerror', (e) => console.error('visitor page error:', e.message));
  await visitor.goto(siteUrl);
  await visitor.locator('#switchboard-widget .launcher').click();
  await visitor.fill('#switchboard-widget input[name=name]', 'Dana');
  await visitor.fill('#switchboard-widget input[name=email]', 'dana@example.org');
  await visitor.fill('#switchboard-widget textarea[name=message]', 'Is the blue kettle back in stock?');
  await visitor.click('#switchboard-widget .prechat button[type=submit]');
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: 'blue kettle' }).waitFor();

  // The visitor starts an answer, goes back to fix a word, and has not sent it.
  const box = visitor.locator('#switchboard-widget .panel form:not(.prechat) textarea');
  await box.click();
  await visitor.keyboard.type('I would take two of them');
  await box.evaluate((el) => el.setSelectionRange(8, 12));

  const { data } = await hub.call('GET', `/api/v1/conversations?inbox=${inbox.id}`);
  const conversation = data.find((c) => c.summary?.last_message === 'Is the blue kettle back in stock?');
  await hub.call('POST', `/api/v1/conversations/${conversation.id}/messages`, { text: 'It is, since this morning.' });
  await visitor.locator('#switchboard-widget .msg.outgoing', { hasText: 'since this morning' }).waitFor({ timeout: 5000 });

  const composer = await box.evaluate((el) => ({
    value: el.value,
    focused: el.getRootNode().activeElement === el,
    caret: [el.selectionStart, el.selectionEnd],
  }));
  assert.deepEqual(composer, { value: 'I would take two of them', focused: true, caret: [8, 12] });
  // The draft goes on where the caret is.
  await visitor.keyboard.type('bring');
  assert.equal(await box.inputValue(), 'I would bring two of them');
});

test('the script adds nothing to the host page but window.Switchboard', async () => {
  const visitor = await (await b.newContext({ viewport: { width: 1000, height: 720 }, locale: 'en-US' })).newPage();
  await visitor.addInitScript(() => {
    window.globalsBefore = new Set(Object.keys(window));
  });
  await visitor.goto(siteUrl);
  await visitor.locator('#switchboard-widget .launcher').waitFor();
  const added = await visitor.evaluate(() =>
    Object.keys(window).filter((k) => !window.globalsBefore.has(k) && k !== 'globalsBefore'),
  );
  assert.deepEqual(added, ['Switchboard']);
});

test('the closed launcher already wears the inbox colour', async () => {
  const visitor = await (await b.newContext({ viewport: { width: 1000, height: 720 }, locale: 'en-US' })).newPage();
  await visitor.goto(siteUrl);
  const launcher = visitor.locator('#switchboard-widget .launcher');
  await launcher.waitFor();
  // The colour comes with the session; it was once only set when the panel opened, which left
  // a white icon on a see-through button until then.
  await visitor.waitForFunction(
    () => document.querySelector('#switchboard-widget').style.getPropertyValue('--c') !== '',
    null,
    { timeout: 5000 },
  );
  assert.notEqual(await launcher.evaluate((e) => getComputedStyle(e).backgroundColor), 'rgba(0, 0, 0, 0)');
});
