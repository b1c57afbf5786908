# shellcheck shell=bash
#
# Project-local PostgreSQL servers: Debian's packages, data directories under .data/
# (git-ignored), listening on 127.0.0.1 only. Two clusters:
#   dev  (`scripts/dev`, `scripts/eval`): .data/pg on IGSHOP_PG_PORT (default 55432), with
#        Postgres's durable defaults: a merchant's local data survives a power cut.
#   test (`scripts/test`, `scripts/bench`, the web tests): .data/pg-test on IGSHOP_PG_TEST_PORT
#        (default 55433), with fsync=off and synchronous_commit=off: throwaway databases, fast.
#
#   source scripts/lib/postgres.sh
#   start_postgres [dev|test]  # installs if missing, initialises once, starts if not running,
#                              # creates the roles and the database, exports DATABASE_URL and
#                              # DATABASE_ADMIN_URL (default: dev)
#   stop_postgres [dev|test]
#
# When DATABASE_URL and DATABASE_ADMIN_URL are both already set, start_postgres uses them and
# starts nothing: any Postgres 15+ works, given an admin role with CREATEROLE (and CREATEDB for
# the tests) and a separate application role.
#
# Environment: IGSHOP_PG_PORT, IGSHOP_PG_TEST_PORT, IGSHOP_PG_DB (default igshop).
# Functions return non-zero on failure; they never `exit` the sourcing shell.

PG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_CREDENTIALS="$PG_ROOT/.data/pg-credentials.env"

# Points PG_DATA, PG_RUN, PG_LOG, PG_PORT and PG_DURABILITY at one cluster.
_pg_select() {
    case "${1:-dev}" in
        dev)
            PG_CLUSTER=dev
            PG_DATA="$PG_ROOT/.data/pg"
            PG_RUN="$PG_ROOT/.data/pg-run"
            PG_LOG="$PG_ROOT/.data/postgres.log"
            PG_PORT="${IGSHOP_PG_PORT:-55432}"
            PG_DURABILITY=""
            ;;
        test)
            PG_CLUSTER=test
            PG_DATA="$PG_ROOT/.data/pg-test"
            PG_RUN="$PG_ROOT/.data/pg-test-run"
            PG_LOG="$PG_ROOT/.data/postgres-test.log"
            PG_PORT="${IGSHOP_PG_TEST_PORT:-55433}"
            PG_DURABILITY="-c fsync=off -c synchronous_commit=off"
            ;;
        *) echo "start_postgres: unknown cluster ${1} (dev or test)" >&2; return 1 ;;
    esac
}
_pg_select dev

_pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    return 1
}

_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Postgres refuses to run as root: as root we run it as the `postgres` OS user the package made.
_pg_user_run() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_postgres() {
    if _pg_bindir >/dev/null; then return 0; fi
    echo "==> installing PostgreSQL from the OS packages"
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null || return 1
    # The package may start a cluster of its own on 5432; ours is separate and does not need it.
    _pg_bindir >/dev/null
}

_pg_port() { echo "$PG_PORT"; }

_pg_psql() {
    local bindir; bindir="$(_pg_bindir)" || return 1
    _pg_user_run "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$(_pg_port)" -U postgres "$@"
}

start_postgres() {
    if [ -n "${DATABASE_URL:-}" ] && [ -n "${DATABASE_ADMIN_URL:-}" ]; then
        echo "==> using the Postgres named by DATABASE_URL / DATABASE_ADMIN_URL"
        return 0
    fi
    _pg_select "${1:-dev}" || return 1
    install_postgres || { echo "could not install PostgreSQL" >&2; return 1; }
    local bindir; bindir="$(_pg_bindir)"
    mkdir -p "$PG_ROOT/.data" "$PG_RUN"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_RUN"; fi

    if [ ! -s "$PG_CREDENTIALS" ]; then
        umask 077
        {
            echo "IGSHOP_PG_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
            echo "IGSHOP_PG_APP_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
        } >"$PG_CREDENTIALS"
        umask 022
    fi
    # shellcheck disable=SC1090
    . "$PG_CREDENTIALS"

    if [ ! -s "$PG_DATA/PG_VERSION" ]; then
        echo "==> initialising a Postgres data directory in ${PG_DATA#"$PG_ROOT/"}"
        mkdir -p "$PG_DATA"
        if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DATA"; fi
        chmod 700 "$PG_DATA"
        _pg_user_run "$bindir/initdb" -D "$PG_DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
            --encoding=UTF8 --locale=C.UTF-8 >"$PG_ROOT/.data/initdb.log" 2>&1 \
            || { cat "$PG_ROOT/.data/initdb.log" >&2; return 1; }
    fi
    touch "$PG_LOG"; if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_LOG"; fi

    # A dev cluster started by an earlier version of this script ran with fsync=off: restart
    # it with the durable defaults.
    if [ "$PG_CLUSTER" = dev ] && _pg_user_run "$bindir/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1 \
        && [ "$(_pg_psql -d postgres -Atc "SHOW fsync" 2>/dev/null)" = "off" ]; then
        echo "==> restarting the dev Postgres with durable settings (fsync on)"
        _pg_user_run "$bindir/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || return 1
    fi
    if ! _pg_user_run "$bindir/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
        echo "==> starting the $PG_CLUSTER Postgres on 127.0.0.1:$(_pg_port)"
        _pg_user_run "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
            -o "-p $(_pg_port) -k $PG_RUN -c listen_addresses=127.0.0.1 -c max_connections=300 $PG_DURABILITY -c shared_preload_libraries=pg_stat_statements" \
            start >/dev/null || { tail -20 "$PG_LOG" >&2; return 1; }
    fi

    local db="${IGSHOP_PG_DB:-igshop}"
    _pg_psql -d postgres <<SQL || return 1
SELECT 'CREATE ROLE igshop_admin LOGIN CREATEROLE CREATEDB'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'igshop_admin') \gexec
SELECT 'CREATE ROLE igshop_app LOGIN NOSUPERUSER NOBYPASSRLS'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'igshop_app') \gexec
ALTER ROLE igshop_admin PASSWORD '$IGSHOP_PG_ADMIN_PASSWORD';
ALTER ROLE igshop_app PASSWORD '$IGSHOP_PG_APP_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER igshop_admin', '$db')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$db') \gexec
SQL
    local hostport="127.0.0.1:$(_pg_port)"
    export DATABASE_ADMIN_URL="postgres://igshop_admin:${IGSHOP_PG_ADMIN_PASSWORD}@${hostport}/${db}?sslmode=disable"
    export DATABASE_URL="postgres://igshop_app:${IGSHOP_PG_APP_PASSWORD}@${hostport}/${db}?sslmode=disable"
}

stop_postgres() {
    _pg_select "${1:-dev}" || return 1
    local bindir; bindir="$(_pg_bindir)" || return 0
    if [ -s "$PG_DATA/PG_VERSION" ]; then
        _pg_user_run "$bindir/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
    fi
}
