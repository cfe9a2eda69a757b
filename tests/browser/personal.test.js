// What an agent keeps for themselves, in headless Chromium: personal canned responses beside the
// shared ones (added, edited in place, deleted after a confirmation, used with / in the
// composer), the owner editing a shared one, the profile page (name, signature, password, then
// signing in with the new one), and a personal API token created, shown once and revoked. Each
// page in English, Persian and at phone size.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertDangerColour, browser, consoleFor, Hub, OWNER, shots } from './harness.js';

let hub;
let b;
let support;
let ana;
let bo;
let anaPage;

before(async () => {
  hub = await Hub.start();
  b = await browser();
  support = await hub.inbox('Support');
  ana = await hub.agent('Ana', 'ana@example.com', [support.id]);
  bo = await hub.agent('Bo', 'bo@example.com', [support.id]);
  await hub.call('POST', '/api/v1/canned_responses', {
    short_code: 'thanks',
    content: 'Thank you for your patience!',
    shared: true,
  });
  anaPage = await consoleFor(b, hub, ana);
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
});

async function tokenOf(user) {
  return (await hub.call('POST', '/api/v1/auth/login', { email: user.email, password: user.password })).token;
}

async function openSettings(page, id) {
  await page.goto(`${hub.url}/#/settings/${id}`);
  await page.waitForSelector(`.settings-page[data-section="${id}"] .card`);
}

const item = (page, code) => page.locator(`.canned-list .canned-item[data-code="${code}"]`);

test('an agent adds a personal canned response, edits and deletes one, and uses it with / in the composer', async () => {
  await openSettings(anaPage, 'canned');
  const page = anaPage;
  // The shared one is there for Ana to use, not to change; an agent has no personal/shared choice.
  await item(page, 'thanks').waitFor();
  assert.equal(await item(page, 'thanks').locator('.badge').textContent(), 'Shared');
  assert.equal(await item(page, 'thanks').getByRole('button').count(), 0);
  assert.equal(await page.locator('.canned-new select').count(), 0);

  await page.getByLabel('Short code').fill('eta');
  await page.getByLabel('Text').fill('Your parcel arrives within two days.');
  await page.getByRole('button', { name: 'Add' }).click();
  await item(page, 'eta').waitFor();
  assert.equal(await item(page, 'eta').locator('.badge').textContent(), 'Personal');
  await page.locator('.canned-settings [role=status]', { hasText: 'Added /eta.' }).waitFor();

  // A code taken in the same scope is refused, in red, in the page.
  await page.getByLabel('Short code').fill('eta');
  await page.getByLabel('Text').fill('again');
  await page.getByRole('button', { name: 'Add' }).click();
  const problem = page.locator('.canned-settings .error');
  await problem.filter({ hasText: 'short code exists' }).waitFor();
  await assertDangerColour(problem);

  // Edit in place, with the keyboard.
  await item(page, 'eta').getByRole('button', { name: 'Edit' }).click();
  const editing = page.locator('.canned-edit');
  assert.equal(
    await page.evaluate(() => document.activeElement.name),
    'short_code',
    'focus moves into the form',
  );
  await editing.getByLabel('Text').fill('Your parcel arrives within two days, tracking to follow.');
  await editing.getByLabel('Text').press('Tab');
  await page.keyboard.press('Enter');
  await item(page, 'eta').locator('.canned-content', { hasText: 'tracking to follow' }).waitFor();

  // Delete asks first; Cancel keeps it.
  await page.getByLabel('Short code').fill('tmp');
  await page.getByLabel('Text').fill('Temporary');
  await page.getByRole('button', { name: 'Add' }).click();
  await item(page, 'tmp').getByRole('button', { name: 'Delete' }).click();
  await item(page, 'tmp').getByText('Delete /tmp? This cannot be undone.').waitFor();
  assert.equal(
    await page.evaluate(() => document.activeElement.textContent),
    'Cancel',
    'the safe choice has focus',
  );
  await page.keyboard.press('Enter');
  await item(page, 'tmp').getByRole('button', { name: 'Edit' }).waitFor();
  await item(page, 'tmp').getByRole('button', { name: 'Delete' }).click();
  await item(page, 'tmp').locator('button.danger').click();
  await page.locator('.canned-settings [role=status]', { hasText: 'Deleted /tmp.' }).waitFor();
  assert.equal(await item(page, 'tmp').count(), 0);

  // Search narrows the list; a search that finds nothing says so.
  await page.getByLabel('Search canned responses').fill('parcel');
  assert.equal(await page.locator('.canned-item').count(), 1);
  await page.getByLabel('Search canned responses').fill('zebra');
  await page.getByText('No canned response matches “zebra”.').waitFor();
  await page.getByLabel('Search canned responses').fill('');
  await page.screenshot({ path: join(shots, 'settings-canned-en.png'), fullPage: true });

  // Bo never sees Ana's personal response.
  const bos = await hub.call('GET', '/api/v1/canned_responses', null, await tokenOf(bo));
  assert.deepEqual(
    bos.map((c) => c.short_code),
    ['thanks'],
  );

  // The composer's picker offers hers and the shared one, without a reload.
  const { conversation_id: id } = await hub.customerSays(
    support.id,
    { identifier: 'dario', name: 'Dario' },
    'Where is my parcel?',
    'p-1',
  );
  await page.goto(`${hub.url}/#/conversations/${id}`);
  await page.waitForSelector('.message.incoming >> text=Where is my parcel?');
  await page.fill('.reply-input', '/');
  await page.locator('.canned li[data-code="eta"]').waitFor();
  assert.equal(await page.locator('.canned li[data-code="thanks"]').count(), 1);
  await page.fill('.reply-input', '/et');
  assert.equal(await page.locator('.canned li').count(), 1);
  await page.press('.reply-input', 'Enter');
  assert.equal(
    await page.inputValue('.reply-input'),
    'Your parcel arrives within two days, tracking to follow.',
  );
  await page.press('.reply-input', 'Enter');
  await page.waitForSelector('.message.outgoing >> text=tracking to follow');
});

test('the owner edits a shared canned response and does not see an agent’s personal ones', async () => {
  const page = await consoleFor(b, hub, OWNER);
  await openSettings(page, 'canned');
  await item(page, 'thanks').waitFor();
  assert.equal(await item(page, 'eta').count(), 0, 'Ana’s personal one is hers alone');
  assert.equal(await page.locator('.canned-new select option').count(), 2, 'personal or shared');
  await item(page, 'thanks').getByRole('button', { name: 'Edit' }).click();
  await page.locator('.canned-edit').getByLabel('Text').fill('Thank you for waiting!');
  await page.locator('.canned-edit').getByRole('button', { name: 'Save' }).click();
  await item(page, 'thanks').locator('.canned-content', { hasText: 'Thank you for waiting!' }).waitFor();
  // A new shared one, for everyone.
  await page.getByLabel('Short code').fill('hours');
  await page.getByLabel('Text').fill('We answer from 9 to 5.');
  await page.getByLabel('Who uses it').selectOption('shared');
  await page.getByRole('button', { name: 'Add' }).click();
  await item(page, 'hours').waitFor();
  const anas = await hub.call('GET', '/api/v1/canned_responses', null, await tokenOf(ana));
  assert.deepEqual(
    anas.map((c) => [c.short_code, c.shared, c.content]),
    [
      ['eta', false, 'Your parcel arrives within two days, tracking to follow.'],
      ['hours', true, 'We answer from 9 to 5.'],
      ['thanks', true, 'Thank you for waiting!'],
    ],
  );
  await page.context().close();
});

test('the profile page changes the name, the signature and the password; the new password signs in', async () => {
  const page = anaPage;
  await openSettings(page, 'profile');
  await page.getByLabel('Display name').fill('Ana Lima');
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.getByText('Name saved.').waitFor();
  assert.equal(await page.locator('.topbar .me bdi').textContent(), 'Ana Lima');

  await page.getByLabel('Email signature', { exact: true }).fill('Ana Lima\nSupport, Acme');
  await page.getByRole('button', { name: 'Save signature' }).click();
  await page.getByText('Signature saved.').waitFor();

  // A wrong current password says so, in red, and signs nobody out.
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password').fill('a brand new secret');
  await page.getByRole('button', { name: 'Change password' }).click();
  const wrong = page.locator('.profile-password .error');
  await wrong.filter({ hasText: 'The current password is wrong.' }).waitFor();
  await assertDangerColour(wrong);
  assert.equal(await page.locator('.connection').getAttribute('data-state'), 'live');

  const elsewhere = await tokenOf(ana);
  await page.getByLabel('Current password').fill(ana.password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Password changed.', { exact: false }).waitFor();
  // The settings pane scrolls by itself: a taller window shows the whole page.
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.screenshot({ path: join(shots, 'settings-profile-en.png') });
  await page.setViewportSize({ width: 1280, height: 720 });
  const me = await hub.call(
    'GET',
    '/api/v1/me',
    null,
    await tokenOf({ ...ana, password: 'a brand new secret' }),
  );
  assert.equal(me.user.name, 'Ana Lima');
  assert.equal(me.email_signature, 'Ana Lima\nSupport, Acme');
  await assert.rejects(hub.call('GET', '/api/v1/me', null, elsewhere), /401/, 'the other session ended');

  // Signing out and in again takes the new password, not the old one.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('input[name=email]');
  await page.fill('input[name=email]', ana.email);
  await page.fill('input[name=password]', ana.password);
  await page.click('button[type=submit]');
  await page.locator('.login .error').filter({ hasText: /./ }).waitFor();
  ana.password = 'a brand new secret';
  await page.fill('input[name=password]', ana.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.connection[data-state="live"]');
  assert.equal(await page.locator('.topbar .me bdi').textContent(), 'Ana Lima');
});

test('a personal API token is created, shown once with Copy, used, and revoked after a confirmation', async () => {
  const context = await b.newContext({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
  const page = await context.newPage();
  await page.goto(hub.url);
  await page.fill('input[name=email]', ana.email);
  await page.fill('input[name=password]', ana.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.connection[data-state="live"]');
  await openSettings(page, 'tokens');
  await page.getByText('No API tokens yet.', { exact: false }).waitFor();

  await page.getByLabel('Token name').fill('CRM sync');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.locator('.token-created .secret-value').textContent();
  assert.match(secret, /^\S{20,}$/);
  await page.getByText('Shown this once', { exact: false }).waitFor();
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.locator('.token-created [role=status]', { hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  const row = page.locator('.token-list tbody tr', { hasText: 'CRM sync' });
  await row.waitFor();
  assert.equal(await row.locator('td').nth(3).textContent(), 'never');
  await page.screenshot({ path: join(shots, 'settings-tokens-en.png'), fullPage: true });

  // It works, its last use shows, and the secret is never shown again.
  assert.equal((await hub.call('GET', '/api/v1/me', null, secret)).user.email, ana.email);
  const reopen = async () => {
    await page.reload();
    await page.waitForSelector('.settings-page[data-section="tokens"] .card');
    await row.waitFor();
  };
  await reopen();
  assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
  for (let i = 0; i < 50 && (await row.locator('td').nth(3).textContent()) === 'never'; i++) {
    await page.waitForTimeout(100);
    await reopen();
  }
  assert.notEqual(await row.locator('td').nth(3).textContent(), 'never');

  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('Revoke “CRM sync”? Anything using it stops working at once.').waitFor();
  await page.locator('.token-list button.danger').click();
  await page.getByText('Revoked “CRM sync”.').waitFor();
  await page.getByText('No API tokens yet.', { exact: false }).waitFor();
  await assert.rejects(hub.call('GET', '/api/v1/me', null, secret), /401/);
  await context.close();
});

test('each page in Persian, right to left, and at phone size', async () => {
  await hub.call('POST', '/api/v1/tokens', { name: 'گزارش‌ها' });
  const context = await b.newContext({ viewport: { width: 1280, height: 720 }, locale: 'fa-IR' });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[fa] page error:', e.message));
  await page.goto(hub.url);
  await page.fill('input[name=email]', OWNER.email);
  await page.fill('input[name=password]', OWNER.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.connection[data-state="live"]');
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  for (const [id, title] of [
    ['canned', 'پاسخ‌های آماده'],
    ['profile', 'نمایه'],
    ['tokens', 'توکن‌های API'],
  ]) {
    await page.setViewportSize({ width: 1280, height: 720 });
    await openSettings(page, id);
    await page.locator('.settings-page h2', { hasText: title }).first().waitFor();
    // The section list sits on the right in RTL.
    const nav = await page.locator('.settings-nav').boundingBox();
    assert.ok(nav.x > 640, `${id}: the section list at x=${nav.x}`);
    await page.screenshot({ path: join(shots, `settings-${id}-fa.png`), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(100);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 390, `${id}: nothing wider than the phone (${overflow}px)`);
    await page.screenshot({ path: join(shots, `settings-${id}-phone.png`), fullPage: true });
  }
  await context.close();
});
