#!/usr/bin/env bash
# The infrastructure consistency check: parses infra/main.bicep with a real Bicep parser
# (pycep-parser, pinned in infra/tests/requirements.txt) and fails when it disagrees with the
# binary's settings, function.json files, host.json or the roles the code needs.
# Creates .data/infra-venv once (again only when the requirements change). Called by scripts/test.
set -euo pipefail
source "$(dirname "$0")/common.sh"

venv="$ROOT/.data/infra-venv"
requirements="$ROOT/infra/tests/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v python3 >/dev/null || { echo "missing: python3" >&2; exit 1; }
    mkdir -p "$ROOT/.data"
    if ! python3 -m venv --clear "$venv" >/dev/null 2>&1; then
        # Debian ships ensurepip separately.
        if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        else sudo apt-get install -y -qq python3-venv >/dev/null; fi
        python3 -m venv --clear "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
    echo "$want" > "$stamp"
fi

cd "$ROOT/infra/tests"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
