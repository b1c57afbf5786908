# shellcheck shell=bash
# Shared by scripts/backup and scripts/restore: URLs and blob copies.

# The database of a postgres:// URL.
database_of() {
    local rest="${1#*://}"
    rest="${rest#*@}"
    rest="${rest#*/}"
    echo "${rest%%\?*}"
}

# The same URL naming another database.
with_database() {
    local url="$1" db="$2" query=""
    [[ "$url" == *\?* ]] && query="?${url#*\?}"
    local base="${url%%\?*}"
    echo "${base%/*}/$db$query"
}

# The URL without its password, for output.
redacted() {
    sed -E 's#(://[^:/@]+):[^@]*@#\1:REDACTED@#' <<<"$1"
}

# The handler binary copies blobs with the app's own storage client.
handler_bin() {
    if [ -n "${HANDLER:-}" ]; then echo "$HANDLER"; return; fi
    if [ ! -x "$ROOT/target/debug/handler" ]; then
        (cd "$ROOT" && cargo build -q -p handlers --bin handler)
    fi
    echo "$ROOT/target/debug/handler"
}

blob_put() {
    local container="$1" path="$2" file="$3"
    if [ -n "${AZURE_STORAGE_CONNECTION_STRING:-}" ]; then
        IGSHOP_SETTINGS_FILE=/nonexistent LOG_FORMAT=pretty RUST_LOG=warn \
            "$(handler_bin)" blob put --container "$container" --path "$path" --file "$file" >/dev/null
    elif [ -n "${AZURE_STORAGE_ACCOUNT:-}" ]; then
        az storage container create --auth-mode login --account-name "$AZURE_STORAGE_ACCOUNT" --name "$container" -o none
        az storage blob upload --auth-mode login --account-name "$AZURE_STORAGE_ACCOUNT" \
            --container-name "$container" --name "$path" --file "$file" --overwrite -o none
    else
        echo "set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT (see --help)" >&2
        return 2
    fi
}

blob_get() {
    local container="$1" path="$2" file="$3"
    if [ -n "${AZURE_STORAGE_CONNECTION_STRING:-}" ]; then
        IGSHOP_SETTINGS_FILE=/nonexistent LOG_FORMAT=pretty RUST_LOG=warn \
            "$(handler_bin)" blob get --container "$container" --path "$path" --file "$file" >/dev/null
    elif [ -n "${AZURE_STORAGE_ACCOUNT:-}" ]; then
        az storage blob download --auth-mode login --account-name "$AZURE_STORAGE_ACCOUNT" \
            --container-name "$container" --name "$path" --file "$file" -o none
    else
        echo "set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT (see --help)" >&2
        return 2
    fi
}
