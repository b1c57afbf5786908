# shellcheck shell=bash
#
# Local Azure Blob Storage emulator (Azurite, blob service only) for tests and local runs.
# No Docker: Azurite is installed from npm into $ROOT/.data/tools.
#
# Usage (source it, do not execute it):
#   source scripts/lib/azurite.sh
#   start_azurite      # installs if needed, starts if the port is not answering, waits, exports
#                      # AZURE_STORAGE_CONNECTION_STRING
#   stop_azurite       # stops the Azurite process that start_azurite started (pid file)
#
# Environment:
#   AZURITE_BLOB_PORT  blob port on 127.0.0.1 (default 10000)
#   AZURITE_VERSION    npm version to install (default below)
#
# Both functions are idempotent. They return non-zero (never `exit`) on failure, so a sourcing
# shell is not killed.

# Pinned Azurite version. 3.35.0 is the newest release that still runs on Node 20
# (3.36 needs Node >= 21, 3.37 needs Node >= 22).
AZURITE_DEFAULT_VERSION="3.35.0"

# Repository root, from this file's location (scripts/lib/azurite.sh -> repo root).
AZURITE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Azurite's well-known development account. The key is public and documented by Microsoft
# ("Use the Azurite emulator for local Azure Storage development"); it only works against the emulator.
AZURITE_ACCOUNT_NAME="devstoreaccount1"
AZURITE_ACCOUNT_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_azurite_port() { printf '%s' "${AZURITE_BLOB_PORT:-10000}"; }
_azurite_tools_dir() { printf '%s' "$AZURITE_ROOT/.data/tools"; }
_azurite_bin() { printf '%s' "$(_azurite_tools_dir)/node_modules/.bin/azurite-blob"; }
_azurite_pid_file() { printf '%s' "$AZURITE_ROOT/.data/azurite-$(_azurite_port).pid"; }
_azurite_log_file() { printf '%s' "$AZURITE_ROOT/.data/azurite.log"; }
# Data folder: .data/azurite for the default port; another port gets its own folder, so two
# instances never share one.
_azurite_location() {
    if [ "$(_azurite_port)" = "10000" ]; then
        printf '%s' "$AZURITE_ROOT/.data/azurite"
    else
        printf '%s' "$AZURITE_ROOT/.data/azurite-$(_azurite_port)"
    fi
}

# True when something accepts TCP connections on 127.0.0.1:$1 (bounded to 1 s).
_azurite_port_answers() {
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# True when the server on 127.0.0.1:$1 identifies itself as Azurite's blob service
# (plain bash HTTP request: no curl needed; bounded to 3 s).
_azurite_is_azurite() {
    local response
    response="$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET /%s?comp=list HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n" "$2" "$1" >&3
        cat <&3
    ' _ "$1" "$AZURITE_ACCOUNT_NAME" 2>/dev/null)" || true
    grep -qi '^server: *azurite-blob' <<<"$response"
}

_azurite_installed_version() {
    local pkg
    pkg="$(_azurite_tools_dir)/node_modules/azurite/package.json"
    [ -f "$pkg" ] || return 1
    node -p "require(process.argv[1]).version" "$pkg" 2>/dev/null
}

_azurite_install() {
    local version tools installed
    version="${AZURITE_VERSION:-$AZURITE_DEFAULT_VERSION}"
    tools="$(_azurite_tools_dir)"
    installed="$(_azurite_installed_version || true)"
    if [ "$installed" = "$version" ] && [ -x "$(_azurite_bin)" ]; then
        return 0
    fi
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "azurite: node and npm are required to install Azurite (npm package 'azurite')" >&2
        return 1
    fi
    mkdir -p "$tools" || return 1
    echo "azurite: installing azurite@$version into $tools ..." >&2
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "azurite@$version" >&2 || {
        echo "azurite: npm install azurite@$version failed" >&2
        return 1
    }
    [ -x "$(_azurite_bin)" ] || {
        echo "azurite: $(_azurite_bin) missing after install" >&2
        return 1
    }
}

_azurite_export_env() {
    local port
    port="$(_azurite_port)"
    export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT_NAME;AccountKey=$AZURITE_ACCOUNT_KEY;BlobEndpoint=http://127.0.0.1:$port/$AZURITE_ACCOUNT_NAME;"
}

start_azurite() {
    local port pid_file log_file pid deadline
    port="$(_azurite_port)"
    pid_file="$(_azurite_pid_file)"
    log_file="$(_azurite_log_file)"

    if _azurite_port_answers "$port"; then
        if _azurite_is_azurite "$port"; then
            _azurite_export_env
            return 0
        fi
        echo "azurite: 127.0.0.1:$port is in use by something that is not Azurite; set AZURITE_BLOB_PORT to a free port" >&2
        return 1
    fi

    _azurite_install || return 1
    mkdir -p "$(_azurite_location)" || return 1

    # --silent: no access log (request URLs carry SAS query strings); --disableTelemetry: no
    # outbound calls from the emulator.
    # Detached from this shell (own session via `setsid -f`, no stdin), so it survives the caller
    # and never holds the caller's stdout/stderr open. The inner shell records its own pid, then
    # execs Azurite under that same pid.
    rm -f "$pid_file"
    setsid -f bash -c 'echo $$ >"$0"; exec "$@"' "$pid_file" \
        "$(_azurite_bin)" \
        --blobHost 127.0.0.1 \
        --blobPort "$port" \
        --location "$(_azurite_location)" \
        --skipApiVersionCheck \
        --loose \
        --silent \
        --disableTelemetry \
        </dev/null >>"$log_file" 2>&1 || {
        echo "azurite: failed to launch $(_azurite_bin)" >&2
        return 1
    }

    # Poll until the port answers (bounded: 30 s).
    deadline=$((SECONDS + 30))
    until _azurite_port_answers "$port"; do
        pid="$(cat "$pid_file" 2>/dev/null || true)"
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "azurite: process exited during start-up; last log lines ($log_file):" >&2
            tail -n 20 "$log_file" >&2
            rm -f "$pid_file"
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "azurite: 127.0.0.1:$port did not answer within 30 s; see $log_file" >&2
            return 1
        fi
        sleep 0.2
    done

    _azurite_export_env
}

stop_azurite() {
    local pid_file pid cmdline deadline
    pid_file="$(_azurite_pid_file)"
    [ -f "$pid_file" ] || return 0
    pid="$(cat "$pid_file" 2>/dev/null || true)"
    # Only stop the process this script started, and only if it still is Azurite.
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    if [ -n "$pid" ] && [[ "$cmdline" == *azurite* ]]; then
        kill "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 10))
        while kill -0 "$pid" 2>/dev/null; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                kill -9 "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.1
        done
    fi
    rm -f "$pid_file"
}
