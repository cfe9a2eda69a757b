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

// A visitor in the chat of a fresh page of the host site: the pre-chat form filled, the first
// message sent. Answers the page and the conversation the console sees.
async function visitorInChat(name, email, text) {
  const visitor = await (await b.newContext({ viewport: { width: 1000, height: 720 }, locale: 'en-US' })).newPage();
  visitor.on('pageerror', (e) => console.error('visitor page error:', e.message));
  await visitor.goto(siteUrl);
  await visitor.locator('#switchboard-widget .launcher').click();
  await visitor.fill('#switchboard-widget input[name=name]', name);
  await visitor.fill('#switchboard-widget input[name=email]', email);
  await visitor.fill('#switchboard-widget textarea[name=message]', text);
  await visitor.click('#switchboard-widget .prechat button[type=submit]');
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: text }).waitFor();
  const { data } = await hub.call('GET', `/api/v1/conversations?inbox=${inbox.id}`);
  const conversation = data.find((c) => c.summary?.last_message === text);
  return { visitor, conversation };
}

test('the launcher’s first paint is in the inbox colour, even while the session is on its way', async () => {
  await hub.call('PATCH', `/api/v1/inboxes/${inbox.id}`, { settings: { ...(await hub.call('GET', `/api/v1/inboxes/${inbox.id}`)).settings, color: '#0a7d4f' } });
  const context = await b.newContext({ viewport: { width: 1000, height: 720 }, locale: 'en-US' });
  const visitor = await context.newPage();
  // A slow network: the session answers a second late.
  await visitor.route('**/widget/v1/sessions', async (route) => {
    await new Promise((r) => setTimeout(r, 1000));
    await route.continue();
  });
  // Every frame, the launcher's background whenever it can be seen.
  await visitor.addInitScript(() => {
    window.launcherPaints = [];
    const look = () => {
      const launcher = document.querySelector('#switchboard-widget')?.shadowRoot?.querySelector('.launcher');
      if (launcher && launcher.checkVisibility()) window.launcherPaints.push(getComputedStyle(launcher).backgroundColor);
      requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
  });
  await visitor.goto(siteUrl);
  await visitor.locator('#switchboard-widget .launcher').waitFor({ state: 'visible', timeout: 5000 });
  await visitor.waitForTimeout(200);
  const paints = await visitor.evaluate(() => window.launcherPaints);
  assert.ok(paints.length > 0, 'the launcher was seen');
  assert.deepEqual([...new Set(paints)], ['rgb(10, 125, 79)'], 'every visible frame in the inbox colour');
  await context.close();
});

test('after the visitor’s own send, with Enter or the Send button, the caret stays in the box', async () => {
  const { visitor } = await visitorInChat('Ines', 'ines@example.org', 'Do you have size 38?');
  const box = visitor.locator('#switchboard-widget .panel form:not(.prechat) textarea');
  const focused = () => box.evaluate((el) => el.getRootNode().activeElement === el);
  await box.click();
  await visitor.keyboard.type('In red, please');
  await visitor.keyboard.press('Enter');
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: 'In red, please' }).waitFor();
  assert.equal(await focused(), true, 'in the box after Enter');
  await box.fill('Or in blue');
  await visitor.click('#switchboard-widget .panel .send');
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: 'Or in blue' }).waitFor();
  assert.equal(await focused(), true, 'in the box after the Send button');
  // Writing on goes into the box.
  await visitor.keyboard.type('Thanks');
  assert.equal(await box.inputValue(), 'Thanks');
});

test('once an agent has replied, the widget shows no place in the queue, also after a reload', async () => {
  const { visitor, conversation } = await visitorInChat('Omar', 'omar@example.org', 'Is anyone there?');
  const info = visitor.locator('#switchboard-widget .info');
  await info.filter({ hasText: 'in the queue' }).waitFor({ timeout: 5000 });
  // An agent answers without taking the conversation: it stays unassigned.
  await hub.call('POST', `/api/v1/conversations/${conversation.id}/messages`, { text: 'Yes, I am here.' });
  await visitor.locator('#switchboard-widget .msg.outgoing', { hasText: 'Yes, I am here.' }).waitFor({ timeout: 5000 });
  await visitor.waitForTimeout(300);
  assert.doesNotMatch(await info.innerText(), /queue/);
  await visitor.reload();
  await visitor.locator('#switchboard-widget .launcher').click();
  await visitor.locator('#switchboard-widget .msg.outgoing', { hasText: 'Yes, I am here.' }).waitFor();
  await visitor.waitForTimeout(1000);
  assert.doesNotMatch(await info.innerText(), /queue/);
  const { position } = await visitor.evaluate(async ([hubUrl, id, key]) => {
    const token = localStorage.getItem(key);
    const r = await fetch(`${hubUrl}/widget/v1/conversations/${id}/queue`, { headers: { Authorization: `Bearer ${token}` } });
    return r.json();
  }, [hub.url, conversation.id, `switchboard.visitor.${inbox.settings.website_token}`]);
  assert.equal(position, 0, 'the hub says so too');
});

test('the visitor sees "Seen" once an agent opens the conversation, live and after a reload', async () => {
  const { visitor } = await visitorInChat('Lena', 'lena@example.org', 'Can I change my address?');
  const seen = visitor.locator('#switchboard-widget .msg.incoming .receipt', { hasText: 'Seen' });
  assert.equal(await seen.count(), 0, 'nobody has read it yet');
  const agent = await consoleFor(b, hub, OWNER);
  await agent.click('[data-view="all"]');
  await agent.locator('.conversation-list .row', { hasText: 'Can I change my address?' }).click();
  await agent.waitForSelector('.message.incoming >> text=Can I change my address?');
  await seen.waitFor({ timeout: 5000 });
  // Under the visitor's last message only.
  const last = visitor.locator('#switchboard-widget .msg.incoming').last();
  assert.equal(await last.locator('.receipt').innerText(), 'Seen');
  await visitor.screenshot({ path: join(shots, 'widget-seen.png') });
  await visitor.reload();
  await visitor.locator('#switchboard-widget .launcher').click();
  await seen.waitFor({ timeout: 5000 });
  await agent.context().close();
});
