// Tracking pixels: a remote image in a customer's email is not fetched when an agent reads the
// mail, only after the agent clicks "Load images", and then for that one message only.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Hub, OWNER, consoleFor, deliver, freePort, shots } from './harness.js';

// A 1×1 transparent GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

let hub; let b; let page; let smtpPort; let tracker; let trackerUrl; let secureTracker; let secureUrl;
const fetched = [];

function countAndServe(req, res) {
  fetched.push(req.url);
  res.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store' });
  res.end(PIXEL);
}

// A throwaway certificate for the HTTPS tracker (the browser is told to accept it): trackers
// use https, and the console once allowed every https image.
function selfSignedCertificate() {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tracker-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

before(async () => {
  // The "remote" servers: other ports, counting every request they get.
  tracker = http.createServer(countAndServe);
  await new Promise((resolve) => tracker.listen(0, '127.0.0.1', resolve));
  trackerUrl = `http://127.0.0.1:${tracker.address().port}`;
  secureTracker = https.createServer(selfSignedCertificate(), countAndServe);
  await new Promise((resolve) => secureTracker.listen(0, '127.0.0.1', resolve));
  secureUrl = `https://127.0.0.1:${secureTracker.address().port}`;
  smtpPort = await freePort();
  hub = await Hub.start({ SWITCHBOARD__EMAIL__INBOUND_SMTP_ADDR: `127.0.0.1:${smtpPort}` });
  b = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--ignore-certificate-errors'],
  });
  await hub.call('POST', '/api/v1/inboxes', { name: 'Support mail', kind: 'email', email: { address: 'help@acme.test' } });
  page = await consoleFor(b, hub, OWNER);
  await page.click('[data-view="all"]');
});

after(async () => {
  if (b) await b.close();
  if (hub) await hub.stop();
  if (tracker) tracker.close();
  if (secureTracker) secureTracker.close();
});

function mail(id, subject, text, pixel) {
  return [
    'From: Nina Newsletter <nina@customer.test>', 'To: help@acme.test', `Subject: ${subject}`,
    `Message-ID: <${id}@customer.test>`, 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', text, '',
    '--b', 'Content-Type: text/html; charset=utf-8', '',
    `<p>${text}</p><img src="${trackerUrl}/${pixel}" width="1" height="1" alt="">`
      + `<img src="${secureUrl}/${pixel}-secure" width="1" height="1" alt="">`
      + `<div style="background-image: url('${trackerUrl}/${pixel}-background')">styled</div>`, '--b--',
  ].join('\n');
}

async function openMail(text) {
  const row = page.locator('.conversation-list .row', { hasText: text });
  await row.waitFor({ timeout: 10000 });
  await row.click();
  const message = page.locator('.message.incoming', { hasText: text }).last();
  await message.locator('.text', { hasText: text }).waitFor();
  await message.locator('details.original summary').click();
  return message;
}

// The whole mail, open: the thread may be drawn again while it loads (a read marker, a status
// update), which closes the <details>, so open it again until the mail's text is on show.
async function wholeMail(message, text) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const details = message.locator('details.original');
    if (!(await details.evaluate((d) => d.open).catch(() => false))) {
      await details.locator('summary').click().catch(() => {});
    }
    try {
      await message.frameLocator('details.original iframe').locator('p', { hasText: text }).waitFor({ timeout: 1000 });
      return message.frameLocator('details.original iframe');
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

test('a remote image in a customer email is fetched only after "Load images" is clicked', async () => {
  await deliver(smtpPort, 'nina@customer.test', 'help@acme.test', mail('pixel-1', 'Our offer', 'Big news inside.', 'open-1.gif'));
  const message = await openMail('Big news inside.');
  await wholeMail(message, 'Big news inside.');
  // Time for any fetch to happen, had one been started.
  await page.waitForTimeout(1000);
  assert.deepEqual(fetched, [], 'nothing fetched while the mail is read');
  const button = message.locator('button.load-images');
  assert.equal(await button.innerText(), 'Load images');

  await button.click();
  const shown = await wholeMail(message, 'Big news inside.');
  const deadline = Date.now() + 5000;
  const loaded = () => ['/open-1.gif', '/open-1.gif-secure'].every((url) => fetched.includes(url));
  while (!loaded() && Date.now() < deadline) await page.waitForTimeout(100);
  assert.ok(loaded(), `the images load after the click (fetched: ${fetched})`);
  assert.equal(await shown.locator('img').first().evaluate((img) => img.complete && img.naturalWidth), 1, 'the image is shown');
  assert.equal(await message.locator('button.load-images').count(), 0, 'the button is gone');
  // The mail's markup still runs nothing, and the frame cannot reach the console's origin.
  assert.equal(await shown.locator('body script').count(), 0);
  const frame = page.frames().find((f) => f.url().endsWith('/console/email-frame.html'));
  assert.equal(await frame.evaluate(() => window.origin), 'null', 'an opaque origin');
  assert.equal(await frame.evaluate(() => { try { return window.parent.document.title; } catch { return 'refused'; } }), 'refused');
  await page.screenshot({ path: join(shots, 'console-email-images.png') });
});

test('loading the images of one mail leaves the next mail\'s held back', async () => {
  fetched.length = 0;
  await deliver(smtpPort, 'nina@customer.test', 'help@acme.test', mail('pixel-2', 'Second offer', 'Even bigger news.', 'open-2.gif'));
  const message = await openMail('Even bigger news.');
  await wholeMail(message, 'Even bigger news.');
  await page.waitForTimeout(1000);
  assert.deepEqual(fetched, [], 'the second mail fetched nothing');
  assert.equal(await message.locator('button.load-images').count(), 1);
});
