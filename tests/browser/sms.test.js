// An SMS conversation through Twilio, end to end in the console: a customer's text comes in by
// Twilio's signed webhook, the agent answers in the console, the reply reaches a local stand-in
// for Twilio's Messages API with the right To, From and Body, and Twilio's status callbacks
// move it to delivered and then read while the agent watches, without a reload.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { browser, consoleFor, Hub, OWNER, shots } from './harness.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'fedcba9876543210'.repeat(2);
const INBOX_NUMBER = '+14155550199';
const CUSTOMER = '+14155550100';
// The address Twilio calls, and signs: the hub is told it is its public URL.
const PUBLIC_URL = 'https://hub.example.test';

let hub;
let b;
let page;
let twilio;
// What the stand-in's Messages API was handed, as form fields.
const sent = [];

// Twilio's Messages API as its documentation has it: basic auth with the account SID and auth
// token, a form body, 201 with the new message's `sid`.
function startTwilio() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const auth = Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
        const path = `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
        if (req.method !== 'POST' || req.url !== path || req.headers.authorization !== `Basic ${auth}`) {
          res.writeHead(401, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ code: 20003, message: 'Authenticate', status: 401 }));
          return;
        }
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
        sent.push(form);
        const sid = `SM${String(sent.length).padStart(32, '0')}`;
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ sid, status: 'queued', to: form.To, from: form.From, body: form.Body }));
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token, of the URL Twilio called
// followed by each POST parameter's name and value, sorted by name.
function twilioSignature(url, params) {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', AUTH_TOKEN).update(data).digest('base64');
}

async function twilioCalls(inboxId, params) {
  const path = `/hooks/sms/${inboxId}`;
  const response = await fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Twilio-Signature': twilioSignature(`${PUBLIC_URL}${path}`, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  assert.equal(response.status, 200, await response.text());
}

async function sentNumber(n) {
  const deadline = Date.now() + 10_000;
  while (sent.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(sent.length >= n, `Twilio was never handed message ${n} (${sent.length} so far)`);
  return sent[n - 1];
}

before(async () => {
  twilio = await startTwilio();
  hub = await Hub.start({
    SWITCHBOARD__OUTBOUND__ALLOW_HOSTS: '127.0.0.1',
    SWITCHBOARD__SERVER__PUBLIC_URL: PUBLIC_URL,
    SWITCHBOARD__PROVIDERS__TWILIO_API_URL: `http://127.0.0.1:${twilio.address().port}`,
  });
  b = await browser();
  page = await consoleFor(b, hub, OWNER);
  await page.evaluate(() => {
    window.notReloaded = true;
  });
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
  if (twilio) twilio.close();
});

test('an SMS reply reaches Twilio and shows delivered and read live from its status callbacks', async () => {
  const inbox = await hub.call('POST', '/api/v1/inboxes', {
    name: 'Texts',
    kind: 'sms',
    provider: 'twilio',
    settings: { account_sid: ACCOUNT_SID, auth_token: AUTH_TOKEN, from: INBOX_NUMBER },
  });
  assert.equal(inbox.webhook_url, `${PUBLIC_URL}/hooks/sms/${inbox.id}`);
  await twilioCalls(inbox.id, {
    MessageSid: `SM${'a'.repeat(32)}`,
    SmsSid: `SM${'a'.repeat(32)}`,
    AccountSid: ACCOUNT_SID,
    From: CUSTOMER,
    To: INBOX_NUMBER,
    Body: 'Is my table for four still booked?',
    NumMedia: '0',
    SmsStatus: 'received',
    ApiVersion: '2010-04-01',
  });

  await page.reload();
  await page.click('[data-view="all"]');
  const row = page.locator('.conversation-list .row', { hasText: 'Is my table for four still booked?' });
  await row.waitFor();
  assert.equal(await row.locator('.channel .sr-only').textContent(), 'SMS');
  await row.click();
  await page.evaluate(() => {
    window.notReloaded = true;
  });
  await page.fill('.reply-input', 'It is: see you at eight.');
  await page.press('.reply-input', 'Enter');

  const out = await sentNumber(1);
  assert.deepEqual([out.To, out.From, out.Body], [CUSTOMER, INBOX_NUMBER, 'It is: see you at eight.']);
  assert.equal(out.StatusCallback, inbox.webhook_url);
  const status = page.locator('.message.outgoing', { hasText: 'It is: see you at eight.' }).locator('.delivery');
  await status.and(page.locator('[data-status="sent"]')).waitFor();

  const callback = (messageStatus) =>
    twilioCalls(inbox.id, {
      MessageSid: `SM${'0'.repeat(31)}1`,
      MessageStatus: messageStatus,
      AccountSid: ACCOUNT_SID,
      From: INBOX_NUMBER,
      To: CUSTOMER,
      ApiVersion: '2010-04-01',
    });
  await callback('delivered');
  await status.and(page.locator('[data-status="delivered"]')).waitFor({ timeout: 3000 });
  await callback('read');
  await status.and(page.locator('[data-status="read"]')).waitFor({ timeout: 3000 });
  // A late callback moves nothing back.
  await callback('sent');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await status.getAttribute('data-status'), 'read');
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'no reload');
  await page.screenshot({ path: join(shots, 'console-sms-read.png') });
});
