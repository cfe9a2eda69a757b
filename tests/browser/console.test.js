// The agents' console in headless Chromium: two agents at work, live updates without reloads,
// reply, note, assign, resolve, and a server killed and restarted under them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Hub, browser, consoleFor, shots } from './harness.js';

let hub; let b; let support; let billing; let ana; let bo; let anaPage; let boPage;

before(async () => {
  hub = await Hub.start();
  b = await browser();
  support = await hub.inbox('Support');
  billing = await hub.inbox('Billing');
  ana = await hub.agent('Ana', 'ana@example.com', [support.id]);
  bo = await hub.agent('Bo', 'bo@example.com', [support.id, billing.id]);
  await hub.call('POST', '/api/v1/canned_responses', { short_code: 'thanks', content: 'Thank you for your patience!' });
  anaPage = await consoleFor(b, hub, ana);
  boPage = await consoleFor(b, hub, bo);
  for (const page of [anaPage, boPage]) await page.click('[data-view="all"]');
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
});

const row = (page, text) => page.locator('.conversation-list .row', { hasText: text });

test('a customer message shows in the right agent\'s list within a second, without a reload', async () => {
  const sent = Date.now();
  await hub.customerSays(billing.id, { identifier: 'carla', name: 'Carla' }, 'My invoice is wrong', 'b-1');
  await row(boPage, 'My invoice is wrong').waitFor({ timeout: 1000 });
  const elapsed = Date.now() - sent;
  assert.ok(elapsed < 1000, `shown after ${elapsed} ms`);
  // Ana is not a member of Billing: nothing of it reaches her console.
  await anaPage.waitForTimeout(300);
  assert.equal(await row(anaPage, 'My invoice is wrong').count(), 0);
});

test('an agent replies and the other sees it live; canned responses come with /', async () => {
  const { conversation_id: id } = await hub.customerSays(support.id, { identifier: 'dario', name: 'Dario' }, 'Where is my parcel?', 's-1');
  await row(anaPage, 'Where is my parcel?').click();
  await row(boPage, 'Where is my parcel?').click();
  await anaPage.waitForSelector('.message.incoming >> text=Where is my parcel?');
  await anaPage.fill('.reply-input', '/tha');
  await anaPage.click('.canned li[data-code="thanks"]');
  assert.equal(await anaPage.inputValue('.reply-input'), 'Thank you for your patience!');
  await anaPage.fill('.reply-input', 'It ships today.');
  await anaPage.press('.reply-input', 'Enter');
  await boPage.waitForSelector('.message.outgoing >> text=It ships today.', { timeout: 2000 });
  const stored = await hub.call('GET', `/api/v1/conversations/${id}/messages`);
  assert.equal(stored.data.filter((m) => m.text === 'It ships today.').length, 1, 'sent once');
  await anaPage.screenshot({ path: join(shots, 'console-conversation.png') });
});

test('assign, note and resolve work from the conversation view and the keyboard', async () => {
  const { conversation_id: id } = await hub.customerSays(support.id, { identifier: 'eve', name: 'Eve' }, 'Refund please', 's-2');
  await row(anaPage, 'Refund please').click();
  await anaPage.waitForSelector('.message.incoming >> text=Refund please');
  await anaPage.selectOption('.thread-header .assign', String(bo.id));
  await boPage.click('[data-view="mine"]');
  await row(boPage, 'Refund please').waitFor({ timeout: 2000 });

  await anaPage.locator('body').press('n');
  assert.equal(await anaPage.evaluate(() => document.activeElement.className), 'reply-input');
  await anaPage.keyboard.type('Customer is a reseller');
  await anaPage.keyboard.press('Enter');
  await anaPage.waitForSelector('.message.note >> text=Customer is a reseller');

  await anaPage.locator('.messages').click();
  await anaPage.keyboard.press('e');
  await anaPage.waitForSelector('.thread-header .status-resolved');
  const conversation = await hub.call('GET', `/api/v1/conversations/${id}`);
  assert.equal(conversation.status, 'resolved');
  assert.equal(conversation.assignee_id, bo.id);
  const notes = (await hub.call('GET', `/api/v1/conversations/${id}/messages`)).data.filter((m) => m.direction === 'note');
  assert.deepEqual(notes.map((m) => m.text), ['Customer is a reseller']);
  // Resolved conversations leave Bo's open "mine" view by themselves.
  await row(boPage, 'Refund please').waitFor({ state: 'detached', timeout: 2000 });
  await boPage.click('[data-view="all"]');
});

test('kill -9 and restart: the console reconnects by itself and shows what arrived meanwhile', async () => {
  await hub.kill();
  await anaPage.waitForSelector('.connection[data-state="offline"]', { timeout: 5000 });
  await hub.restart();
  await hub.customerSays(support.id, { identifier: 'fatima', name: 'Fatima' }, 'Are you there?', 's-3');
  await row(anaPage, 'Are you there?').waitFor({ timeout: 35_000 });
  await anaPage.waitForSelector('.connection[data-state="live"]');
  await row(boPage, 'Are you there?').waitFor({ timeout: 35_000 });
  await anaPage.screenshot({ path: join(shots, 'console-inbox.png') });
});

test('right-to-left: a Persian console with Persian and Arabic messages, and a phone screen', async () => {
  await hub.customerSays(support.id, { identifier: 'reza', name: 'رضا' }, 'سلام، سفارش من کجاست؟', 's-4');
  await hub.customerSays(support.id, { identifier: 'layla', name: 'ليلى' }, 'مرحبا، أين طلبي؟', 's-5');
  const context = await b.newContext({ viewport: { width: 1280, height: 720 }, locale: 'fa-IR' });
  const page = await context.newPage();
  await page.goto(hub.url);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  await page.fill('input[name=email]', ana.email);
  await page.fill('input[name=password]', ana.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.connection[data-state="live"]');
  await page.click('[data-view="all"]');
  await row(page, 'سفارش من کجاست').click();
  await page.waitForSelector('.message.incoming >> text=سلام، سفارش من کجاست؟');
  // The sidebar sits on the right in RTL.
  const sidebar = await page.locator('.sidebar').boundingBox();
  assert.ok(sidebar.x > 640, `sidebar at x=${sidebar.x}`);
  await page.screenshot({ path: join(shots, 'console-rtl-fa.png') });

  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.locator('.thread-pane').isVisible());
  assert.ok(!(await page.locator('.list-pane').isVisible()), 'one column on a phone');
  await page.screenshot({ path: join(shots, 'console-phone.png') });
  await context.close();
});
