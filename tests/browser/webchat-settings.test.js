// A website chat inbox's settings in the console: the owner changes the widget's colour and
// pre-chat form and sees the real widget change in the preview before saving; a refusal from
// the hub shows beside its field and keeps the draft; once saved, the widget on a site of
// another origin wears the new colour and asks the new questions. The embed snippet is on the
// inbox's page with a Copy button, and an agent's reply in an unassigned conversation makes it
// theirs, live in the console.

import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { browser, consoleFor, Hub, OWNER, shots, until } from './harness.js';

let hub;
let b;
let site;
let siteUrl;
let inbox;
let snippet;

const TEAL = { hex: '#0f766e', rgb: 'rgb(15, 118, 110)' };
const BLUE = 'rgb(37, 99, 235)';

before(async () => {
  hub = await Hub.start();
  b = await browser();
  inbox = await hub.inbox('Website', 'web_chat');
  snippet = inbox.embed_snippet;
  site = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Acme shop</h1>${snippet}</body></html>`);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  // localhost, not 127.0.0.1: another origin than the hub's.
  siteUrl = `http://localhost:${site.address().port}/`;
});

after(async () => {
  if (b) await b.close();
  if (site) site.close();
  if (hub) await hub.stop();
});

const background = (locator) => () => locator.evaluate((e) => getComputedStyle(e).backgroundColor);

async function openCard(page) {
  // By address: a phone's top bar has no room for the Settings link.
  await page.evaluate(() => {
    location.hash = '#/settings/inboxes';
  });
  const card = page.locator(`.webchat-card[data-inbox-id="${inbox.id}"]`);
  await card.waitFor();
  const preview = page.frameLocator(`.webchat-card[data-inbox-id="${inbox.id}"] iframe.widget-preview`);
  return { card, preview };
}

test('the owner edits colour and pre-chat form: the preview follows before saving, the hub refuses beside the field', async () => {
  const page = await consoleFor(b, hub, OWNER, { width: 1366, height: 900 });
  const { card, preview } = await openCard(page);
  const launcher = preview.locator('#switchboard-widget .launcher');
  await until(background(launcher), BLUE);

  // A colour white text cannot be read on is refused beside the field, before any save.
  const hex = card.locator('input[data-field="color"]');
  await hex.fill('#ffd400');
  await card.locator('[data-row="color"] .field-error', { hasText: '4.5:1' }).waitFor();
  assert.equal(await hex.getAttribute('aria-invalid'), 'true');
  await hex.fill(TEAL.hex);
  assert.equal(await card.locator('[data-row="color"] .field-error').textContent(), '');
  await until(background(launcher), TEAL.rgb);

  // The pre-chat form: on, an order number and a topic list.
  await card.locator('input[data-field="prechat.enabled"]').check();
  await card.locator('.add-field').click();
  await card.locator('input[data-field="prechat.fields[0].name"]').fill('order');
  await card.locator('input[data-field="prechat.fields[0].label"]').fill('Order number');
  await card.locator('.add-field').click();
  await card.locator('input[data-field="prechat.fields[1].name"]').fill('topic');
  await card.locator('input[data-field="prechat.fields[1].label"]').fill('Topic');
  await card.locator('select[data-field="prechat.fields[1].type"]').selectOption('select');
  await card.locator('textarea[data-field="prechat.fields[1].options"]').fill('Shipping\nReturns');
  await card.locator('input[data-field="prechat.fields[1].required"]').check();
  const form = preview.locator('#switchboard-widget .prechat');
  await form.locator('input[name=order]').waitFor({ timeout: 3000 });
  await form.locator('select[name=topic] option', { hasText: 'Returns' }).waitFor({ state: 'attached' });
  await form.locator('label', { hasText: 'Topic *' }).waitFor();
  // Moving a field moves it in the preview too.
  await card.locator('li.prechat-field[data-index="1"] button[data-move="up"]').click();
  await until(() => form.locator('label').first().locator('select[name=topic]').count(), 1);

  // Nothing is saved yet: a visitor would still get the old widget.
  let stored = await hub.call('GET', `/api/v1/inboxes/${inbox.id}`);
  assert.equal(stored.settings.color, '#2563eb');
  assert.equal(stored.settings.prechat.enabled, false);

  // A third field named like the first: the hub refuses, beside that field; the draft stays.
  await card.locator('.add-field').click();
  await card.locator('input[data-field="prechat.fields[2].name"]').fill('order');
  await card.locator('input[data-field="prechat.fields[2].label"]').fill('Order again');
  await card.locator('.webchat-form button[type=submit]').click();
  const refused = card.locator('[data-row="prechat.fields[2].name"] .field-error');
  await refused.filter({ hasText: 'another pre-chat field has this name' }).waitFor();
  assert.equal(
    await card.locator('input[data-field="prechat.fields[2].name"]').getAttribute('aria-invalid'),
    'true',
  );
  assert.equal(await hex.inputValue(), TEAL.hex, 'the draft is kept');
  assert.equal(await card.locator('input[data-field="prechat.fields[0].name"]').inputValue(), 'topic');
  stored = await hub.call('GET', `/api/v1/inboxes/${inbox.id}`);
  assert.equal(stored.settings.color, '#2563eb', 'nothing was saved');

  await card.locator('li.prechat-field[data-index="2"] .remove-field').click();
  await card.locator('.webchat-form button[type=submit]').click();
  await card.locator('.webchat-status.saved').waitFor();
  stored = await hub.call('GET', `/api/v1/inboxes/${inbox.id}`);
  assert.equal(stored.settings.color, TEAL.hex);
  assert.deepEqual(
    stored.settings.prechat.fields.map((f) => [f.name, f.type, f.required, f.options]),
    [
      ['topic', 'select', true, ['Shipping', 'Returns']],
      ['order', 'text', false, []],
    ],
  );
  // The preview made no visitor: the only contacts are none at all.
  const contacts = await hub.call('GET', '/api/v1/contacts');
  assert.equal(contacts.data.length, 0, 'the preview created a contact');
  await page.screenshot({ path: join(shots, 'settings-webchat-en.png'), fullPage: true });
});

test('the embed snippet is on the inbox page, and Copy puts it on the clipboard', async () => {
  const page = await consoleFor(b, hub, OWNER, { width: 1366, height: 900 });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
  const { card } = await openCard(page);
  const shown = card.locator('.embed-snippet');
  assert.equal(await shown.textContent(), snippet);
  await card.locator('.webchat-embed button.copy').click();
  await card.locator('.webchat-embed [role=status]', { hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippet);
});

test('after saving, the widget on another origin wears the new colour and asks the new questions', async () => {
  const visitor = await (
    await b.newContext({ viewport: { width: 1000, height: 720 }, locale: 'en-US' })
  ).newPage();
  visitor.on('pageerror', (e) => console.error('visitor page error:', e.message));
  await visitor.goto(siteUrl);
  const launcher = visitor.locator('#switchboard-widget .launcher');
  await launcher.waitFor();
  await until(background(launcher), TEAL.rgb);
  await launcher.click();
  await visitor.selectOption('#switchboard-widget select[name=topic]', 'Returns');
  await visitor.fill('#switchboard-widget input[name=order]', 'A-77');
  await visitor.fill('#switchboard-widget textarea[name=message]', 'The kettle leaks');
  await visitor.click('#switchboard-widget .prechat button[type=submit]');
  await visitor.locator('#switchboard-widget .msg.incoming', { hasText: 'The kettle leaks' }).waitFor();
});

test('an agent who replies in an unassigned conversation gets it, live in the console', async () => {
  const ana = await hub.agent('Ana', 'ana@example.com', [inbox.id]);
  const page = await consoleFor(b, hub, ana);
  await page.click('[data-view="unassigned"]');
  await page.locator('.conversation-list .row', { hasText: 'The kettle leaks' }).click();
  const assign = page.locator('.thread-header .assign');
  assert.equal(await assign.inputValue(), '');
  await page.fill('.reply-input', 'Sorry to hear that: a new one is on its way.');
  await page.press('.reply-input', 'Enter');
  await until(() => assign.inputValue(), String(ana.id));
  // The console isolates names (U+2068…U+2069) so they never reorder a right-to-left line.
  await page.locator('.activity', { hasText: /\u2068Ana\u2069 replied and was assigned/ }).waitFor();
  const { data } = await hub.call('GET', `/api/v1/conversations?inbox=${inbox.id}`);
  assert.equal(data[0].assignee_id, ana.id);
});

test('the card reads right to left in Persian and fits a phone', async () => {
  const context = await b.newContext({ viewport: { width: 1366, height: 900 }, locale: 'fa-IR' });
  const page = await context.newPage();
  await page.goto(hub.url);
  await page.fill('input[name=email]', OWNER.email);
  await page.fill('input[name=password]', OWNER.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.connection[data-state="live"]');
  const { card, preview } = await openCard(page);
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
  await card.locator('h3', { hasText: 'ابزارک گفتگوی وب‌سایت' }).waitFor();
  // The preview speaks the console's language, right to left.
  await until(() => preview.locator('#switchboard-widget .panel').getAttribute('dir'), 'rtl');
  await preview
    .locator('#switchboard-widget .prechat button[type=submit]', { hasText: 'شروع گفتگو' })
    .waitFor();
  await page.screenshot({ path: join(shots, 'settings-webchat-fa.png'), fullPage: true });

  const phone = await consoleFor(b, hub, OWNER, { width: 390, height: 844 });
  const small = await openCard(phone);
  await small.card.scrollIntoViewIfNeeded();
  await small.card.locator('.webchat-form button[type=submit]').focus();
  await phone.screenshot({ path: join(shots, 'settings-webchat-phone.png'), fullPage: true });
  // Nothing of the card reaches past the screen's edge (the top bar is not this card's).
  const wide = await phone.evaluate(() =>
    [...document.querySelectorAll('.webchat-card, .webchat-card *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .map((e) => `${e.tagName}.${e.className}`),
  );
  assert.deepEqual(wide, []);
  const box = await small.card.boundingBox();
  assert.ok(box.width <= 390, `the card is ${box.width}px wide`);
});

test('business hours are a week in a time zone from the browser; the preview shows the away state', async () => {
  const page = await consoleFor(b, hub, OWNER, { width: 1366, height: 900 });
  const { card, preview } = await openCard(page);
  await card.locator('input[data-field="business_hours"]').check();
  const zones = await card.locator('select[data-field="business_hours.timezone"] option').allTextContents();
  assert.ok(zones.includes('Asia/Tehran') && zones.length > 100, `${zones.length} time zones`);
  await card.locator('select[data-field="business_hours.timezone"]').selectOption('Asia/Tehran');
  assert.equal(await card.locator('.hours-table tbody tr').count(), 7);
  await card.locator('tr[data-day="sat"] input[type=checkbox]').check();
  await card.locator('tr[data-day="sat"] input[type=time] >> nth=0').fill('08:30');
  await card.locator('textarea[data-field="away_message"]').fill('Back on Saturday at 8:30');

  // Away: the widget's status line, the away message and the email it then asks for.
  await card.locator('input[name=preview_away]').check();
  const panel = preview.locator('#switchboard-widget .panel');
  await panel.locator('.status', { hasText: 'We are away right now.' }).waitFor();
  await panel.locator('.prechat input[name=email]').waitFor();

  await card.locator('.webchat-form button[type=submit]').click();
  await card.locator('.webchat-status.saved').waitFor();
  const stored = await hub.call('GET', `/api/v1/inboxes/${inbox.id}`);
  assert.equal(stored.settings.business_hours.timezone, 'Asia/Tehran');
  assert.deepEqual(stored.settings.business_hours.days.sat, [['08:30', '17:00']]);
  assert.equal(stored.settings.away_message, 'Back on Saturday at 8:30');
});
