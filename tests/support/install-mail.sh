#!/usr/bin/env bash
# The email tests run a real Postfix (SMTP) and Dovecot (IMAP) from Debian's packages, started per
# test by tests/support/mail-lab on loopback; nothing to do when they are installed.
set -euo pipefail
# shellcheck source=tests/support/apt.sh
source "$(dirname "$0")/apt.sh"
if ! command -v dovecot >/dev/null || ! command -v postfix >/dev/null; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  # policy-rc.d keeps the system-wide services from starting; the tests start their own.
  apt_install dovecot-imapd postfix
fi
# The packaged system-wide instances are not used (and must not hold ports 25/143).
postfix stop >/dev/null 2>&1 || true
dovecot --version
postconf -d -h mail_version
