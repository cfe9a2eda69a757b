// Email in the console: a customer's reply shows the words they wrote, with the quoted history
// and the original formatting one click away; an email reply can copy more people.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Hub, OWNER, browser, consoleFor, deliver, freePort, shots } from './harness.js';

let hub; let b; let page; let inbox; let smtpPort;

before(async () => {
  smtpPort = await freePort();
  hub = await Hub.start({ SWITCHBOARD__EMAIL__INBOUND_SMTP_ADDR: `127.0.0.1:${smtpPort}` });
  b = await browser();
  inbox = await hub.call('POST', '/api/v1/inboxes', { name: 'Support mail', kind: 'email', email: { address: 'help@acme.test' } });
  page = await consoleFor(b, hub, OWNER);
  await page.click('[data-view="all"]');
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
});

test('a customer\'s mail shows their words; the quoted history is one click away', async () => {
  await deliver(smtpPort, 'bob@customer.test', 'help@acme.test', [
    'From: Bob Customer <bob@customer.test>', 'To: help@acme.test', 'Subject: Re: Order 42',
    'Message-ID: <r1@customer.test>', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', 'Thanks, the new part fits.', '',
    'On Mon, Acme Support <help@acme.test> wrote:', '> Try the new part.', '--b',
    'Content-Type: text/html; charset=utf-8', '',
    '<p>Thanks, the new part <b>fits</b>.</p><blockquote>Try the new part.</blockquote><script>alert(1)</script>', '--b--',
  ].join('\n'));
  const row = page.locator('.conversation-list .row', { hasText: 'Thanks, the new part fits.' });
  await row.waitFor({ timeout: 10000 });
  await row.click();
  const message = page.locator('.message.incoming').last();
  await message.locator('.text', { hasText: 'Thanks, the new part fits.' }).waitFor();
  assert.equal(await message.locator('.text').innerText(), 'Thanks, the new part fits.', 'no quoted history in view');
  const original = message.locator('details.original');
  assert.equal(await original.getAttribute('open'), null);
  await original.locator('summary').click();
  const frame = page.frameLocator('.message.incoming details.original iframe');
  await frame.locator('blockquote', { hasText: 'Try the new part.' }).waitFor();
  assert.equal(await frame.locator('script').count(), 0, 'scripts were sanitised away');
  await page.screenshot({ path: join(shots, 'console-email.png') });
});

test('an email reply can copy and blind-copy more people', async () => {
  await page.fill('.copies-row input:nth-child(1)', 'boss@customer.test, team@customer.test');
  await page.fill('.copies-row input:nth-child(2)', 'audit@acme.test');
  await page.fill('.reply-input', 'Glad it fits!');
  await page.press('.reply-input', 'Enter');
  await page.waitForSelector('.message.outgoing >> text=Glad it fits!');
  const conversations = await hub.call('GET', `/api/v1/conversations?inbox=${inbox.id}`);
  const messages = await hub.call('GET', `/api/v1/conversations/${conversations.data[0].id}/messages`);
  const sent = messages.data.find((m) => m.text === 'Glad it fits!');
  assert.deepEqual(sent.meta.email.cc, ['boss@customer.test', 'team@customer.test']);
  assert.deepEqual(sent.meta.email.bcc, ['audit@acme.test']);
});
