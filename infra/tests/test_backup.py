"""scripts/backup and scripts/restore against the local Postgres cluster and Azurite: a
migrated database with a shop and an item is dumped to blob storage, restored into a fresh
database, and the restored copy has the rows, the migrations history and row-level security.

Needs what ./scripts/test provides: DATABASE_ADMIN_URL, DATABASE_URL,
AZURE_STORAGE_CONNECTION_STRING and a built target/debug/handler (or HANDLER)."""

import os
import subprocess
import uuid

import pytest

import consistency as c

SCRIPTS = c.ROOT / "scripts"
PREFIX = os.environ.get("IGSHOP_INFRA_TEST_DB_PREFIX", "igshop_t_backup_")


def env_or_fail(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this through ./scripts/test (it starts Postgres and Azurite)")
    return value


def with_db(url, db):
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + db + ("?" + query if query else "")


def psql(url, sql):
    out = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "--dbname", url],
        input=sql, capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


def run(cmd, **env):
    full = dict(os.environ, IGSHOP_SETTINGS_FILE="/nonexistent", **env)
    return subprocess.run(cmd, capture_output=True, text=True, env=full)


@pytest.fixture
def databases():
    admin = env_or_fail("DATABASE_ADMIN_URL")
    app = env_or_fail("DATABASE_URL")
    env_or_fail("AZURE_STORAGE_CONNECTION_STRING")
    handler = os.environ.get("HANDLER", str(c.ROOT / "target" / "debug" / "handler"))
    assert os.access(handler, os.X_OK), f"{handler} is not built (cargo build -p handlers --bin handler)"
    run_id = uuid.uuid4().hex[:10]
    names = {"source": f"{PREFIX}src_{run_id}", "target": f"{PREFIX}dst_{run_id}"}
    psql(admin, f'CREATE DATABASE "{names["source"]}";')
    yield dict(admin=admin, app=app, handler=handler, **names)
    if not os.environ.get("IGSHOP_KEEP_TEST_DBS"):
        for db in names.values():
            psql(admin, f'DROP DATABASE IF EXISTS "{db}";')


def test_a_backup_restores_into_a_fresh_database_with_its_data(databases):
    d = databases
    src_admin, src_app = with_db(d["admin"], d["source"]), with_db(d["app"], d["source"])
    migrated = run([d["handler"], "migrate"], DATABASE_ADMIN_URL=src_admin, DATABASE_URL=src_app)
    assert migrated.returncode == 0, migrated.stderr
    tenant = psql(src_admin, """
        INSERT INTO tenants (ig_user_id, ig_handle, display_name)
             VALUES ('17841400000999001', 'backup.shop', 'متجر النسخ') RETURNING id;""").splitlines()[-1]
    psql(src_admin, f"""
        INSERT INTO catalog_items (tenant_id, sku, name, price_jod, stock)
             VALUES ('{tenant}', 'BK-1', 'قميص أزرق', 12.500, 3);""")

    backup = run([str(SCRIPTS / "backup")], DATABASE_ADMIN_URL=src_admin, HANDLER=d["handler"])
    assert backup.returncode == 0, backup.stderr
    blob = backup.stdout.strip().splitlines()[-1]
    assert blob.startswith(f"backups/{d['source']}/") and blob.endswith(".dump"), backup.stdout

    restore = run(
        [str(SCRIPTS / "restore"), blob, "--database", d["target"]],
        DATABASE_ADMIN_URL=d["admin"], DATABASE_URL=d["app"], HANDLER=d["handler"],
    )
    assert restore.returncode == 0, restore.stderr
    assert f"restored {blob} into database {d['target']}" in restore.stdout
    assert "REDACTED" in restore.stdout and "igshop_admin:" in restore.stdout

    dst_admin, dst_app = with_db(d["admin"], d["target"]), with_db(d["app"], d["target"])
    assert psql(dst_admin, "SELECT ig_handle || '|' || display_name FROM tenants;") == "backup.shop|متجر النسخ"
    assert psql(dst_admin, "SELECT sku || '|' || name || '|' || price_jod || '|' || stock FROM catalog_items;") == "BK-1|قميص أزرق|12.500|3"
    # Row-level security came back too: the application login sees nothing without a tenant.
    assert psql(dst_app, "SELECT count(*) FROM catalog_items;") == "0"
    assert psql(dst_app, f"BEGIN; SELECT set_config('app.tenant_id', '{tenant}', true); SELECT count(*) FROM catalog_items; COMMIT;").splitlines()[-1] == "1"
    # The search functions belong to igshop_search again and answer for the tenant only.
    assert psql(dst_admin, "SELECT string_agg(DISTINCT proowner::regrole::text, ',') FROM pg_proc WHERE proname LIKE 'search\\_%';") == "igshop_search"
    # The migrations history came along: migrate has nothing left to apply.
    again = run([d["handler"], "migrate"], DATABASE_ADMIN_URL=dst_admin, DATABASE_URL=dst_app)
    assert again.returncode == 0 and "database is up to date" in again.stdout, again.stdout + again.stderr

    # An existing database is never overwritten.
    twice = run([str(SCRIPTS / "restore"), blob, "--database", d["target"]], DATABASE_ADMIN_URL=d["admin"], HANDLER=d["handler"])
    assert twice.returncode == 1 and "already exists" in twice.stderr
    assert psql(dst_admin, "SELECT count(*) FROM catalog_items;") == "1"


def test_restore_explains_a_missing_backup(databases):
    d = databases
    missing = run([str(SCRIPTS / "restore"), "backups/nothing/here.dump", "--database", d["target"]],
                  DATABASE_ADMIN_URL=d["admin"], HANDLER=d["handler"])
    assert missing.returncode != 0
    assert "backups/nothing/here.dump does not exist" in missing.stderr
    assert psql(d["admin"], f"SELECT count(*) FROM pg_database WHERE datname = '{d['target']}';") == "0"


def test_a_table_whose_policies_hide_rows_stops_the_backup(databases):
    d = databases
    src_admin, src_app = with_db(d["admin"], d["source"]), with_db(d["app"], d["source"])
    assert run([d["handler"], "migrate"], DATABASE_ADMIN_URL=src_admin, DATABASE_URL=src_app).returncode == 0
    psql(src_admin, """
        CREATE TABLE notes (tenant_id uuid, body text);
        ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
        ALTER TABLE notes FORCE ROW LEVEL SECURITY;
        CREATE POLICY only_tenants ON notes TO igshop_app_rw
            USING (tenant_id = current_setting('app.tenant_id', true)::uuid);""")
    backup = run([str(SCRIPTS / "backup")], DATABASE_ADMIN_URL=src_admin, HANDLER=d["handler"])
    assert backup.returncode == 1
    assert "cannot back up every row" in backup.stderr and "notes" in backup.stderr
