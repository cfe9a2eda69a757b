// The mail lab for browser tests: a throwaway Postfix and Dovecot on loopback
// (tests/support/mail-lab, the one the Rust email tests use), and the console's new-inbox form
// filled in for one of its mailboxes.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repo } from './harness.js';

const script = join(repo, 'tests', 'support', 'mail-lab');

export class MailLab {
  // Starts one; its ports are `imapPort` and `smtpPort`. Users from the start include
  // support@support.test and marketing@support.test (password: the local part and "-pass").
  static start() {
    const lab = new MailLab();
    lab.dir = mkdtempSync(join(tmpdir(), 'sb-browser-mail-'));
    const out = execFileSync(script, ['start', lab.dir], { encoding: 'utf8' });
    const env = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => l.split('=', 2)),
    );
    lab.imapPort = env.IMAP_PORT;
    lab.imapsPort = env.IMAPS_PORT;
    lab.smtpPort = env.SMTP_PORT;
    return lab;
  }

  adduser(address, password) {
    execFileSync(script, ['adduser', this.dir, address, password]);
  }

  stop() {
    if (this.dir) execFileSync(script, ['stop', this.dir]);
  }
}

// Fills the new-inbox dialog (channel-setup.js) for an email inbox reading `address` over plain
// IMAP and sending through the lab's Postfix.
export async function fillEmailInbox(dialog, lab, { name, address, password }) {
  await dialog.locator('select[name=kind]').selectOption('email');
  await dialog.locator('input[name=name]').fill(name);
  await dialog.locator('input[name="email.address"]').fill(address);
  await dialog.locator('input[name="email.imap.host"]').fill('127.0.0.1');
  await dialog.locator('input[name="email.imap.port"]').fill(lab.imapPort);
  await dialog.locator('select[name="email.imap.security"]').selectOption('plain');
  await dialog.locator('input[name="email.imap.username"]').fill(address);
  await dialog.locator('input[name="imap_password"]').fill(password);
  await dialog.locator('input[name="email.smtp.host"]').fill('127.0.0.1');
  await dialog.locator('input[name="email.smtp.port"]').fill(lab.smtpPort);
  await dialog.locator('select[name="email.smtp.security"]').selectOption('plain');
}
