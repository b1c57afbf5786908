# shellcheck shell=bash
# Shared by scripts/dev, scripts/test and scripts/bench: the repo root and the tool checks.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

require_tools() {
    local missing=()
    command -v cargo >/dev/null || missing+=("cargo (Rust toolchain)")
    command -v node >/dev/null || missing+=("node (Node.js 20)")
    command -v npm >/dev/null || missing+=("npm")
    if [ ${#missing[@]} -gt 0 ]; then
        echo "missing: ${missing[*]} — this project expects a Debian machine with Rust and Node 20" >&2
        return 1
    fi
}

# curl is used to wait for services; Debian minimal images may lack it.
ensure_curl() {
    command -v curl >/dev/null && return 0
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq curl >/dev/null; else sudo apt-get install -y -qq curl >/dev/null; fi
}

# A local TOKEN_ENCRYPTION_KEY, made once in .data/ (git-ignored), unless one is given.
ensure_local_token_key() {
    if [ -n "${TOKEN_ENCRYPTION_KEY:-}" ]; then return 0; fi
    mkdir -p "$ROOT/.data"
    if [ ! -s "$ROOT/.data/token-encryption-key" ]; then
        (umask 077; head -c 32 /dev/urandom | base64 > "$ROOT/.data/token-encryption-key")
    fi
    TOKEN_ENCRYPTION_KEY="$(cat "$ROOT/.data/token-encryption-key")"
    export TOKEN_ENCRYPTION_KEY
}
