//! Row-level security is what keeps one shop's data from another: these tests talk to a real
//! Postgres as the application role and try to get around it.

use shared::db::begin_for_tenant;
use shared::tenants::TenantId;
use testkit::TestDb;

/// Puts a category, an item, a conversation with a message and an order in a tenant.
async fn seed(t: &TestDb, tenant: TenantId, tag: &str) {
    let c = t.db.platform().await.unwrap();
    let id = tenant.as_uuid();
    c.execute(
        "INSERT INTO categories (tenant_id, name) VALUES ($1, $2)",
        &[&id, &format!("cat-{tag}")],
    )
    .await
    .unwrap();
    c.execute(
        "INSERT INTO catalog_items (tenant_id, sku, name, price_jod, stock) VALUES ($1, $2, $3, 12.500, 3)",
        &[&id, &format!("SKU-{tag}"), &format!("قميص {tag}")],
    )
    .await
    .unwrap();
    let conv: uuid::Uuid = c
        .query_one(
            "INSERT INTO conversations (tenant_id, customer_ig_id) VALUES ($1, $2) RETURNING id",
            &[&id, &format!("igsid-{tag}")],
        )
        .await
        .unwrap()
        .get(0);
    c.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at) VALUES ($1, $2, 'inbound', 'customer', $3, 'مرحبا', now())",
        &[&id, &conv, &format!("mid-{tag}")],
    )
    .await
    .unwrap();
    c.execute(
        "INSERT INTO orders (tenant_id, order_number, customer_ig_id, subtotal_jod, total_jod) VALUES ($1, 1, $2, 12.5, 14.5)",
        &[&id, &format!("igsid-{tag}")],
    )
    .await
    .unwrap();
}

/// Every table with a tenant_id column.
async fn tenant_tables(t: &TestDb) -> Vec<String> {
    let c = t.db.platform().await.unwrap();
    c.query(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r'
            AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
          ORDER BY 1",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn every_tenant_owned_table_has_forced_row_level_security() {
    let t = TestDb::new().await;
    let tables = tenant_tables(&t).await;
    assert!(
        tables.len() >= 20,
        "expected the whole schema, found {tables:?}"
    );
    let c = t.db.platform().await.unwrap();
    for table in tables.iter().chain(std::iter::once(&"tenants".to_string())) {
        let row = c
            .query_one("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1 AND relkind = 'r'", &[table])
            .await
            .unwrap();
        assert!(
            row.get::<_, bool>(0) && row.get::<_, bool>(1),
            "{table} lacks ENABLE + FORCE ROW LEVEL SECURITY"
        );
        let policies: i64 = c
            .query_one("SELECT count(*) FROM pg_policies WHERE tablename = $1 AND policyname = 'tenant_isolation'", &[table])
            .await
            .unwrap()
            .get(0);
        assert_eq!(policies, 1, "{table} has no tenant_isolation policy");
    }
}

#[tokio::test]
async fn without_a_tenant_the_application_sees_no_rows() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let b = t.tenant("shop_b").await;
    seed(&t, a, "a").await;
    seed(&t, b, "b").await;

    let c = t.db.app().await.unwrap();
    for table in tenant_tables(&t)
        .await
        .iter()
        .chain(std::iter::once(&"tenants".to_string()))
    {
        let n: i64 = c
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table}: the application saw rows with no tenant set");
    }
    // The platform role does see them: the rows are there.
    let p = t.db.platform().await.unwrap();
    let n: i64 = p
        .query_one("SELECT count(*) FROM catalog_items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_tenant_cannot_read_update_or_delete_another_tenants_rows() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let b = t.tenant("shop_b").await;
    seed(&t, a, "a").await;
    seed(&t, b, "b").await;
    let b_id = b.as_uuid();

    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let own: i64 = tx
        .query_one("SELECT count(*) FROM catalog_items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(own, 1, "tenant A sees its own item");
    for table in [
        "catalog_items",
        "categories",
        "conversations",
        "messages",
        "orders",
    ] {
        let n: i64 = tx
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE tenant_id = $1"),
                &[&b_id],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "A read B's {table}");
    }
    let updated = tx
        .execute(
            "UPDATE catalog_items SET price_jod = 0 WHERE tenant_id = $1",
            &[&b_id],
        )
        .await
        .unwrap();
    assert_eq!(updated, 0, "A updated B's items");
    let deleted = tx
        .execute("DELETE FROM orders WHERE tenant_id = $1", &[&b_id])
        .await
        .unwrap();
    assert_eq!(deleted, 0, "A deleted B's orders");
    let moved = tx
        .execute("UPDATE catalog_items SET tenant_id = $1", &[&b_id])
        .await;
    assert!(moved.is_err(), "A moved its own item into B");
    tx.rollback().await.unwrap();

    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let planted = tx
        .execute("INSERT INTO catalog_items (tenant_id, sku, name, price_jod) VALUES ($1, 'X', 'planted', 1)", &[&b_id])
        .await;
    let err = planted.expect_err("A inserted a row for B");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{err}"
    );
    tx.rollback().await.unwrap();

    // B's rows are untouched.
    let p = t.db.platform().await.unwrap();
    let row = p
        .query_one(
            "SELECT price_jod::text FROM catalog_items WHERE tenant_id = $1",
            &[&b_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "12.500");
    let orders: i64 = p
        .query_one("SELECT count(*) FROM orders WHERE tenant_id = $1", &[&b_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(orders, 1);
}

#[tokio::test]
async fn the_tenant_setting_ends_with_its_transaction() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    seed(&t, a, "a").await;
    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let n: i64 = tx
        .query_one("SELECT count(*) FROM catalog_items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    tx.commit().await.unwrap();
    // The pooled connection goes back to seeing nothing.
    let n: i64 = c
        .query_one("SELECT count(*) FROM catalog_items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn the_application_role_cannot_turn_row_level_security_off() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    seed(&t, a, "a").await;
    let c = t.db.app().await.unwrap();
    for sql in [
        "ALTER TABLE catalog_items DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE catalog_items NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON catalog_items",
        "CREATE POLICY open_door ON catalog_items TO igshop_app_rw USING (true)",
        "SET ROLE igshop_platform",
        "ALTER ROLE CURRENT_USER BYPASSRLS",
    ] {
        assert!(
            c.batch_execute(sql).await.is_err(),
            "the application role could run: {sql}"
        );
    }
    // With row_security off, Postgres refuses the query rather than showing the rows.
    c.batch_execute("SET row_security = off").await.unwrap();
    let err = c
        .query_one("SELECT count(*) FROM catalog_items", &[])
        .await
        .expect_err("row_security=off exposed rows");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{err}"
    );
}

#[tokio::test]
async fn the_application_login_is_checked_before_use() {
    let t = TestDb::new().await;
    t.db.verify_app_role()
        .await
        .expect("the application role is a plain member of igshop_app_rw");
    // The admin login must never serve as the application's.
    let wrong = shared::db::Database::connect(&t.admin_url, &t.admin_url, 2).unwrap();
    let err = wrong.verify_app_role().await.unwrap_err();
    assert!(
        err.to_string().contains("bypasses row-level security"),
        "{err}"
    );
    let err = shared::db::migrate(&t.admin_url, &t.admin_url)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("same role"), "{err}");
}

#[tokio::test]
async fn migrations_run_again_as_a_no_op() {
    let t = TestDb::new().await;
    let report = shared::db::migrate(&t.admin_url, &t.app_url).await.unwrap();
    assert!(report.applied.is_empty(), "{:?}", report.applied);
    let n: i64 =
        t.db.platform()
            .await
            .unwrap()
            .query_one("SELECT count(*) FROM refinery_schema_history", &[])
            .await
            .unwrap()
            .get(0);
    assert!(n >= 1);
}

#[tokio::test]
async fn the_two_cross_tenant_lookups_answer_only_their_question() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let p = t.db.platform().await.unwrap();
    let ig: String = p
        .query_one(
            "SELECT ig_user_id FROM tenants WHERE id = $1",
            &[&a.as_uuid()],
        )
        .await
        .unwrap()
        .get(0);
    p.execute(
        "INSERT INTO sessions (token_hash, kind, tenant_id, csrf_token_hash, expires_at) VALUES ('\\x01', 'merchant', $1, '\\x02', now() + interval '1 hour'),
                ('\\x03', 'merchant', $1, '\\x04', now() - interval '1 second')",
        &[&a.as_uuid()],
    )
    .await
    .unwrap();

    let c = t.db.app().await.unwrap();
    let found: Option<uuid::Uuid> = c
        .query_one("SELECT tenant_for_instagram_account($1)", &[&ig])
        .await
        .unwrap()
        .get(0);
    assert_eq!(found, Some(a.as_uuid()));
    let none: Option<uuid::Uuid> = c
        .query_one("SELECT tenant_for_instagram_account('unknown')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(none, None);
    let live = c
        .query(
            "SELECT tenant_id FROM merchant_session('\\x01'::bytea)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].get::<_, uuid::Uuid>(0), a.as_uuid());
    assert!(
        c.query("SELECT * FROM merchant_session('\\x03'::bytea)", &[])
            .await
            .unwrap()
            .is_empty(),
        "an expired session was accepted"
    );
    // The table itself stays closed without a tenant.
    let n: i64 = c
        .query_one("SELECT count(*) FROM sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

/// The search functions' arguments for one word (`search_form` already applied).
const SEARCH_ARGS: &str = "'قميص', '''قميص'':*', ARRAY['''قميص'':*'], 50";

#[tokio::test]
async fn search_functions_read_only_the_tenant_of_the_transaction_and_fail_closed() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let b = t.tenant("shop_b").await;
    seed(&t, a, "a").await;
    seed(&t, b, "b").await;
    let p = t.db.platform().await.unwrap();
    p.batch_execute("UPDATE catalog_items SET search_text = 'قميص ' || lower(sku)")
        .await
        .unwrap();
    for tenant in [a, b] {
        let doc: uuid::Uuid = p
            .query_one(
                "INSERT INTO kb_documents (tenant_id, title, source_kind) VALUES ($1, 'سياسة', 'upload') RETURNING id",
                &[&tenant.as_uuid()],
            )
            .await
            .unwrap()
            .get(0);
        p.execute(
            "INSERT INTO kb_chunks (tenant_id, document_id, ordinal, content, search_text) VALUES ($1, $2, 0, 'قميص', 'قميص')",
            &[&tenant.as_uuid(), &doc],
        )
        .await
        .unwrap();
    }

    let mut c = t.db.app().await.unwrap();
    for (tenant, own) in [(a, "قميص a"), (b, "قميص b")] {
        let tx = begin_for_tenant(&mut c, tenant).await.unwrap();
        let names: Vec<String> = tx
            .query(
                &format!("SELECT name FROM search_catalog_items({SEARCH_ARGS})"),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(names, vec![own.to_string()]);
        let passages: Vec<uuid::Uuid> = tx
            .query(
                &format!("SELECT document_id FROM search_kb_passages({SEARCH_ARGS})"),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let own_docs: Vec<uuid::Uuid> = tx
            .query("SELECT id FROM kb_documents", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(passages, own_docs, "passages of the tenant only");
        tx.commit().await.unwrap();
    }

    // No tenant (never set on a fresh connection, or reset to '' after a tenant's
    // transaction on this one): the functions raise instead of answering.
    let fresh = t.db.app().await.unwrap();
    for client in [&*c, &*fresh] {
        for f in ["search_catalog_items", "search_kb_passages"] {
            let e = client
                .query(&format!("SELECT * FROM {f}({SEARCH_ARGS})"), &[])
                .await
                .unwrap_err();
            let text = e
                .as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_default();
            assert!(
                text.contains("uuid") || text.contains("app.tenant_id"),
                "{f} without a tenant: {e}"
            );
        }
    }
    let tx = c.transaction().await.unwrap();
    tx.execute(
        "SELECT set_config('app.tenant_id', 'not-a-uuid', true)",
        &[],
    )
    .await
    .unwrap();
    assert!(tx
        .query(
            &format!("SELECT * FROM search_catalog_items({SEARCH_ARGS})"),
            &[]
        )
        .await
        .is_err());
    drop(tx);

    // Only the application role may call them: the admin login (platform role) may not.
    for f in ["search_catalog_items", "search_kb_passages"] {
        let e = p
            .query(&format!("SELECT * FROM {f}({SEARCH_ARGS})"), &[])
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{f}: {e}"
        );
    }
}

#[tokio::test]
async fn policies_that_see_every_tenant_belong_to_roles_no_login_can_use() {
    let t = TestDb::new().await;
    let c = t.db.platform().await.unwrap();
    let app_user = app_login(&t);
    let rows = c
        .query(
            "SELECT tablename::text, policyname::text, cmd::text, roles::text[] FROM pg_policies
              WHERE schemaname = 'public' AND policyname <> 'tenant_isolation' ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap();
    assert!(!rows.is_empty());
    let mut search_tables = Vec::new();
    for r in &rows {
        let (table, policy, cmd, roles): (String, String, String, Vec<String>) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        match policy.as_str() {
            "platform_all" => assert_eq!(roles, vec!["igshop_platform"], "{table}"),
            "search_read" => {
                assert_eq!(roles, vec!["igshop_search"], "{table}");
                assert_eq!(cmd, "SELECT", "{table}: search may only read");
                search_tables.push(table);
            }
            other => panic!("{table} has an unexpected policy {other}"),
        }
    }
    assert_eq!(
        search_tables,
        ["catalog_items", "kb_chunks", "kb_documents"]
    );
    // igshop_search cannot log in, nobody is a member of it, and the application login is a
    // member of neither role that sees every tenant.
    let row = c
        .query_one(
            "SELECT r.rolcanlogin, r.rolbypassrls,
                    (SELECT count(*) FROM pg_auth_members m WHERE m.roleid = r.oid),
                    pg_has_role($1, 'igshop_search', 'MEMBER'), pg_has_role($1, 'igshop_platform', 'MEMBER')
               FROM pg_roles r WHERE r.rolname = 'igshop_search'",
            &[&app_user],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0) && !row.get::<_, bool>(1));
    assert_eq!(row.get::<_, i64>(2), 0, "igshop_search has members");
    assert!(!row.get::<_, bool>(3) && !row.get::<_, bool>(4));
    // Every definer function: a fixed search_path, not executable by PUBLIC.
    let rows = c
        .query(
            "SELECT p.oid::regprocedure::text, p.proconfig, p.proowner::regrole::text,
                    has_function_privilege('public', p.oid, 'EXECUTE'),
                    has_function_privilege('igshop_app_rw', p.oid, 'EXECUTE')
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'public' AND p.prosecdef ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let mut search_owned = 0;
    for r in &rows {
        let (name, config, owner): (String, Option<Vec<String>>, String) =
            (r.get(0), r.get(1), r.get(2));
        let config = config.unwrap_or_default();
        assert!(
            config.iter().any(|c| c.starts_with("search_path=")),
            "{name} has no fixed search_path"
        );
        assert!(!r.get::<_, bool>(3), "PUBLIC may execute {name}");
        assert!(
            r.get::<_, bool>(4),
            "the application may not execute {name}"
        );
        if owner == "igshop_search" {
            assert!(
                config.contains(&"search_path=pg_catalog, pg_temp".to_string()),
                "{name}: {config:?}"
            );
            search_owned += 1;
        }
    }
    assert_eq!(search_owned, 2, "{rows:?}");
}

/// The user name of the test's application login.
fn app_login(t: &TestDb) -> String {
    let url: tokio_postgres::Config = secrecy::ExposeSecret::expose_secret(&t.app_url)
        .parse()
        .unwrap();
    url.get_user().unwrap().to_owned()
}
