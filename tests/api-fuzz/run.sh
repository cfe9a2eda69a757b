#!/usr/bin/env bash
# Fuzzes the REST API with Schemathesis against the OpenAPI document the hub serves: a fresh hub
# (the debug binary, a new SQLite data directory, a free port), once as the owner and once as a
# website visitor. Fails on any 5xx, any response that does not fit its schema, and any status
# code the document does not list.
#
#   bash tests/api-fuzz/run.sh            # as CI runs it
#   EXAMPLES=50 bash tests/api-fuzz/run.sh
#
# SWITCHBOARD_BIN picks another binary (a release build, say); EXAMPLES bounds the test cases
# per operation and phase (the whole run stays within a few minutes at the default).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="$(cd "$repo" && realpath -m "${CARGO_TARGET_DIR:-target}")"
examples="${EXAMPLES:-60}"
seed="${SEED:-20261201}"

log() { printf '\n==> %s\n' "$*"; }

if [ -z "${SWITCHBOARD_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet --bin switchboard)
  SWITCHBOARD_BIN="$target/debug/switchboard"
fi

# Schemathesis at the version pinned in requirements.txt, in a virtualenv of its own.
venv="${API_FUZZ_VENV:-$target/api-fuzz-venv}"
wanted="$(sed -n 's/^schemathesis==//p' "$here/requirements.txt")"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $wanted\$"; then
  log "installing schemathesis $wanted"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-api-fuzz.XXXXXX")"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
owner_email="owner@example.com"
owner_password="correct horse battery staple"

log "hub on $url (data in $work)"
# Generous budgets: the fuzzer sends thousands of requests from one address, and what is tested
# here is the shape of the answers, not the throttles (tests/ pin those).
SWITCHBOARD_OWNER_EMAIL="$owner_email" SWITCHBOARD_OWNER_PASSWORD="$owner_password" \
  SWITCHBOARD__WIDGET__REQUESTS_PER_MINUTE=1000000 \
  SWITCHBOARD__SECURITY__LOGIN_MAX_FAILURES=1000000 \
  SWITCHBOARD__EMAIL__IMAP_ENABLED=false \
  RUST_LOG="${RUST_LOG:-warn}" \
  "$SWITCHBOARD_BIN" serve --addr "127.0.0.1:$port" --data-dir "$work/data" >"$work/hub.log" 2>&1 &
hub=$!
cleanup() {
  kill "$hub" 2>/dev/null || true
  wait "$hub" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "$url/readyz" >/dev/null 2>&1 && break
  kill -0 "$hub" 2>/dev/null || { cat "$work/hub.log"; exit 1; }
  sleep 0.2
done

# The world the fuzzer starts from: the owner's token, an API inbox with a conversation, and a
# web chat inbox with a visitor who has written.
api() { # METHOD PATH [BODY] [TOKEN]
  curl -fsS -X "$1" "$url$2" -H 'Content-Type: application/json' \
    ${4:+-H "Authorization: Bearer $4"} ${3:+--data "$3"}
}
field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

login() { api POST /api/v1/auth/login "{\"email\": \"$owner_email\", \"password\": \"$owner_password\"}" | field '["token"]'; }
owner="$(login)"
# The last pass's own session, signed in now: by then the fuzzed login has met its throttle.
last="$(login)"
api_inbox="$(api POST /api/v1/inboxes '{"name": "Fuzz API", "kind": "api"}' "$owner" | field '["id"]')"
api POST "/api/v1/inboxes/$api_inbox/messages" \
  '{"contact": {"identifier": "fuzz-customer", "name": "Fuzz Customer"}, "external_id": "fuzz-1", "text": "hello"}' \
  "$owner" >/dev/null
website_token="$(api POST /api/v1/inboxes '{"name": "Fuzz chat", "kind": "web_chat"}' "$owner" | field '["settings"]["website_token"]')"
visitor="$(api POST /widget/v1/sessions "{\"website_token\": \"$website_token\"}" | field '["visitor_token"]')"
api POST /widget/v1/messages '{"client_id": "fuzz-visitor-1", "text": "hi from the site"}' "$visitor" >/dev/null

# Checks: every one that judges a single answer. Left out, and why:
# - positive_data_acceptance: valid-looking ids mostly name nothing (404) and valid-looking
#   bodies often conflict (409); both are correct answers, and documented.
# - use_after_free, ensure_resource_availability: need links between operations the document
#   does not declare.
checks="not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,missing_required_header,unsupported_method,allow_header_conformance,ignored_auth"
common=(--checks "$checks" --max-examples "$examples" --seed "$seed" --workers 1
  --phases examples,coverage,fuzzing --request-timeout 10 --no-shrink
  --suppress-health-check all --warnings off)

# Schemathesis keeps a cache in its working directory: the throwaway one, not the repository.
cd "$work"
status=0
log "as a website visitor: the widget's endpoints"
# Not fuzzed: the sockets (GET on /ws is a WebSocket upgrade, which Schemathesis does not speak).
"$venv/bin/schemathesis" run "$url/api/v1/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer $visitor" \
  --include-path-regex '^/widget/' --exclude-path '/widget/v1/ws' || status=1

# Routes that end sessions or change accounts would end the run's own token (logout, token ids
# are small integers the fuzzer soon guesses, disabling or resetting user 1 is the owner): they
# run last, in a pass of their own with a session of their own. Once that session is gone the
# rest of the pass answers 401, which is documented, so the pass cannot fail falsely, only
# prove less.
account_routes='^/api/v1/(auth/logout|auth/logout-everywhere|tokens/\{token_id\}|users/\{user_id\}|users/\{user_id\}/password|me/password)$'

log "as the owner: everything else"
# Not fuzzed here: the sockets (GET on /ws is a WebSocket upgrade, which Schemathesis does not
# speak) and the account routes above.
"$venv/bin/schemathesis" run "$url/api/v1/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer $owner" \
  --exclude-path '/api/v1/ws' --exclude-path-regex "^/widget/|$account_routes" || status=1

log "as the owner, last: sessions, tokens and accounts"
"$venv/bin/schemathesis" run "$url/api/v1/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer $last" \
  --include-path-regex "$account_routes" || status=1

if [ "$status" -ne 0 ]; then
  log "hub log (last 50 lines)"
  tail -n 50 "$work/hub.log"
fi
exit "$status"
