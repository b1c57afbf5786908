//! The admin console's API: accounts, sign-in with lock-out, audit rows, every admin endpoint
//! refusing anonymous callers and merchant sessions, licences signed on the server (and
//! read-only without a key), tiles, the audited conversation viewer, costs and budgets.

use crate::support::app::{connect_shop, sign_in, test_app, TestApp};
use handlers::functions::api::openapi;
use serde_json::{json, Value};

const PASSWORD: &str = "a long admin password";

struct Admin {
    cookie: String,
    csrf: String,
}

fn admin_cookie_of(r: &warp::http::Response<bytes::Bytes>) -> Option<String> {
    r.headers().get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let pair = v.split(';').next()?;
        let (name, value) = pair.split_once('=')?;
        (name == shared::admin::COOKIE_NAME && !value.is_empty()).then(|| value.to_owned())
    })
}

async fn sign_in_admin(
    ta: &TestApp,
    email: &str,
    password: &str,
) -> warp::http::Response<bytes::Bytes> {
    warp::test::request()
        .method("POST")
        .path("/api/admin/auth/sign-in")
        .header("x-forwarded-for", "203.0.113.7")
        .body(json!({ "email": email, "password": password }).to_string())
        .reply(&ta.service)
        .await
}

async fn admin(ta: &TestApp) -> Admin {
    let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
    let e = shared::admin::AdminEmail::parse(&email).unwrap();
    shared::admin::create_user(&ta.app.db, &e, PASSWORD)
        .await
        .unwrap();
    let r = sign_in_admin(ta, &email, PASSWORD).await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    Admin {
        cookie: admin_cookie_of(&r).unwrap(),
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

async fn call(
    ta: &TestApp,
    a: &Admin,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = warp::test::request()
        .method(method)
        .path(path)
        .header(
            "cookie",
            format!("{}={}", shared::admin::COOKIE_NAME, a.cookie),
        )
        .header("x-csrf-token", &a.csrf);
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let r = req.reply(&ta.service).await;
    (
        r.status().as_u16(),
        serde_json::from_slice(r.body()).unwrap_or(Value::Null),
    )
}

async fn audit_actions(ta: &TestApp) -> Vec<String> {
    let c = ta.t.db.platform().await.unwrap();
    c.query("SELECT action FROM audit_log ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn sign_in_lock_out_sign_out_and_audit_rows() {
    let ta = test_app(&[]).await;
    let email = "owner@example.com";
    let e = shared::admin::AdminEmail::parse(email).unwrap();
    assert!(
        shared::admin::create_user(&ta.app.db, &e, "short")
            .await
            .is_err(),
        "short passwords refused"
    );
    shared::admin::create_user(&ta.app.db, &e, PASSWORD)
        .await
        .unwrap();
    assert!(matches!(
        shared::admin::create_user(&ta.app.db, &e, PASSWORD).await,
        Err(shared::admin::AdminError::Exists(_))
    ));
    let c = ta.t.db.platform().await.unwrap();
    let hash: String = c
        .query_one("SELECT password_hash FROM admin_users", &[])
        .await
        .unwrap()
        .get(0);
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    // Right password: a session with its own cookie, shorter than a merchant's.
    let r = sign_in_admin(&ta, "Owner@Example.com", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("igshop_admin="), "{set_cookie}");
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Strict")
            && set_cookie.contains("Path=/api/admin"),
        "{set_cookie}"
    );
    assert!(
        set_cookie.contains(&format!("Max-Age={}", 8 * 3600))
            || set_cookie.contains(&format!("Max-Age={}", 8 * 3600 - 1)),
        "{set_cookie}"
    );
    let a = Admin {
        cookie: admin_cookie_of(&r).unwrap(),
        csrf: serde_json::from_slice::<Value>(r.body()).unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let (s, me) = call(&ta, &a, "GET", "/api/admin/me", None).await;
    assert_eq!((s, me["email"].as_str()), (200, Some(email)));

    // Wrong passwords: 401 each, then the account locks (even for the right password).
    for _ in 0..shared::admin::MAX_FAILURES_PER_EMAIL {
        let r = sign_in_admin(&ta, email, "wrong password!!").await;
        assert_eq!(r.status(), 401);
        assert_eq!(
            serde_json::from_slice::<Value>(r.body()).unwrap()["message"],
            "Wrong e-mail or password."
        );
    }
    let r = sign_in_admin(&ta, email, PASSWORD).await;
    assert_eq!(r.status(), 429);
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(body["error"], "locked");
    assert!(
        body["message"].as_str().unwrap().contains("minute"),
        "{body}"
    );
    // An unknown e-mail answers like a wrong password.
    let r = sign_in_admin(&ta, "nobody@example.com", PASSWORD).await;
    assert_eq!(r.status(), 401);
    // The lock ends after its time.
    c.execute(
        "UPDATE admin_sign_in_attempts SET attempted_at = attempted_at - interval '16 minutes'",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(sign_in_admin(&ta, email, PASSWORD).await.status(), 200);

    // Sign-out needs the CSRF token, then the session is gone.
    let no_csrf = warp::test::request()
        .method("POST")
        .path("/api/admin/auth/sign-out")
        .header("cookie", format!("igshop_admin={}", a.cookie))
        .reply(&ta.service)
        .await;
    assert_eq!(no_csrf.status(), 403);
    let (s, _) = call(&ta, &a, "POST", "/api/admin/auth/sign-out", None).await;
    assert_eq!(s, 204);
    let (s, _) = call(&ta, &a, "GET", "/api/admin/me", None).await;
    assert_eq!(s, 401);

    let actions = audit_actions(&ta).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "admin.sign_in").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "admin.sign_in_failed")
            .count(),
        6,
        "{actions:?}"
    );
    assert!(
        actions.contains(&"admin.create_user".to_string())
            && actions.contains(&"admin.sign_out".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"admin.sign_in_locked".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn every_admin_endpoint_refuses_anonymous_callers_and_merchant_sessions() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "jo.shop").await;
    let admin_paths: Vec<_> = openapi::endpoints()
        .into_iter()
        .filter(|e| e.path.starts_with("/api/admin/") && e.path != "/api/admin/auth/sign-in")
        .collect();
    assert!(admin_paths.len() >= 15, "{}", admin_paths.len());
    for e in admin_paths {
        let path = e
            .path
            .replace("{handle}", "jo.shop")
            .replace("{id}", &m.tenant.to_string())
            .replace("{conversation_id}", &uuid::Uuid::new_v4().to_string());
        for (who, cookie) in [
            ("anonymous", None),
            ("merchant", Some(format!("igshop_session={}", m.cookie))),
            (
                "merchant token as admin cookie",
                Some(format!("igshop_admin={}", m.cookie)),
            ),
        ] {
            let mut req = warp::test::request()
                .method(&e.method_name().to_uppercase())
                .path(&path)
                .header("x-csrf-token", &m.csrf)
                .body(r#"{"expires_on":"2030-01-01","monthly_usd":"5"}"#);
            if let Some(c) = &cookie {
                req = req.header("cookie", c);
            }
            let r = req.reply(&ta.service).await;
            assert_eq!(
                r.status(),
                401,
                "{who}: {} {path} → {:?}",
                e.method_name(),
                r.body()
            );
        }
    }
    // Nothing was changed by those calls.
    let c = ta.t.db.platform().await.unwrap();
    let status: String = c
        .query_one(
            "SELECT status FROM tenants WHERE id = $1",
            &[&m.tenant.as_uuid()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "active");
    assert_eq!(
        c.query_one("SELECT count(*) FROM tenant_budgets", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0
    );
}

#[tokio::test]
async fn licences_are_signed_on_the_server_and_read_only_without_a_key() {
    let ta = test_app(&[("LICENCE_RELOAD_SECS", "0")]).await;
    let a = admin(&ta).await;
    let m = sign_in(&ta, "new.shop").await; // local sign-in licenses it for a year
    let (s, list) = call(&ta, &a, "GET", "/api/admin/licences", None).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["can_sign"], true);
    assert_eq!(list["licences"][0]["handle"], "new.shop");
    assert_eq!(list["licences"][0]["tenant"]["id"], m.tenant.to_string());

    // Shorten to yesterday: the shop's AI stops; extend again: it starts.
    let yesterday =
        (shared::licence::amman_today(chrono::Utc::now()) - chrono::Duration::days(1)).to_string();
    let (s, row) = call(
        &ta,
        &a,
        "PUT",
        "/api/admin/licences/@New.Shop",
        Some(json!({ "expires_on": yesterday })),
    )
    .await;
    assert_eq!((s, row["state"].as_str()), (200, Some("expired")), "{row}");
    // The answer names the matching shop, as the list does.
    assert_eq!(row["tenant"]["id"], m.tenant.to_string(), "{row}");
    assert_eq!(row["tenant"]["status"], "active", "{row}");
    assert!(!shared::licence::for_shop(&ta.app, m.tenant)
        .await
        .unwrap()
        .allows_ai());
    let (s, row) = call(
        &ta,
        &a,
        "PUT",
        "/api/admin/licences/new.shop",
        Some(json!({ "expires_on": "2099-12-31" })),
    )
    .await;
    assert_eq!(
        (s, row["days_left"].as_i64().is_some_and(|d| d > 1000)),
        (200, true),
        "{row}"
    );
    assert!(shared::licence::for_shop(&ta.app, m.tenant)
        .await
        .unwrap()
        .allows_ai());
    // The published file verifies on its own.
    let path = match ta.app.licences.source() {
        Some(shared::licence::book::WhitelistSource::File(p)) => p.clone(),
        other => panic!("{other:?}"),
    };
    let bytes = std::fs::read(&path).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("licence new.shop 2099-12-31\n"));

    // Bad input: a clear 400, nothing changed.
    for (handle, body) in [
        ("bad handle!", json!({ "expires_on": "2030-01-01" })),
        ("ok", json!({ "expires_on": "2030-02-31" })),
    ] {
        let (s, e) = call(
            &ta,
            &a,
            "PUT",
            &format!("/api/admin/licences/{}", handle.replace(' ', "%20")),
            Some(body),
        )
        .await;
        assert_eq!(s, 400, "{e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let (s, _) = call(&ta, &a, "DELETE", "/api/admin/licences/nobody", None).await;
    assert_eq!(s, 404);
    let (s, _) = call(&ta, &a, "DELETE", "/api/admin/licences/new.shop", None).await;
    assert_eq!(s, 204);
    assert_eq!(
        shared::licence::for_shop(&ta.app, m.tenant)
            .await
            .unwrap()
            .state,
        "unlicensed"
    );
    let actions = audit_actions(&ta).await;
    assert_eq!(
        actions.iter().filter(|x| *x == "licence.set").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|x| *x == "licence.remove").count(),
        1,
        "{actions:?}"
    );

    // Without a signing key: read-only, with the CLI commands.
    let ro = test_app(&[("LICENCE_SIGNING_KEY", "")]).await;
    let a = admin(&ro).await;
    let (s, list) = call(&ro, &a, "GET", "/api/admin/licences", None).await;
    assert_eq!((s, list["can_sign"].as_bool()), (200, Some(false)));
    assert!(
        list["cli"][0]
            .as_str()
            .unwrap()
            .starts_with("handler licence add"),
        "{list}"
    );
    let (s, e) = call(
        &ro,
        &a,
        "PUT",
        "/api/admin/licences/jo.shop",
        Some(json!({ "expires_on": "2030-01-01" })),
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("read_only")), "{e}");
    assert!(
        e["cli"][0]
            .as_str()
            .unwrap()
            .contains("--handle jo.shop --expiry 2030-01-01"),
        "{e}"
    );
}

#[tokio::test]
async fn tiles_viewer_costs_budgets_and_alerts() {
    let ta = test_app(&[]).await;
    let a = admin(&ta).await;
    let tenant = connect_shop(&ta, 3).await;
    let c = ta.t.db.platform().await.unwrap();
    let conv: uuid::Uuid = c
        .query_one(
            "INSERT INTO conversations (tenant_id, customer_ig_id, customer_username) VALUES ($1, 'igsid-1', 'layla') RETURNING id",
            &[&tenant.as_uuid()],
        )
        .await
        .unwrap()
        .get(0);
    c.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at) VALUES
           ($1, $2, 'inbound', 'customer', 'm1', 'مرحبا', now() - interval '1 hour'),
           ($1, $2, 'outbound', 'ai', 'm2', 'أهلا وسهلا', now() - interval '59 minutes')",
        &[&tenant.as_uuid(), &conv],
    )
    .await
    .unwrap();
    c.execute(
        "INSERT INTO usage_events (tenant_id, kind, provider, model, prompt_tokens, completion_tokens, cost_usd) VALUES ($1, 'chat', 'openai', 'gpt-4o-mini', 1000, 100, 8.5)",
        &[&tenant.as_uuid()],
    )
    .await
    .unwrap();

    let (s, tiles) = call(&ta, &a, "GET", "/api/admin/tenants?sort=cost", None).await;
    assert_eq!(s, 200, "{tiles}");
    let t = &tiles["tenants"][0];
    assert_eq!(t["id"], tenant.to_string());
    assert_eq!(
        (t["messages_24h"].as_i64(), t["messages_30d"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(t["cost_month_usd"], "8.500000");
    assert_eq!(t["licence"]["state"], "valid");
    assert!(
        t["token_expires_at"].is_string() && t["last_webhook_at"].is_string(),
        "{t}"
    );
    let (s, _) = call(&ta, &a, "GET", "/api/admin/tenants?sort=nonsense", None).await;
    assert_eq!(s, 400);

    // The viewer: read-only, and the view is audited.
    let (s, list) = call(
        &ta,
        &a,
        "GET",
        &format!("/api/admin/tenants/{tenant}/conversations"),
        None,
    )
    .await;
    assert_eq!((s, list["total"].as_i64()), (200, Some(1)), "{list}");
    let (s, view) = call(
        &ta,
        &a,
        "GET",
        &format!("/api/admin/tenants/{tenant}/conversations/{conv}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["messages"][0]["text"], "مرحبا");
    assert_eq!(view["messages"][1]["author"], "ai");
    let row = c
        .query_one(
            "SELECT actor, tenant_id, target FROM audit_log WHERE action = 'conversation.view'",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, String>(0).starts_with("admin:owner-"));
    assert_eq!(row.get::<_, Option<uuid::Uuid>>(1), Some(tenant.as_uuid()));
    assert_eq!(row.get::<_, String>(2), conv.to_string());
    let other_shop = ta.t.tenant("other.shop").await;
    let (s, _) = call(
        &ta,
        &a,
        "GET",
        &format!("/api/admin/tenants/{other_shop}/conversations/{conv}"),
        None,
    )
    .await;
    assert_eq!(s, 404, "a conversation is found only under its own shop");

    // Costs: the shop's day, the model's total, the price table.
    let (s, costs) = call(&ta, &a, "GET", "/api/admin/costs", None).await;
    assert_eq!(s, 200, "{costs}");
    assert_eq!(costs["days"][0]["cost_usd"], "8.500000");
    assert_eq!(costs["per_model"][0]["model"], "gpt-4o-mini");
    assert_eq!(costs["per_model"][0]["calls"], 1);
    assert!(costs["prices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["model"] == "gpt-4o-mini"));
    let (s, _) = call(
        &ta,
        &a,
        "GET",
        "/api/admin/costs?from=2026-02-01&to=2026-01-01",
        None,
    )
    .await;
    assert_eq!(s, 400);

    // Budget of 10 USD: 85 % used is a warning; with the pause at 8 USD the AI stops.
    let (s, b) = call(
        &ta,
        &a,
        "PUT",
        &format!("/api/admin/tenants/{tenant}/budget"),
        Some(json!({ "monthly_usd": "10", "pause_at_limit": true })),
    )
    .await;
    assert_eq!(
        (s, b["state"].as_str(), b["percent"].as_i64()),
        (200, Some("warning"), Some(85)),
        "{b}"
    );
    let (s, alerts) = call(&ta, &a, "GET", "/api/admin/alerts", None).await;
    assert_eq!(s, 200);
    let kinds: Vec<&str> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"budget") && kinds.contains(&"token_expiring"),
        "{kinds:?}"
    );
    let check = || async {
        let mut cc = ta.app.db.app().await.unwrap();
        let tx = shared::db::begin_for_tenant(&mut cc, tenant).await.unwrap();
        shared::agent::licence::check(&tx, &ta.app, tenant)
            .await
            .unwrap()
    };
    assert_eq!(check().await, shared::agent::licence::Licence::Valid);
    let (s, _) = call(
        &ta,
        &a,
        "PUT",
        &format!("/api/admin/tenants/{tenant}/budget"),
        Some(json!({ "monthly_usd": "8", "pause_at_limit": true })),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        matches!(check().await, shared::agent::licence::Licence::Refused(r) if r.contains("budget"))
    );
    let (s, e) = call(
        &ta,
        &a,
        "PUT",
        &format!("/api/admin/tenants/{tenant}/budget"),
        Some(json!({ "monthly_usd": "-3" })),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let (s, _) = call(
        &ta,
        &a,
        "DELETE",
        &format!("/api/admin/tenants/{tenant}/budget"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(check().await, shared::agent::licence::Licence::Valid);

    // Disable / enable.
    let (s, t) = call(
        &ta,
        &a,
        "POST",
        &format!("/api/admin/tenants/{tenant}/disable"),
        None,
    )
    .await;
    assert_eq!(
        (s, t["status"].as_str(), t["licence"]["state"].as_str()),
        (200, Some("disabled"), Some("disabled")),
        "{t}"
    );
    assert!(matches!(
        check().await,
        shared::agent::licence::Licence::Refused(_)
    ));
    let (s, t) = call(
        &ta,
        &a,
        "POST",
        &format!("/api/admin/tenants/{tenant}/enable"),
        None,
    )
    .await;
    assert_eq!((s, t["status"].as_str()), (200, Some("active")));
    let (s, _) = call(
        &ta,
        &a,
        "POST",
        &format!("/api/admin/tenants/{}/enable", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(s, 404);

    let actions = audit_actions(&ta).await;
    for must in [
        "budget.set",
        "budget.remove",
        "tenant.disable",
        "tenant.enable",
        "conversation.view",
    ] {
        assert!(actions.contains(&must.to_string()), "{must}: {actions:?}");
    }
}
