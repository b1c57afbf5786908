#!/usr/bin/env bash
# A bounded property-based fuzz run of the API against its own OpenAPI document: schemathesis
# (pinned in scripts/lib/fuzz/requirements.txt, venv in .data/tools/fuzz-venv, made once)
# against `target/debug/handler serve` on a fresh database, signed in as a local test shop,
# every operation except the ones that reach out to other servers (knowledge URL fetches, the
# model connection test, test chat, Instagram resync and replies) or end the run's own session
# or shop. The checks are schemathesis' response checks (no 5xx, status codes, content types,
# headers and bodies as documented); fails on a 5xx or a response the document does not allow.
# Prints the figures (operations, requests, failures). Needs DATABASE_ADMIN_URL/DATABASE_URL
# and AZURE_STORAGE_CONNECTION_STRING (scripts/test sets them) and a built handler.
# FUZZ_MAX_EXAMPLES (default 8) bounds the cases per operation (about 2 minutes on 2 cores);
# the last run's log is kept in .data/fuzz-last.log. Called by scripts/test.
set -euo pipefail
source "$(dirname "$0")/common.sh"

venv="$ROOT/.data/tools/fuzz-venv"
requirements="$ROOT/scripts/lib/fuzz/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/st" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v python3 >/dev/null || { echo "missing: python3" >&2; exit 1; }
    mkdir -p "$ROOT/.data/tools"
    if ! python3 -m venv --clear "$venv" >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        else sudo apt-get install -y -qq python3-venv >/dev/null; fi
        python3 -m venv --clear "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
    echo "$want" > "$stamp"
fi

ensure_curl
handler="$ROOT/target/debug/handler"
[ -x "$handler" ] || { echo "missing: $handler (cargo build -p handlers --bin handler)" >&2; exit 1; }
: "${DATABASE_ADMIN_URL:?}" "${DATABASE_URL:?}" "${AZURE_STORAGE_CONNECTION_STRING:?}"

work="$(mktemp -d)"
db="igshop_fuzz_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
with_db() { python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$1" "$db"; }
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    psql -X -q "$DATABASE_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Instagram is configured (so callbacks check signatures) but points at a closed loopback
# port: nothing leaves this machine. No model is configured.
env -i PATH="$PATH" HOME="${HOME:-/root}" \
    DATABASE_ADMIN_URL="$(with_db "$DATABASE_ADMIN_URL")" DATABASE_URL="$(with_db "$DATABASE_URL")" \
    AZURE_STORAGE_CONNECTION_STRING="$AZURE_STORAGE_CONNECTION_STRING" \
    TOKEN_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)" \
    IGSHOP_SETTINGS_FILE=/nonexistent IGSHOP_ENV=local PORT="$port" BIND_ADDRESS=127.0.0.1 \
    FRONTEND_DIST="$work/no-dist" PUBLIC_BASE_URL="$base" \
    INSTAGRAM_APP_ID=1000000001 INSTAGRAM_APP_SECRET="$(secret)" META_APP_SECRET="$(secret)" META_VERIFY_TOKEN="$(secret)" \
    INSTAGRAM_AUTHORIZE_URL=http://127.0.0.1:9/oauth/authorize INSTAGRAM_API_BASE=http://127.0.0.1:9 INSTAGRAM_GRAPH_BASE=http://127.0.0.1:9 \
    SEARCH_BACKEND=postgres RUST_LOG="${RUST_LOG:-error}" \
    bash -c '"$0" migrate >/dev/null && exec "$0" serve' "$handler" >"$work/handler.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    curl -fsS "$base/api/health?probe=live" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$work/handler.log" >&2; exit 1; }
    sleep 0.2
done

# Signed in as a test shop, as the web app does locally: the session cookie and its CSRF token.
signed_in="$(curl -fsS -c "$work/cookies" -X POST "$base/api/v1/auth/local" -d '{"handle":"fuzz.shop"}')"
csrf="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["csrf_token"])' <<<"$signed_in")"
session="$(awk '$6 == "igshop_session" { print $7 }' "$work/cookies")"

set +e
# Run from the scratch folder: schemathesis keeps a .schemathesis/ cache where it runs.
cd "$work"
"$venv/bin/st" run "$base/api/v1/openapi.json" --url "$base" \
    -H "Cookie: igshop_session=$session" -H "X-CSRF-Token: $csrf" \
    --exclude-path /api/v1/knowledge/documents/url \
    --exclude-path /api/v1/settings/model/test \
    --exclude-path /api/v1/test-chat \
    --exclude-path /api/v1/instagram/resync \
    --exclude-path '/api/v1/conversations/{id}/reply' \
    --exclude-path /api/v1/session/logout \
    --exclude-path /api/v1/shop \
    --exclude-path /api/admin/auth/sign-in \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --max-examples "${FUZZ_MAX_EXAMPLES:-8}" --seed "${FUZZ_SEED:-14}" --workers 2 \
    --phases examples,coverage,fuzzing --request-timeout 10 \
    --no-color >"$work/st.log" 2>&1
status=$?
set -e
mkdir -p "$ROOT/.data"
cp "$work/st.log" "$ROOT/.data/fuzz-last.log"
cp "$work/handler.log" "$ROOT/.data/fuzz-last-handler.log"
if [ "$status" -ne 0 ]; then
    # The failures (each with a curl line to reproduce it) come before the summary.
    grep -B2 -A14 -E "^(_+ |❌|Reproduce with)" "$work/st.log" | head -n 200 >&2 || true
fi
sed -n '/SUMMARY/,$p' "$work/st.log"
python3 - "$work/st.log" <<'EOF2' || true
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
tested = re.search(r"Tested:\s*(\d+)", text)
cases = re.search(r"(\d+) generated", text)
failed = re.search(r"(\d+) found (\d+) unique failures", text)
print("# fuzz: {} operations, {} requests (test cases), {} failures".format(
    tested.group(1) if tested else "?", cases.group(1) if cases else "?",
    failed.group(2) if failed else "0"))
EOF2
if grep -q "panicked" "$work/handler.log"; then
    echo "the handler panicked during the fuzz run:" >&2
    grep -m5 -A3 "panicked" "$work/handler.log" >&2
    status=1
fi
exit "$status"
