// Settings › Agents and Teams in headless Chromium: the owner invites an agent, copies the link,
// the agent opens it in a browser of their own, chooses a password and is signed in; the owner
// makes a team and puts the agent on it. Screenshots in English, Persian and at phone size.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertDangerColour, browser, Hub, OWNER, shots, signInOn } from './harness.js';

let hub;
let b;
let owner;
let ownerContext;
let link;
let nadiaId;

async function signIn(context, user) {
  return signInOn(await context.newPage(), hub, user);
}

// Through the inbox, so that the page is drawn afresh even when it is already open.
async function openAgents(page) {
  await page.evaluate(() => {
    location.hash = '#/';
  });
  await page.goto(`${hub.url}/#/settings/agents`);
  await page.waitForSelector('.agents-table tbody tr');
}

async function openTeams(page) {
  await page.evaluate(() => {
    location.hash = '#/';
  });
  await page.goto(`${hub.url}/#/settings/teams`);
  await page.waitForSelector('.settings-page[data-section="teams"] .team-create');
}

before(async () => {
  hub = await Hub.start();
  b = await browser();
  const support = await hub.inbox('Support');
  await hub.inbox('Billing');
  const bo = await hub.agent('Bo Berger', 'bo@example.com', [support.id]);
  await hub.call('PUT', `/api/v1/users/${bo.id}/routing`, { capacity: 4, skills: [] });
  ownerContext = await b.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  owner = await signIn(ownerContext, OWNER);
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
});

test('the capacity table has column headers', async () => {
  await openAgents(owner);
  const headers = await owner.locator('.agents-table thead th').allTextContents();
  assert.deepEqual(headers, ['Name', 'Role', 'Status', 'Capacity', 'Inboxes', 'Actions']);
  const bo = owner.locator('.agents-table tbody tr', { hasText: 'Bo Berger' });
  assert.equal(await bo.locator('input.capacity').inputValue(), '4');
  assert.equal(await bo.locator('.avatar').textContent(), 'BB');
});

test('an error from the hub shows in the page, red and without backticks', async () => {
  await openAgents(owner);
  await owner.fill('.invite input[name=name]', '   ');
  await owner.fill('.invite input[name=email]', 'nobody@example.com');
  await owner.click('.invite button[type=submit]');
  const error = owner.locator('.page-error');
  await error.waitFor();
  await owner.waitForFunction(() => document.querySelector('.page-error').textContent.length > 0);
  const text = await error.textContent();
  assert.ok(text.includes('“name”'), text);
  assert.ok(!text.includes('`'), text);
  await assertDangerColour(error);
});

test('the owner invites an agent, who opens the copied link elsewhere and is signed in', async () => {
  await openAgents(owner);
  await owner.fill('.invite input[name=name]', 'Nadia Nouri');
  await owner.fill('.invite input[name=email]', 'nadia@example.com');
  await owner.selectOption('.invite select[name=role]', 'agent');
  await owner.click('.invite button[type=submit]');
  await owner.waitForSelector('.invitation-link');
  assert.equal(await owner.locator('.page-error').textContent(), '');
  await owner.click('.copy-link');
  await owner.waitForSelector('.copy-row .saved:has-text("Copied")');
  link = await owner.evaluate(() => navigator.clipboard.readText());
  assert.equal(link, await owner.inputValue('.invitation-link'));
  assert.match(link, /\/#\/invitation\/sbi_[\w-]+\.[\w-]+$/);
  const row = owner.locator('.agents-table tbody tr', { hasText: 'Nadia Nouri' });
  assert.equal(await row.getAttribute('data-status'), 'invited');
  nadiaId = Number(await row.getAttribute('data-user-id'));
  await owner.screenshot({ path: join(shots, 'settings-agents-en.png'), fullPage: true });

  // Nadia's own browser: no session, just the link.
  const nadiaContext = await b.newContext({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  const nadia = await nadiaContext.newPage();
  await nadia.goto(link);
  await nadia.fill('input[name=new_password]', 'nadia chooses this');
  await nadia.fill('input[name=repeat_password]', 'nadia chooses that');
  await nadia.click('button[type=submit]');
  await nadia.waitForSelector('.invitation .error:has-text("not the same")');
  await nadia.fill('input[name=repeat_password]', 'nadia chooses this');
  await nadia.click('button[type=submit]');
  await nadia.waitForSelector('.connection[data-state="live"]');
  assert.equal(await nadia.textContent('.topbar .me bdi'), 'Nadia Nouri');
  assert.ok(!nadia.url().includes('sbi_'), `the spent link left the address bar: ${nadia.url()}`);
  await nadiaContext.close();

  // The same link a second time is refused, in words.
  const again = await b.newContext({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  const page = await again.newPage();
  await page.goto(link);
  await page.fill('input[name=new_password]', 'another password');
  await page.fill('input[name=repeat_password]', 'another password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.invitation .error:has-text("does not work")');
  await again.close();

  await openAgents(owner);
  const now = owner.locator('.agents-table tbody tr', { hasText: 'Nadia Nouri' });
  assert.equal(await now.getAttribute('data-status'), 'active');
});

test('the owner puts the agent in an inbox from the agents page', async () => {
  await openAgents(owner);
  const row = owner.locator(`.agents-table tbody tr[data-user-id="${nadiaId}"]`);
  await row.locator('details.inbox-members summary').click();
  await row.locator('label.inbox-choice', { hasText: 'Billing' }).locator('input').check();
  await row.locator('summary:has-text("Billing")').waitFor();
  const inboxes = await hub.call('GET', '/api/v1/inboxes');
  const billing = inboxes.find((i) => i.name === 'Billing');
  const members = await hub.call('GET', `/api/v1/inboxes/${billing.id}/members`);
  assert.ok(members.some((u) => u.id === nadiaId));
});

test('the owner makes a team and adds the agent', async () => {
  await openTeams(owner);
  assert.ok((await owner.textContent('.teams')).includes('No teams yet'));
  await owner.fill('.team-create input[name=name]', 'Tier 1');
  await owner.click('.team-create button[type=submit]');
  const card = owner.locator('.team-card', { hasText: 'Tier 1' });
  await card.waitFor();
  await card.locator('.team-add select').selectOption(String(nadiaId));
  await card.locator('.team-add button[type=submit]').click();
  await owner.locator('.team-card .team-members li', { hasText: 'Nadia Nouri' }).waitFor();
  const teams = await hub.call('GET', '/api/v1/teams');
  assert.deepEqual(teams.find((t) => t.name === 'Tier 1').member_ids, [nadiaId]);
  await owner.fill('.team-create input[name=name]', 'Billing experts');
  await owner.click('.team-create button[type=submit]');
  await owner.locator('.team-card', { hasText: 'Billing experts' }).waitFor();
  await owner.screenshot({ path: join(shots, 'settings-teams-en.png'), fullPage: true });
});

test('the pages in Persian, right to left', async () => {
  await owner.evaluate(() => localStorage.setItem('switchboard.locale', 'fa'));
  await owner.goto(`${hub.url}/#/settings/agents`);
  await owner.reload();
  await owner.waitForSelector('.agents-table tbody tr');
  assert.equal(await owner.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await owner.textContent('.agents-table thead th'), 'نام');
  await owner.screenshot({ path: join(shots, 'settings-agents-fa.png'), fullPage: true });
  await openTeams(owner);
  await owner.locator('.team-card').first().waitFor();
  await owner.screenshot({ path: join(shots, 'settings-teams-fa.png'), fullPage: true });
  await owner.evaluate(() => localStorage.setItem('switchboard.locale', 'en'));
});

test('the pages at phone size', async () => {
  const phone = await b.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
  const page = await signIn(phone, OWNER);
  await page.goto(`${hub.url}/#/settings/agents`);
  await page.waitForSelector('.agents-table tbody tr');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide: only the table scrolls sideways`);
  await page.screenshot({ path: join(shots, 'settings-agents-phone.png'), fullPage: true });
  await page.goto(`${hub.url}/#/settings/teams`);
  await page.locator('.team-card').first().waitFor();
  await page.screenshot({ path: join(shots, 'settings-teams-phone.png'), fullPage: true });
  await phone.close();
});

test('disabling an agent from the page', async () => {
  await openAgents(owner);
  const row = owner.locator(`.agents-table tbody tr[data-user-id="${nadiaId}"]`);
  await row.locator('button.disable').click();
  await owner.locator(`.agents-table tbody tr[data-user-id="${nadiaId}"][data-status="disabled"]`).waitFor();
  const users = await hub.call('GET', '/api/v1/users');
  assert.equal(users.find((u) => u.id === nadiaId).disabled, true);
});
