// Channel setup and delivery statuses in the console, in headless Chromium: an admin creates an
// API inbox with the form the hub describes, keeps the secret it shows once, sends a test
// message, answers a customer, and watches the reply go sent → delivered → read as the
// receiving system reports it, without a reload. Then the form with the keyboard only, right to left.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { browser, consoleFor, Hub, OWNER, shots } from './harness.js';

let hub;
let b;
let page;
let receiver;
let inbox;
let secret;
// What the integration's callback receiver was handed: { signature, raw, body }.
const callbacks = [];

// The system behind the API inbox: takes each callback and answers with its own id for it.
function startReceiver() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        callbacks.push({ signature: req.headers['x-switchboard-signature'], raw, body: JSON.parse(raw) });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: `crm-${callbacks.length}` }));
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function callbackNumber(n) {
  const deadline = Date.now() + 10_000;
  while (callbacks.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(callbacks.length >= n, `callback ${n} never came (${callbacks.length} so far)`);
  return callbacks[n - 1];
}

// As a receiver checks it: HMAC-SHA256 of "<t>.<raw body>" under the inbox's secret.
function signedWith(key, { signature, raw }) {
  const parts = Object.fromEntries(signature.split(',').map((p) => p.split('=')));
  const expected = createHmac('sha256', key).update(`${parts.t}.${raw}`).digest('hex');
  return expected === parts.v1;
}

before(async () => {
  receiver = await startReceiver();
  hub = await Hub.start({ SWITCHBOARD__OUTBOUND__ALLOW_HOSTS: '127.0.0.1' });
  b = await browser();
  page = await consoleFor(b, hub, OWNER);
  // Set once: a reload would lose it, so the tests can tell that nothing reloaded.
  await page.evaluate(() => {
    window.notReloaded = true;
  });
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
  if (receiver) receiver.close();
});

const dialog = () => page.locator('dialog.new-inbox');

test('an admin creates an API inbox with the form the hub describes and sees its secret once', async () => {
  await page.click('.settings-link');
  await page.click('.new-inbox-button');
  await dialog().waitFor();
  await dialog().getByLabel('Channel').selectOption({ label: 'API' });
  await dialog().getByLabel('Name').fill('CRM');
  const callbackUrl = `http://127.0.0.1:${receiver.address().port}/callback`;

  // A refused setup says why next to the form and keeps what was typed.
  await dialog().getByLabel('Callback URL').fill('ftp://crm.example/hook');
  await dialog().getByLabel('Callback URL').press('Enter');
  const problem = dialog().locator('.error[role=alert]');
  await problem.filter({ hasText: 'callback_url' }).waitFor();
  assert.equal(await dialog().getByLabel('Name').inputValue(), 'CRM');
  assert.equal(await dialog().getByLabel('Callback URL').getAttribute('aria-invalid'), 'true');
  assert.equal((await hub.call('GET', '/api/v1/inboxes')).length, 0, 'nothing was made');

  await dialog().getByLabel('Callback URL').fill(callbackUrl);
  await dialog().getByLabel('Callback URL').press('Enter');
  await dialog().locator('.setup-created').waitFor();
  secret = (await dialog().locator('.secret-value').textContent()).trim();
  assert.ok(secret.length >= 32, `secret ${secret}`);
  assert.match(await dialog().locator('.warning').textContent(), /Shown this once/);
  await page.screenshot({ path: join(shots, 'console-inbox-created.png') });

  // Escape closes, and the inbox is in the list with its channel's icon and name.
  await page.keyboard.press('Escape');
  await dialog().waitFor({ state: 'detached' });
  const listed = page.locator('.inbox-list li', { hasText: 'CRM' });
  await listed.waitFor();
  assert.equal(await listed.locator('svg[aria-hidden="true"]').count(), 1);
  assert.match(await listed.textContent(), /API/);
  [inbox] = await hub.call('GET', '/api/v1/inboxes');
  assert.equal(inbox.settings.callback_url, callbackUrl);
  // The secret is not shown again anywhere.
  assert.ok(!(await page.content()).includes(secret));
});

test('"send test" goes to the callback at once and says what the receiver answered', async () => {
  const card = page.locator(`section.inbox-card[data-inbox-id="${inbox.id}"]`);
  await card.getByLabel('To', { exact: true }).fill('cust-9');
  await card.getByLabel('Text', { exact: true }).fill('Is this thing on?');
  await card.getByRole('button', { name: 'Send a test message' }).click();
  await card.locator('.test-result', { hasText: 'accepted it as crm-1' }).waitFor();
  const test = await callbackNumber(1);
  assert.equal(test.body.text, 'Is this thing on?');
  assert.deepEqual(test.body.recipient, [{ namespace: `api:${inbox.id}`, identifier: 'cust-9' }]);
  assert.ok(signedWith(secret, test), 'signed with the secret the console showed');
  const conversations = await hub.call('GET', '/api/v1/conversations?status=open');
  assert.equal(conversations.data.length, 0, 'a test makes no conversation');
});

test('a reply goes out and shows sent, delivered and read live as the receiver reports them', async () => {
  await hub.customerSays(
    inbox.id,
    { identifier: 'cust-7', name: 'Carmen' },
    'Has my order shipped?',
    'crm-in-1',
  );
  await page.click('.brand');
  await page.click('[data-view="all"]');
  const row = page.locator('.conversation-list .row', { hasText: 'Has my order shipped?' });
  await row.waitFor();
  assert.equal(await row.locator('.channel .sr-only').textContent(), 'API');
  await row.click();
  await page.waitForSelector('.message.incoming >> text=Has my order shipped?');
  await page.fill('.reply-input', 'Yes, this morning.');
  await page.press('.reply-input', 'Enter');

  const reply = await callbackNumber(2);
  assert.equal(reply.body.text, 'Yes, this morning.');
  assert.ok(signedWith(secret, reply));
  const status = page.locator('.message.outgoing', { hasText: 'Yes, this morning.' }).locator('.delivery');
  await status.and(page.locator('[data-status="sent"]')).waitFor();
  assert.equal(await status.textContent(), 'Sent');

  const report = (s) =>
    hub.call('POST', `/api/v1/inboxes/${inbox.id}/statuses`, { external_id: 'crm-2', status: s });
  await report('delivered');
  await status.and(page.locator('[data-status="delivered"]')).waitFor({ timeout: 3000 });
  assert.equal(await status.textContent(), 'Delivered');
  await report('read');
  await status.and(page.locator('[data-status="read"]')).waitFor({ timeout: 3000 });
  assert.equal(await status.textContent(), 'Read');
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'no reload');
  await page.screenshot({ path: join(shots, 'console-delivery-read.png') });
});

test('a failed delivery says its reason in the bubble, for eyes and screen readers', async () => {
  await page.fill('.reply-input', 'Shall I call you?');
  await page.press('.reply-input', 'Enter');
  await callbackNumber(3);
  const status = page.locator('.message.outgoing', { hasText: 'Shall I call you?' }).locator('.delivery');
  await status.and(page.locator('[data-status="sent"]')).waitFor();
  await hub.call('POST', `/api/v1/inboxes/${inbox.id}/statuses`, {
    external_id: 'crm-3',
    status: 'failed',
    error: 'number unreachable',
  });
  await status.and(page.locator('[data-status="failed"]')).waitFor({ timeout: 3000 });
  // Once it was only shown on hover or focus: now it is written out, no asking needed.
  const reason = page.locator('.message.outgoing', { hasText: 'Shall I call you?' }).locator('.send-reason');
  assert.equal(await reason.textContent(), 'Reason: number unreachable');
  assert.ok(await reason.isVisible(), 'shown without hovering');
  assert.ok((await reason.boundingBox()).width > 50, 'readable');
});

test('the form works with the keyboard alone, right to left', async () => {
  const context = await b.newContext({ viewport: { width: 1280, height: 720 }, locale: 'fa-IR' });
  const fa = await context.newPage();
  await fa.goto(hub.url);
  await fa.fill('input[name=email]', OWNER.email);
  await fa.fill('input[name=password]', OWNER.password);
  await fa.click('button[type=submit]');
  await fa.waitForSelector('.connection[data-state="live"]');
  assert.equal(await fa.getAttribute('html', 'dir'), 'rtl');
  await fa.click('.settings-link');
  const opener = fa.locator('.new-inbox-button');
  await opener.focus();
  await fa.keyboard.press('Enter');
  const form = fa.locator('dialog.new-inbox');
  await form.waitFor();
  // Focus starts in the form, and moves field by field in reading order.
  assert.equal(await fa.evaluate(() => document.activeElement.name), 'kind');
  await fa.keyboard.press('Tab');
  assert.equal(await fa.evaluate(() => document.activeElement.name), 'name');
  await fa.keyboard.type('پشتیبانی');
  await fa.keyboard.press('Tab');
  assert.equal(await fa.evaluate(() => document.activeElement.name), 'email.address');
  // The channel's fields speak Persian too (the hub describes them in English).
  assert.equal(await form.locator('label[for^="field-email-address"] bdi').textContent(), 'نشانی');
  assert.match(await form.locator('.setup-field', { has: fa.locator('[name="email.imap.host"]') }).textContent(), /سرور IMAP/);
  await form.locator('select[name=kind]').selectOption('sms');
  assert.match(await form.locator('.setup-field', { has: fa.locator('[name=from]') }).textContent(), /فرستنده.*E\.164/s);
  await form.locator('select[name=kind]').selectOption('email');
  await form.locator('input[name="email.address"]').focus();
  // The dialog is laid out right to left: its title's text starts at the right edge.
  const box = await form.boundingBox();
  const title = await form.locator('h2').boundingBox();
  assert.ok(title.x + title.width > box.x + box.width - 40, 'the title sits at the right');
  await fa.screenshot({ path: join(shots, 'console-new-inbox-rtl.png') });
  await fa.keyboard.press('Escape');
  await form.waitFor({ state: 'detached' });
  assert.equal(await fa.evaluate(() => document.activeElement.className), 'primary new-inbox-button');
  await context.close();
});

test('a channel with providers gets its fields drawn generically, each provider its own', async () => {
  // A channel the hub will list once SMS lands, with fields only one provider needs: the
  // console must draw it from the description alone.
  const sms = {
    kind: 'sms',
    label: 'SMS',
    fields: [
      {
        name: 'provider',
        label: 'Provider',
        type: 'choice',
        options: ['twilio', 'vonage'],
        required: true,
        secret: false,
        help: null,
      },
      {
        name: 'phone_number',
        label: 'Phone number',
        type: 'text',
        required: true,
        secret: false,
        help: 'E.164, e.g. +15005550006.',
      },
      {
        name: 'twilio.account_sid',
        label: 'Account SID',
        type: 'text',
        required: true,
        secret: false,
        help: null,
        provider: 'twilio',
      },
      {
        name: 'vonage.api_key',
        label: 'API key',
        type: 'text',
        required: true,
        secret: false,
        help: null,
        provider: ['vonage'],
      },
      { name: 'auth_token', label: 'Auth token', type: 'password', required: true, secret: true, help: null },
    ],
  };
  const context = await b.newContext({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
  const admin = await context.newPage();
  let sent = null;
  await admin.route('**/api/v1/channels', (route) => route.fulfill({ json: [sms] }));
  await admin.route('**/api/v1/inboxes', (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    sent = route.request().postDataJSON();
    return route.fulfill({
      status: 201,
      json: {
        id: 999,
        name: sent.name,
        kind: 'sms',
        settings: {},
        secret: null,
        embed_snippet: null,
        webhook_url: `${hub.url}/hooks/sms/999`,
      },
    });
  });
  await admin.goto(hub.url);
  await admin.fill('input[name=email]', OWNER.email);
  await admin.fill('input[name=password]', OWNER.password);
  await admin.click('button[type=submit]');
  await admin.waitForSelector('.connection[data-state="live"]');
  await admin.click('.settings-link');
  await admin.click('.new-inbox-button');
  const form = admin.locator('dialog.new-inbox');
  await form.getByLabel('Name').fill('Texts');
  await form.getByLabel('Provider').selectOption('vonage');
  assert.ok(await form.getByLabel('API key').isVisible());
  assert.ok(!(await form.locator('[name="twilio.account_sid"]').isVisible()));
  assert.equal(
    await form.getByRole('textbox', { name: 'Account SID' }).count(),
    0,
    'nor in the accessibility tree',
  );
  await form.getByLabel('Provider').selectOption('twilio');
  assert.ok(await form.getByRole('textbox', { name: 'Account SID' }).isVisible());
  assert.ok(!(await form.locator('[name="vonage.api_key"]').isVisible()));
  await form.getByLabel('Provider').selectOption('vonage');
  await form.getByLabel('Phone number').fill('+15005550006');
  await form.getByLabel('API key').fill('key-1');
  await form.getByLabel('Auth token').fill('t0ken');
  assert.match(await form.getByLabel('Auth token').getAttribute('aria-describedby'), /secret/);
  await form.getByLabel('Auth token').press('Enter');
  await form.locator('.setup-created').waitFor();
  assert.deepEqual(sent, {
    name: 'Texts',
    kind: 'sms',
    provider: 'vonage',
    settings: { phone_number: '+15005550006', vonage: { api_key: 'key-1' }, auth_token: 't0ken' },
  });
  // The webhook address, to paste at the provider, with a copy button.
  assert.equal(await form.locator('.shown-value').textContent(), `${hub.url}/hooks/sms/999`);
  await form.getByRole('button', { name: 'Copy' }).click();
  await form.locator('[role=status]', { hasText: 'Copied' }).waitFor();
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), `${hub.url}/hooks/sms/999`);
  await context.close();
});

test('every channel kind has an icon of its own and kinds registered later a generic one', async () => {
  const drawn = await page.evaluate(async () => {
    const { channelIcon } = await import('/console/icons.js');
    const kinds = [
      'email',
      'web_chat',
      'api',
      'sms',
      'whatsapp',
      'messenger',
      'instagram',
      'telegram',
      'pigeon',
    ];
    return kinds.map((kind) => {
      const icon = channelIcon(kind);
      const svg = icon.querySelector('svg');
      return { kind, svg: svg.innerHTML, hidden: svg.getAttribute('aria-hidden'), label: icon.textContent };
    });
  });
  assert.equal(new Set(drawn.map((d) => d.svg)).size, drawn.length, 'nine different drawings');
  for (const d of drawn) assert.equal(d.hidden, 'true', `${d.kind}'s icon is hidden from screen readers`);
  assert.deepEqual(
    drawn.map((d) => d.label),
    ['Email', 'Website chat', 'API', 'SMS', 'WhatsApp', 'Messenger', 'Instagram', 'Telegram', 'pigeon'],
  );
});
