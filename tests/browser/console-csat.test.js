// The team's side of what customers say and of replies that did not get through: a visitor's
// rating shows live in the conversation and in the contact pane; a reply whose answer was lost
// shows why in its bubble, and Retry stores it once (the same client id).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Hub, browser, consoleFor, shots, OWNER } from './harness.js';

let hub; let b; let chat; let api; let agent;

before(async () => {
  hub = await Hub.start();
  b = await browser();
  chat = await hub.inbox('Website', 'web_chat');
  await hub.call('PATCH', `/api/v1/inboxes/${chat.id}`, { settings: { ...chat.settings, csat: true } });
  api = await hub.inbox('Support');
  agent = await consoleFor(b, hub, OWNER);
  await agent.click('[data-view="all"]');
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
});

async function visitorWrites(text) {
  const session = await hub.call('POST', '/widget/v1/sessions', { website_token: chat.settings.website_token });
  const token = session.visitor_token;
  const posted = await hub.call('POST', '/widget/v1/messages', { client_id: crypto.randomUUID(), text }, token);
  return { token, conversationId: posted.conversation_id };
}

test('a rating shows live in the thread header and the contact pane', async () => {
  const { token, conversationId } = await visitorWrites('Where is my order?');
  await agent.locator('.conversation-list .row', { hasText: 'Where is my order?' }).click();
  await agent.waitForSelector('.message.incoming >> text=Where is my order?');
  await agent.click('.thread-header .resolve');
  await agent.waitForSelector('.thread-header .status-resolved');
  assert.equal(await agent.locator('.thread-header .csat').count(), 0, 'not rated yet');

  await hub.call('POST', `/widget/v1/conversations/${conversationId}/rating`, { score: 4, comment: 'Fast and kind' }, token);
  const line = agent.locator('.thread-header .csat');
  await line.waitFor({ timeout: 3000 });
  assert.equal(await line.locator('.csat-stars').getAttribute('data-score'), '4');
  assert.equal(await line.locator('.csat-stars').getAttribute('aria-label'), 'Rated 4 of 5');
  assert.match(await line.innerText(), /Fast and kind/);
  const pane = agent.locator('.contact-pane .csat-list li');
  await pane.first().waitFor({ timeout: 3000 });
  assert.match(await pane.first().innerText(), new RegExp(`#${conversationId}[\\s\\S]*Fast and kind`));
  await agent.screenshot({ path: join(shots, 'console-csat.png') });

  // Opened afresh, the rating is still there.
  await agent.reload();
  await agent.waitForSelector('.connection[data-state="live"]');
  await agent.locator('.thread-header .csat', { hasText: 'Fast and kind' }).waitFor({ timeout: 5000 });
});

test('a reply whose answer was lost shows why, and Retry stores it once', async () => {
  const { conversation_id: id } = await hub.customerSays(api.id, { identifier: 'rita', name: 'Rita' }, 'Can I pay by invoice?', 'r-1');
  await agent.locator('.conversation-list .row', { hasText: 'Can I pay by invoice?' }).click();
  await agent.waitForSelector('.message.incoming >> text=Can I pay by invoice?');

  // The first try reaches the hub and is stored, but its answer never comes back.
  const sent = [];
  let lose = true;
  await agent.route(`**/api/v1/conversations/${id}/messages`, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    sent.push(JSON.parse(route.request().postData()));
    if (lose) {
      lose = false;
      await route.fetch();
      return route.abort('connectionfailed');
    }
    return route.continue();
  });
  await agent.fill('.reply-input', 'Yes, invoices are fine.');
  await agent.press('.reply-input', 'Enter');
  const failed = agent.locator('.message.send-failed');
  await failed.waitFor({ timeout: 3000 });
  assert.match(await failed.locator('.send-reason').innerText(), /could not be reached/);
  assert.equal(await agent.inputValue('.reply-input'), '', 'the words moved into the thread');
  await failed.screenshot({ path: join(shots, 'console-failed-reply-bubble.png') });
  await agent.screenshot({ path: join(shots, 'console-failed-reply.png') });

  await failed.locator('button.retry').click();
  await failed.waitFor({ state: 'detached', timeout: 3000 });
  assert.equal(sent.length, 2);
  assert.ok(sent[0].client_id, 'the console made a client id');
  assert.equal(sent[1].client_id, sent[0].client_id, 'the retry reused it');
  const stored = await hub.call('GET', `/api/v1/conversations/${id}/messages`);
  assert.equal(stored.data.filter((m) => m.text === 'Yes, invoices are fine.').length, 1, 'stored once');
  await agent.waitForTimeout(300);
  assert.equal(await agent.locator('.message.outgoing', { hasText: 'Yes, invoices are fine.' }).count(), 1, 'shown once');
  await agent.unroute(`**/api/v1/conversations/${id}/messages`);
});
