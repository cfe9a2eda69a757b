// Swagger UI at /api/docs works under its strict Content-Security-Policy: the operations render,
// and the browser reports no violation (a policy too strict for the vendored UI would break it
// silently for users, a policy too loose would not be caught by the header test alone).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, browser } from './harness.js';

let hub; let b;

before(async () => {
  hub = await Hub.start();
  b = await browser();
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
});

test('Swagger UI renders the API under its policy with no violation', async () => {
  const page = await (await b.newContext()).newPage();
  const violations = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const offsite = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(hub.url) && !request.url().startsWith('data:')) offsite.push(request.url());
  });
  const response = await page.goto(`${hub.url}/api/docs/`);
  assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
  await page.locator('.opblock-summary-path', { hasText: '/api/v1/inboxes' }).first().waitFor({ timeout: 20000 });
  await page.locator('.opblock-tag', { hasText: 'contacts' }).first().waitFor();
  assert.deepEqual(violations, [], 'no CSP violations');
  assert.deepEqual(offsite, [], 'nothing fetched from elsewhere (no online validator)');
});
