// Setting up inboxes in the console against a real Dovecot and Postfix (tests/support/mail-lab):
// a fresh console says how to add the first inbox, "Test connection" answers in the servers'
// own words before anything is saved, a new inbox appears in another open console without a
// reload, and a mailbox that refuses the login shows as not working, live, with Dovecot's words.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Hub, OWNER, browser, consoleFor, shots } from './harness.js';
import { MailLab, fillEmailInbox } from './mail-lab.js';

let hub; let b; let lab; let agent;

before(async () => {
  lab = MailLab.start();
  hub = await Hub.start({
    SWITCHBOARD__OUTBOUND__ALLOW_HOSTS: '127.0.0.1',
    SWITCHBOARD__EMAIL__SUPERVISE_SECS: '1',
  });
  b = await browser();
  agent = await hub.agent('Ana Agent', 'ana@example.com', []);
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
  lab?.stop();
});

test('a console with no inbox says how to add the first one; an agent is told an admin adds them', async () => {
  const owner = await consoleFor(b, hub, OWNER);
  const steps = owner.locator('.conversation-list .first-steps');
  await steps.waitFor();
  assert.match(await steps.textContent(), /Add your first inbox/);
  await owner.screenshot({ path: join(shots, 'onboarding-first-inbox.png') });
  const ana = await consoleFor(b, hub, agent);
  const told = ana.locator('.conversation-list .first-steps');
  await told.waitFor();
  assert.match(await told.textContent(), /not in any inbox yet/);
  assert.equal(await told.locator('a').count(), 0, 'an agent is offered no settings link');
  await ana.context().close();

  await steps.getByRole('link', { name: 'Add an inbox' }).click();
  await owner.locator('.new-inbox-button').waitFor();
  assert.equal(await owner.evaluate(() => location.hash), '#/settings/inboxes');
  await owner.context().close();
});

test('test connection answers in the servers\' words before saving; the new inbox appears in another console live', async () => {
  const owner = await consoleFor(b, hub, OWNER);
  const watcher = await consoleFor(b, hub, OWNER);
  await owner.evaluate(() => {
    location.hash = '#/settings/inboxes';
  });
  await owner.click('.new-inbox-button');
  const dialog = owner.locator('dialog.new-inbox');
  await fillEmailInbox(dialog, lab, { name: 'Support mail', address: 'support@support.test', password: 'a wrong password' });

  await dialog.getByRole('button', { name: 'Test connection' }).click();
  const imapLine = dialog.locator('.connection-test li', { hasText: 'IMAP' });
  await imapLine.locator('.server-words').waitFor();
  assert.match(await imapLine.textContent(), /AUTHENTICATIONFAILED/, 'Dovecot\'s own words');
  assert.ok((await imapLine.getAttribute('class')).includes('error'));
  await dialog.locator('.connection-test li.saved', { hasText: 'SMTP' }).waitFor();
  await owner.screenshot({ path: join(shots, 'inbox-test-connection-refused.png') });

  await dialog.locator('input[name="imap_password"]').fill('support-pass');
  await dialog.getByRole('button', { name: 'Test connection' }).click();
  await dialog.locator('.connection-test li.saved', { hasText: 'IMAP: signed in' }).waitFor();
  assert.equal(await dialog.locator('.connection-test li.error').count(), 0);
  const before = (await hub.call('GET', '/api/v1/inboxes')).length;
  assert.equal(before, 0, 'testing saved nothing');

  await dialog.getByRole('button', { name: 'Create inbox' }).click();
  await dialog.locator('.setup-created').waitFor();
  // The other console hears of it: in its sidebar without a reload.
  await watcher.locator('.sidebar', { hasText: 'Support mail' }).waitFor({ timeout: 10000 });
  await watcher.context().close();
  await owner.context().close();
});

test('a mailbox that refuses the login shows as not working, live, with the server\'s words on its card', async () => {
  const owner = await consoleFor(b, hub, OWNER);
  await owner.evaluate(() => {
    location.hash = '#/settings/inboxes';
  });
  await owner.locator('.inboxes-card').waitFor();
  const created = await hub.call('POST', '/api/v1/inboxes', {
    name: 'Old mailbox',
    kind: 'email',
    email: {
      address: 'marketing@support.test',
      imap: { host: '127.0.0.1', port: Number(lab.imapPort), security: 'plain', username: 'marketing@support.test' },
    },
    imap_password: 'changed since',
  });
  const badge = owner.locator(`[data-view="inbox-${created.id}"] .health-badge`);
  await badge.waitFor({ timeout: 15000 });
  assert.match(await badge.getAttribute('aria-label'), /Not working: Reading the mailbox fails/);
  const card = owner.locator(`section.inbox-card[data-inbox-id="${created.id}"]`);
  const problem = card.locator('.inbox-problem[data-part="mailbox"]');
  await problem.waitFor();
  assert.match(await problem.locator('.server-words').textContent(), /AUTHENTICATIONFAILED/);
  await owner.locator('.inbox-list li', { hasText: 'Old mailbox' }).locator('.health-badge').waitFor();
  await problem.scrollIntoViewIfNeeded();
  await owner.screenshot({ path: join(shots, 'inbox-health-failing.png') });
  await owner.context().close();
});

test('an email inbox\'s servers are edited on its card; an empty password box keeps the saved one', async () => {
  const owner = await consoleFor(b, hub, OWNER);
  const [support] = (await hub.call('GET', '/api/v1/inboxes')).filter((i) => i.name === 'Support mail');
  await owner.evaluate((id) => {
    location.hash = `#/settings/inboxes/${id}`;
  }, support.id);
  const card = owner.locator(`.email-servers-card[data-inbox-id="${support.id}"]`);
  await card.waitFor();
  assert.equal(await card.locator('input[name="email.imap.port"]').inputValue(), lab.imapPort, 'the saved settings are filled in');
  assert.equal(await card.locator('input[name="imap_password"]').inputValue(), '', 'no password is ever shown');

  await card.locator('input[name="email.display_name"]').fill('Acme Help');
  await card.getByRole('button', { name: 'Test connection' }).click();
  await card.locator('.connection-test li.saved', { hasText: 'IMAP: signed in' }).waitFor();
  await card.getByRole('button', { name: 'Save' }).click();
  await card.locator('.email-status.saved').waitFor();
  const [saved] = (await hub.call('GET', '/api/v1/inboxes')).filter((i) => i.id === support.id);
  assert.equal(saved.settings.display_name, 'Acme Help');
  assert.equal(saved.settings.imap.idle_secs, support.settings.imap.idle_secs, 'settings the form has no field for are kept');
  assert.ok(support.settings.imap.idle_secs > 0);

  // Another server without its password: the hub refuses, beside the form.
  await card.locator('input[name="email.imap.port"]').fill(lab.imapsPort);
  await card.getByRole('button', { name: 'Save' }).click();
  const refused = card.locator('.email-status.error');
  await refused.waitFor();
  assert.match(await refused.textContent(), /type its password again/);
  await owner.screenshot({ path: join(shots, 'inbox-email-servers.png') });
  await owner.context().close();
});

test('an inbox nothing came through and a team are deleted after a question; an inbox with conversations stays and says why', async () => {
  const trial = await hub.inbox('Trial inbox');
  const busy = await hub.inbox('Busy inbox');
  await hub.customerSays(busy.id, { identifier: 'c-1', name: 'Cleo' }, 'Hello there', 'busy-1');
  await hub.call('POST', '/api/v1/teams', { name: 'Night shift' });
  const owner = await consoleFor(b, hub, OWNER);
  await owner.evaluate(() => {
    location.hash = '#/settings/inboxes';
  });
  const trialCard = owner.locator(`section.inbox-card[data-inbox-id="${trial.id}"]`);
  await trialCard.getByRole('button', { name: 'Delete inbox' }).click();
  const question = trialCard.getByRole('group', { name: 'Delete inbox' });
  assert.match(await question.textContent(), /Delete “Trial inbox”\?/);
  await question.getByRole('button', { name: 'Delete inbox' }).click();
  await trialCard.waitFor({ state: 'detached' });
  await owner.locator(`[data-view="inbox-${trial.id}"]`).waitFor({ state: 'detached' });
  assert.ok(!(await hub.call('GET', '/api/v1/inboxes')).some((i) => i.id === trial.id));

  const busyCard = owner.locator(`section.inbox-card[data-inbox-id="${busy.id}"]`);
  await busyCard.getByRole('button', { name: 'Delete inbox' }).click();
  await busyCard.getByRole('group', { name: 'Delete inbox' }).getByRole('button', { name: 'Delete inbox' }).click();
  const why = busyCard.locator('.confirm .error');
  await why.waitFor();
  assert.match(await why.textContent(), /has conversations/);
  assert.ok((await hub.call('GET', '/api/v1/inboxes')).some((i) => i.id === busy.id), 'kept');

  await owner.evaluate(() => {
    location.hash = '#/settings/teams';
  });
  const teamCard = owner.locator('.team-card', { hasText: 'Night shift' });
  await teamCard.getByRole('button', { name: 'Delete team' }).click();
  await teamCard.getByRole('group', { name: 'Delete team' }).getByRole('button', { name: 'Delete team' }).click();
  await teamCard.waitFor({ state: 'detached' });
  assert.ok(!(await hub.call('GET', '/api/v1/teams')).some((t) => t.name === 'Night shift'));
  await owner.context().close();
});
