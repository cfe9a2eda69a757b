// Runs a real Switchboard (the debug binary cargo built) on a throwaway data directory and drives
// its API, so browser tests start from a known world and can kill and restart the server.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..', '..');
export const shots = join(repo, 'target', 'screenshots');
mkdirSync(shots, { recursive: true });

export const OWNER = { email: 'owner@example.com', password: 'correct horse battery staple' };

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export class Hub {
  static async start(env = {}) {
    const hub = new Hub();
    hub.env = env;
    hub.dataDir = mkdtempSync(join(tmpdir(), 'switchboard-browser-'));
    hub.port = await freePort();
    hub.url = `http://127.0.0.1:${hub.port}`;
    await hub.boot();
    hub.token = (await hub.call('POST', '/api/v1/auth/login', OWNER)).token;
    return hub;
  }

  async boot() {
    // run.sh builds with cargo, which puts the binary under CARGO_TARGET_DIR when that is set.
    const target = process.env.CARGO_TARGET_DIR
      ? resolve(process.env.CARGO_TARGET_DIR)
      : join(repo, 'target');
    const bin = process.env.SWITCHBOARD_BIN || join(target, 'debug', 'switchboard');
    this.process = spawn(bin, ['serve', '--addr', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir], {
      env: {
        ...process.env,
        ...this.env,
        SWITCHBOARD_OWNER_EMAIL: OWNER.email,
        SWITCHBOARD_OWNER_PASSWORD: OWNER.password,
        RUST_LOG: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.url}/readyz`)).ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('switchboard did not become ready in 30 s');
  }

  // kill -9: no graceful shutdown, like a crash or an OOM kill.
  async kill() {
    const exited = new Promise((r) => this.process.once('exit', r));
    this.process.kill('SIGKILL');
    await exited;
  }

  async restart() {
    await this.boot();
  }

  async stop() {
    if (this.process && this.process.exitCode === null) await this.kill();
  }

  async call(method, path, body, token = this.token) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async agent(name, email, inboxIds, role = 'agent') {
    const password = 'a long enough password';
    const user = await this.call('POST', '/api/v1/users', { email, name, role, password });
    for (const id of inboxIds) await this.call('POST', `/api/v1/inboxes/${id}/members`, { user_id: user.id });
    return { ...user, email, password };
  }

  inbox(name, kind = 'api') {
    return this.call('POST', '/api/v1/inboxes', { name, kind });
  }

  // A customer message through the API channel.
  customerSays(inboxId, who, text, externalId) {
    return this.call('POST', `/api/v1/inboxes/${inboxId}/messages`, {
      contact: { identifier: who.identifier, name: who.name },
      external_id: externalId,
      text,
    });
  }
}

export function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
}

// A signed-in console in its own browser context (its own storage, like another person's laptop).
export async function consoleFor(b, hub, user, viewport = { width: 1280, height: 720 }, locale = 'en-US') {
  const context = await b.newContext({ viewport, locale });
  return signInOn(await context.newPage(), hub, user);
}

// Signs `user` in on a fresh page of any context and waits until the console is live.
export async function signInOn(page, hub, user) {
  page.on('pageerror', (e) => console.error(`[${user.email}] page error:`, e.message));
  await page.goto(hub.url);
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.connection[data-state="live"]');
  return page;
}

// Hands a mail to Switchboard's forwarded-mail listener, as the company's MTA would.
export function deliver(port, from, to, raw) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const script = [
      'EHLO mta.test',
      `MAIL FROM:<${from}>`,
      `RCPT TO:<${to}>`,
      'DATA',
      `${raw.replace(/\n/g, '\r\n')}\r\n.`,
      'QUIT',
    ];
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      while (buffer.includes('\r\n')) {
        const line = buffer.slice(0, buffer.indexOf('\r\n'));
        buffer = buffer.slice(buffer.indexOf('\r\n') + 2);
        if (/^\d{3}-/.test(line)) continue;
        if (!/^(2|3)\d\d/.test(line)) {
          reject(new Error(line));
          socket.destroy();
          return;
        }
        const next = script.shift();
        if (next === undefined) {
          socket.end();
          resolve();
          return;
        }
        socket.write(`${next}\r\n`);
      }
    });
    socket.on('error', reject);
  });
}

// axe-core's source, run in the page through the DevTools protocol: an injected <script> would be
// refused by the console's Content-Security-Policy, which is the one the agents get.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Runs axe on the page as it is now and fails on serious or critical violations (WCAG 2.1 A and
// AA, and axe's best practices). `name` says which page in the message; moderate and minor
// findings are returned for the caller to look at.
export async function checkA11y(page, name, { exclude = [] } = {}) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(
    async ({ exclude }) =>
      window.axe.run(
        { include: [document], exclude: exclude.map((s) => [s]) },
        { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } },
      ),
    { exclude },
  );
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (serious.length) {
    const lines = serious.flatMap((v) => [
      `${v.impact} ${v.id}: ${v.help}`,
      ...v.nodes
        .slice(0, 5)
        .map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
    ]);
    throw new Error(
      `${name}: ${serious.length} serious or critical accessibility violations\n${lines.join('\n')}`,
    );
  }
  return results;
}

// Asserts that `locator` is drawn in the design system's danger colour, whatever its value
// (style.css's --danger, which the dark theme changes): a probe drawn in the token is compared.
export async function assertDangerColour(locator, message = 'drawn in the danger colour') {
  const [colour, danger] = await locator.evaluate((e) => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--danger)';
    document.body.append(probe);
    const expected = getComputedStyle(probe).color;
    probe.remove();
    return [getComputedStyle(e).color, expected];
  });
  assert.equal(colour, danger, message);
}

// The elements matching `selector` (visible, with text, drawn on a background of their own)
// whose text is under WCAG AA's 4.5:1 on that background, as "“text” ratio:1". Axe misses some
// of these (a red-on-red button), so the tests measure them.
export function unreadableText(page, selector) {
  return page.evaluate((selector) => {
    const rgb = (c) => c.match(/[\d.]+/g).map(Number);
    const luminance = ([r, g, b]) => {
      const lin = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    return [...document.querySelectorAll(selector)]
      .filter((e) => e.getClientRects().length && e.textContent.trim())
      .map((e) => {
        const style = getComputedStyle(e);
        const bg = rgb(style.backgroundColor);
        if (bg.length === 4 && bg[3] < 1) return null;
        const [a, b] = [luminance(rgb(style.color)), luminance(bg)];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        return ratio < 4.5 ? `“${e.textContent.trim()}” ${ratio.toFixed(2)}:1` : null;
      })
      .filter(Boolean);
  }, selector);
}

// Polls `read` until it answers `expected` (or fails with what it last answered).
export async function until(read, expected, timeout = 5000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await read().catch((e) => e.message);
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(last, expected);
}
