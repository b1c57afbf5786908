#!/usr/bin/env bash
# The web app's tests, run by scripts/test after the Rust suites (safe to run again and on
# its own): Debian's Chromium (apt, when missing), the npm dependencies (npm ci when
# node_modules is missing or older than package-lock.json), the unit tests (vitest), the
# build, then the end-to-end, accessibility, screenshot and API-drift suites (node --test,
# frontend/e2e/*.test.mjs) against target/debug/handler on fresh databases.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
started=$SECONDS

if [ -z "${DATABASE_ADMIN_URL:-}" ] || [ -z "${AZURE_STORAGE_CONNECTION_STRING:-}" ]; then
    source "$ROOT/scripts/lib/postgres.sh"
    source "$ROOT/scripts/lib/azurite.sh"
    ensure_local_token_key
    start_postgres test
    start_azurite
fi
if [ -z "${IGSHOP_E2E_HANDLER:-}" ] && [ ! -x "$ROOT/target/debug/handler" ]; then
    cargo build -p handlers --bin handler
fi

if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Chromium (Debian package) for the end-to-end tests"
    if [ "$(id -u)" -eq 0 ]; then sudo_=(); else sudo_=(sudo); fi
    "${sudo_[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
fi

cd "$ROOT/frontend"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "==> npm ci (frontend)"
    npm ci --no-audit --no-fund
fi
# A failing unit test does not hide the end-to-end results (like cargo's --no-fail-fast).
failed=()
echo "==> web unit tests (vitest)"
npm run test:unit || failed+=("unit")
echo "==> web build"
npm run build
echo "==> web end-to-end tests (Chromium, handler serve, scripted Instagram and model)"
npm run test:e2e || failed+=("end-to-end")
echo "==> web tests took $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "web tests failed: ${failed[*]}" >&2
    exit 1
fi
