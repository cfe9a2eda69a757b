// Runs a real Switchboard (the debug binary cargo built) on a throwaway data directory and drives
// its API, so browser tests start from a known world and can kill and restart the server.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
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
    const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, 'target');
    const bin = process.env.SWITCHBOARD_BIN || join(target, 'debug', 'switchboard');
    this.process = spawn(bin, ['serve', '--addr', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir], {
      env: { ...process.env, ...this.env, SWITCHBOARD_OWNER_EMAIL: OWNER.email, SWITCHBOARD_OWNER_PASSWORD: OWNER.password, RUST_LOG: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.url}/readyz`)).ok) return;
      } catch { /* not up yet */ }
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

  async restart() { await this.boot(); }

  async stop() {
    if (this.process && this.process.exitCode === null) await this.kill();
  }

  async call(method, path, body, token = this.token) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`${this.url}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
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

  inbox(name, kind = 'api') { return this.call('POST', '/api/v1/inboxes', { name, kind }); }

  // A customer message through the API channel.
  customerSays(inboxId, who, text, externalId) {
    return this.call('POST', `/api/v1/inboxes/${inboxId}/messages`, {
      contact: { identifier: who.identifier, name: who.name }, external_id: externalId, text,
    });
  }
}

export function browser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
}

// A signed-in console in its own browser context (its own storage, like another person's laptop).
export async function consoleFor(b, hub, user, viewport = { width: 1280, height: 720 }) {
  const context = await b.newContext({ viewport, locale: 'en-US' });
  const page = await context.newPage();
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
    const script = ['EHLO mta.test', `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA', `${raw.replace(/\n/g, '\r\n')}\r\n.`, 'QUIT'];
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      while (buffer.includes('\r\n')) {
        const line = buffer.slice(0, buffer.indexOf('\r\n'));
        buffer = buffer.slice(buffer.indexOf('\r\n') + 2);
        if (/^\d{3}-/.test(line)) continue;
        if (!/^(2|3)\d\d/.test(line)) { reject(new Error(line)); socket.destroy(); return; }
        const next = script.shift();
        if (next === undefined) { socket.end(); resolve(); return; }
        socket.write(`${next}\r\n`);
      }
    });
    socket.on('error', reject);
  });
}
