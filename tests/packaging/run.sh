#!/usr/bin/env bash
# The Debian package, tested as an operator meets it: build the .deb with cargo-deb, install it
# with dpkg on this machine, start the installed binary the way its systemd unit does (as the
# unit's user, from its working directory, with its environment and its ExecStart; systemd does
# not run in containers, so this script reads those lines from the installed unit instead of
# repeating them), wait for /readyz, sign in, stop it with SIGTERM, and purge the package.
#
#   bash tests/packaging/run.sh
#
# Needs root (dpkg). Refuses to run where a switchboard package is already installed (it would
# be purged at the end). SWITCHBOARD_DEB=FILE tests a .deb built elsewhere instead of building.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

log() { printf -- '-- %s\n' "$*"; }
fail() { printf 'packaging test FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root to install packages"
if dpkg-query -W -f='${Status}' switchboard 2>/dev/null | grep -q 'installed'; then
  fail "a switchboard package is installed on this machine already; this test would purge it"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-packaging.XXXXXX")"
hub=""
installed=""
cleanup() {
  if [ -n "$hub" ]; then kill "$hub" 2>/dev/null || true; wait "$hub" 2>/dev/null || true; fi
  if [ -n "$installed" ]; then dpkg --purge switchboard >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. Build. The same release build as bench/run's (same packages, so the same features): the
#    benchmark smoke run after this one then builds nothing again, and neither does a re-run.
deb="${SWITCHBOARD_DEB:-}"
if [ -z "$deb" ]; then
  log "building the release binary and the .deb"
  cargo build --release --quiet -p switchboard -p loadgen
  cargo deb --no-build --quiet -p switchboard --output "$work/"
  deb="$(ls "$work"/switchboard_*.deb)"
fi
log "package: $(dpkg-deb --field "$deb" Package Version Architecture Depends | tr '\n' ' ')"

# 2. What the package holds, before installing it.
contents="$(dpkg-deb --contents "$deb")"
for path in ./usr/bin/switchboard ./etc/switchboard/switchboard.toml \
  ./etc/switchboard/switchboard.env ./usr/share/doc/switchboard/copyright; do
  grep -q " $path\$" <<<"$contents" || fail "the package has no $path"
done
unit_path="$(grep -o '\./[^ ]*/systemd/system/switchboard\.service$' <<<"$contents")" ||
  fail "the package has no systemd unit"
unit="${unit_path#.}"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/switchboard/switchboard.toml ||
  fail "/etc/switchboard/switchboard.toml is not a conffile"

# 3. Install.
log "dpkg -i $(basename "$deb")"
installed=yes
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
[ -f "$unit" ] || fail "$unit is not installed"
if command -v systemd-analyze >/dev/null; then
  # Catches unknown or misspelt directives (which it only warns about: any output fails here);
  # systemd need not be running for this.
  if ! systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
    cat "$work/verify.log"
    fail "systemd-analyze verify $unit"
  fi
  log "systemd-analyze verify: the unit is clean"
fi

# 4. Read the unit: one value per directive (Environment= may repeat).
directive() { sed -n "s/^$1=//p" "$unit"; }
user="$(directive User)"
group="$(directive Group)"
workdir="$(directive WorkingDirectory)"
exec_start="$(directive ExecStart)"
umask_value="$(directive UMask)"
nofile="$(directive LimitNOFILE)"
if [ -z "$user" ] || [ -z "$workdir" ] || [ -z "$exec_start" ]; then
  fail "the unit lacks User=, WorkingDirectory= or ExecStart="
fi
case "$exec_start" in [-+!@:]*) fail "ExecStart prefixes are not understood here: $exec_start" ;; esac

getent passwd "$user" >/dev/null || fail "postinst made no user $user"
uid="$(id -u "$user")"
[ "$uid" -lt 1000 ] || fail "$user is not a system user (uid $uid)"
[ "$(stat -c %U "$workdir")" = "$user" ] || fail "$workdir is not owned by $user"
[ "$(stat -c %a /etc/switchboard/switchboard.env)" = 600 ] ||
  fail "/etc/switchboard/switchboard.env is readable by others than root"
[ "$(stat -c %G /etc/switchboard/switchboard.toml)" = "${group:-$user}" ] ||
  fail "/etc/switchboard/switchboard.toml is not readable by the service's group"

# The service's environment, as systemd builds it: a clean one, the unit's Environment= lines,
# then each EnvironmentFile= (a leading "-": may be missing), later ones winning.
environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" LANG=C.UTF-8)
while IFS= read -r assignment; do
  environment+=("$assignment")
done < <(directive Environment | python3 -c '
import shlex, sys
for line in sys.stdin:
    for assignment in shlex.split(line):
        print(assignment)')

# An operator's first-start settings, written where the unit reads them: the owner account (to
# sign in below) and a free port (another hub may hold 8080 on this machine).
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
password="packaged $(head -c 12 /dev/urandom | base64)"
cat >>/etc/switchboard/switchboard.env <<EOF
SWITCHBOARD_OWNER_EMAIL=owner@example.com
SWITCHBOARD_OWNER_PASSWORD=$password
SWITCHBOARD__SERVER__ADDR=127.0.0.1:$port
EOF
while IFS= read -r file; do
  optional=""
  [ "${file#-}" != "$file" ] && optional=yes && file="${file#-}"
  if [ ! -e "$file" ]; then
    [ -n "$optional" ] || fail "EnvironmentFile $file is missing"
    continue
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line#"${line%%[![:space:]]*}"}"
    case "$line" in '' | '#'* | ';'*) continue ;; esac
    key="${line%%=*}" value="${line#*=}"
    case "$value" in \"*\" | \'*\') value="${value:1:${#value}-2}" ;; esac
    environment+=("$key=$value")
  done <"$file"
done < <(directive EnvironmentFile)

# 5. Start it as the unit would.
read -r -a command <<<"$exec_start"
log "starting as $user in $workdir: ${command[*]}"
(
  cd "$workdir"
  [ -z "$umask_value" ] || umask "$umask_value"
  [ -z "$nofile" ] || ulimit -n "$nofile" 2>/dev/null || true
  exec setpriv --reuid="$user" --regid="${group:-$user}" --init-groups --no-new-privs \
    env -i "${environment[@]}" "${command[@]}"
) >"$work/hub.log" 2>&1 &
hub=$!

url="http://127.0.0.1:$port"
ready=""
for _ in $(seq 1 150); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; then ready=yes; break; fi
  kill -0 "$hub" 2>/dev/null || break
  sleep 0.2
done
[ -n "$ready" ] || { cat "$work/hub.log"; fail "the installed service never answered 200 on /readyz"; }
log "/readyz answers 200 on $url"

body="$(python3 -c 'import json, sys; print(json.dumps({"email": "owner@example.com", "password": sys.argv[1]}))' "$password")"
status="$(curl -s -o "$work/login.json" -w '%{http_code}' -X POST "$url/api/v1/auth/login" \
  -H 'content-type: application/json' --data "$body")"
[ "$status" = 200 ] || { cat "$work/login.json" "$work/hub.log"; fail "owner login answered $status"; }
log "the owner from switchboard.env signs in"

for file in switchboard.db secret.key; do
  [ "$(stat -c %U "$workdir/$file" 2>/dev/null)" = "$user" ] ||
    { cat "$work/hub.log"; fail "$workdir/$file is missing or not owned by $user"; }
done
[ "$(stat -c %a "$workdir/secret.key")" = 600 ] || fail "secret.key is readable by others"
log "database and secret key are in $workdir, owned by $user"

# 6. Stop it as systemd does (KillSignal=SIGTERM) and expect a clean exit.
kill -TERM "$hub"
code=0
wait "$hub" || code=$?
hub=""
[ "$code" -eq 0 ] || { cat "$work/hub.log"; fail "the hub exited with $code on SIGTERM"; }
log "stopped cleanly on SIGTERM"

# 7. Purge: the binary, the settings and the data are gone.
dpkg --purge switchboard >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge"; }
installed=""
for path in /usr/bin/switchboard /etc/switchboard "$workdir" "$unit"; do
  [ ! -e "$path" ] || fail "$path is still there after purge"
done
log "purged: nothing of it is left but the system user $user"
echo "packaging test passed"
