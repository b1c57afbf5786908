//! Licences: the CLI round trip on real files (keygen → add → verify, deterministic bytes, a
//! flipped byte or a cut file refused with the reason, publish to Azurite), and enforcement in
//! the app: valid, expired, absent, tampered and missing whitelists, hot reload, `/api/v1/me`.

use crate::support::app::{sign_in, test_app, test_licence};
use serde_json::Value;
use shared::licence::{amman_today, ExpiryDate, Whitelist};
use std::path::{Path, PathBuf};
use std::process::Command;

fn handler(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_handler"))
        .current_dir(dir)
        .env("AZURE_STORAGE_CONNECTION_STRING", crate::support::azurite())
        .env("RUST_LOG", "off")
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("igshop-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const KEY: [&str; 2] = ["--private-key", "k/licence-private.pem"];
const PUB: [&str; 2] = ["--public-key", "k/licence-public.pem"];

#[tokio::test]
async fn the_cli_signs_verifies_refuses_and_publishes() {
    let d = temp_dir();
    let (ok, out) = handler(&d, &["licence", "keygen", "--out", "k"]);
    assert!(ok, "{out}");
    let (ok, out) = handler(&d, &["licence", "keygen", "--out", "k"]);
    assert!(!ok && out.contains("refusing to overwrite"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("k/licence-private.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the private key is readable by its owner only"
        );
    }

    let add = |h: &str, e: &str| {
        let mut a = vec!["licence", "add", "--handle", h, "--expiry", e];
        a.extend(KEY);
        handler(&d, &a)
    };
    let (ok, out) = add("@Jo.Shop", "2027-01-31");
    assert!(ok, "{out}");
    let (ok, out) = add("second_shop", "2026-12-31");
    assert!(ok, "{out}");
    let signed = std::fs::read(d.join("whitelist.sig")).unwrap();
    let text = String::from_utf8(signed.clone()).unwrap();
    assert!(
        text.starts_with("igshop-whitelist 1\nversion 2\n"),
        "{text}"
    );
    assert!(
        text.contains("licence jo.shop 2027-01-31\nlicence second_shop 2026-12-31\nsignature "),
        "{text}"
    );

    // Same input, same bytes: an add that changes nothing leaves the file as it was, and
    // signing the same content again gives the same signature.
    let (ok, out) = add("jo.shop", "2027-01-31");
    assert!(ok && out.contains("unchanged"), "{out}");
    assert_eq!(std::fs::read(d.join("whitelist.sig")).unwrap(), signed);
    let key = shared::licence::signing_key_from_pem(
        &std::fs::read_to_string(d.join("k/licence-private.pem")).unwrap(),
        "k",
    )
    .unwrap();
    let parsed = Whitelist::verify(&signed, &key.verifying_key()).unwrap();
    assert_eq!(parsed.sign(&key), signed);

    let verify = || {
        let mut a = vec!["licence", "verify"];
        a.extend(PUB);
        handler(&d, &a)
    };
    let (ok, out) = verify();
    assert!(
        ok && out.contains("valid signature, version 2") && out.contains("2 licence(s)"),
        "{out}"
    );
    let mut a = vec!["licence", "list"];
    a.extend(PUB);
    let (ok, out) = handler(&d, &a);
    assert!(
        ok && out.contains("jo.shop\t2027-01-31") && out.contains("second_shop\t2026-12-31"),
        "{out}"
    );

    // Malformed input is refused, and the file is not touched.
    for (h, e, says) in [
        ("bad handle", "2027-01-31", "only letters, digits"),
        ("ok_shop", "2027-02-30", "YYYY-MM-DD"),
        ("ok_shop", "31/01/2027", "YYYY-MM-DD"),
    ] {
        let (ok, out) = add(h, e);
        assert!(!ok && out.contains(says), "{h} {e}: {out}");
    }
    assert_eq!(std::fs::read(d.join("whitelist.sig")).unwrap(), signed);

    // A flipped byte anywhere, or a cut file, fails verify with the reason.
    let payload_byte = text.find("2027-01-31").unwrap() + 3;
    let mut flipped = signed.clone();
    flipped[payload_byte] ^= 0x01;
    std::fs::write(d.join("whitelist.sig"), &flipped).unwrap();
    let (ok, out) = verify();
    assert!(!ok && out.contains("signature does not match"), "{out}");
    let (ok, out) = add("third", "2027-03-01");
    assert!(
        !ok && out.contains("not changed"),
        "a tampered file is not re-signed: {out}"
    );
    std::fs::write(d.join("whitelist.sig"), &signed[..signed.len() - 20]).unwrap();
    let (ok, out) = verify();
    assert!(!ok && out.contains("truncated"), "{out}");
    let other = temp_dir();
    handler(&other, &["licence", "keygen", "--out", "k"]);
    std::fs::write(d.join("whitelist.sig"), &signed).unwrap();
    let (ok, out) = handler(
        &d,
        &[
            "licence",
            "verify",
            "--public-key",
            other.join("k/licence-public.pem").to_str().unwrap(),
        ],
    );
    assert!(
        !ok && out.contains("signature does not match"),
        "another key: {out}"
    );

    // Remove, then publish to the licence blob (Azurite).
    let mut a = vec!["licence", "remove", "--handle", "second_shop"];
    a.extend(KEY);
    let (ok, out) = handler(&d, &a);
    assert!(ok && out.contains("version 3"), "{out}");
    let (ok, out) = handler(&d, &a);
    assert!(!ok && out.contains("has no licence"), "{out}");
    let blob = format!(
        "licence-test/{}/whitelist.sig",
        uuid::Uuid::new_v4().simple()
    );
    let mut a = vec!["licence", "publish", "--blob", blob.as_str()];
    a.extend(PUB);
    let (ok, out) = handler(&d, &a);
    assert!(ok && out.contains("version 3"), "{out}");
    let ta = test_app(&[]).await;
    let stored = ta.app.blobs.get(&blob).await.unwrap().expect("published");
    assert_eq!(
        stored.to_vec(),
        std::fs::read(d.join("whitelist.sig")).unwrap()
    );
}

fn today_plus(days: i64) -> ExpiryDate {
    ExpiryDate::from_date(amman_today(chrono::Utc::now()) + chrono::Duration::days(days))
}

async fn me_licence(ta: &crate::support::app::TestApp, cookie: &str) -> Value {
    let r = warp::test::request()
        .path("/api/v1/me")
        .header("cookie", format!("igshop_session={cookie}"))
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 200);
    serde_json::from_slice::<Value>(r.body()).unwrap()["licence"].clone()
}

#[tokio::test]
async fn valid_expired_absent_and_hot_reloaded_licences() {
    let licence = test_licence();
    let (public, path) = (
        licence.public_pem.clone(),
        licence.whitelist.to_str().unwrap().to_owned(),
    );
    // Verify only (no signing key here, so local sign-in does not license anyone), reload
    // at every use so the test sees the new file at once.
    let ta = test_app(&[
        ("LICENCE_PUBLIC_KEY", &public),
        ("LICENCE_SIGNING_KEY", ""),
        ("LICENCE_WHITELIST_PATH", &path),
        ("LICENCE_RELOAD_SECS", "0"),
    ])
    .await;
    let m = sign_in(&ta, "jo.shop").await;
    let check = || async {
        let mut c = ta.app.db.app().await.unwrap();
        let tx = shared::db::begin_for_tenant(&mut c, m.tenant)
            .await
            .unwrap();
        shared::agent::licence::check(&tx, &ta.app, m.tenant)
            .await
            .unwrap()
    };
    let write = |w: Whitelist| std::fs::write(&licence.whitelist, w.sign(&licence.key)).unwrap();

    // Not on the (empty) whitelist.
    assert_eq!(me_licence(&ta, &m.cookie).await["state"], "unlicensed");
    assert!(
        matches!(check().await, shared::agent::licence::Licence::Refused(r) if r.contains("@jo.shop has no licence"))
    );

    // A new version with the handle: picked up without a restart; valid on its last day.
    let mut w = Whitelist::empty().next(chrono::Utc::now());
    w.set(
        &shared::tenants::InstagramHandle::parse("jo.shop").unwrap(),
        today_plus(0),
    );
    write(w.clone());
    let me = me_licence(&ta, &m.cookie).await;
    assert_eq!(me["state"], "valid", "{me}");
    assert_eq!(me["days_left"], 0);
    assert_eq!(me["expires_on"], today_plus(0).to_string());
    assert_eq!(check().await, shared::agent::licence::Licence::Valid);

    // Expired yesterday: refused for this shop only.
    let mut w2 = w.next(chrono::Utc::now());
    w2.set(
        &shared::tenants::InstagramHandle::parse("jo.shop").unwrap(),
        today_plus(-1),
    );
    w2.set(
        &shared::tenants::InstagramHandle::parse("other.shop").unwrap(),
        today_plus(30),
    );
    write(w2.clone());
    assert_eq!(me_licence(&ta, &m.cookie).await["state"], "expired");
    assert!(
        matches!(check().await, shared::agent::licence::Licence::Refused(r) if r.contains("expired"))
    );
    let other = sign_in(&ta, "other.shop").await;
    assert_eq!(me_licence(&ta, &other.cookie).await["state"], "valid");

    // An older version published again is not taken (no replay).
    write(w.clone());
    assert_eq!(me_licence(&ta, &m.cookie).await["state"], "expired");

    // The onboarding answer carries the licence too.
    let r = warp::test::request()
        .path("/api/v1/onboarding")
        .header("cookie", format!("igshop_session={}", other.cookie))
        .reply(&ta.service)
        .await;
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(body["licence"]["state"], "valid", "{body}");
}

#[tokio::test]
async fn a_tampered_or_missing_whitelist_fails_closed_with_an_alert() {
    let licence = test_licence();
    let (public, path) = (
        licence.public_pem.clone(),
        licence.whitelist.to_str().unwrap().to_owned(),
    );
    let ta = test_app(&[
        ("LICENCE_PUBLIC_KEY", &public),
        ("LICENCE_SIGNING_KEY", ""),
        ("LICENCE_WHITELIST_PATH", &path),
        ("LICENCE_RELOAD_SECS", "0"),
    ])
    .await;
    let m = sign_in(&ta, "jo.shop").await;
    let mut w = Whitelist::empty().next(chrono::Utc::now());
    w.set(
        &shared::tenants::InstagramHandle::parse("jo.shop").unwrap(),
        today_plus(10),
    );
    let good = w.sign(&licence.key);
    std::fs::write(&licence.whitelist, &good).unwrap();
    assert_eq!(me_licence(&ta, &m.cookie).await["state"], "valid");

    let platform_alerts = || async {
        let c = ta.t.db.platform().await.unwrap();
        c.query_one(
            "SELECT count(*) FILTER (WHERE acknowledged_at IS NULL), count(*) FROM alerts WHERE tenant_id IS NULL AND kind = 'licence_whitelist'",
            &[],
        )
        .await
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)))
        .unwrap()
    };
    // Tampered: the expiry moved a year on.
    let text = String::from_utf8(good.clone()).unwrap();
    let tampered = text.replace(&today_plus(10).to_string(), &today_plus(375).to_string());
    std::fs::write(&licence.whitelist, tampered).unwrap();
    let me = me_licence(&ta, &m.cookie).await;
    assert_eq!(me["state"], "unavailable", "{me}");
    assert!(
        me["message"]
            .as_str()
            .unwrap()
            .contains("signature does not match"),
        "{me}"
    );
    assert_eq!(platform_alerts().await, (1, 1));
    // Back to the good file: the alert is closed.
    std::fs::write(&licence.whitelist, &good).unwrap();
    assert_eq!(me_licence(&ta, &m.cookie).await["state"], "valid");
    assert_eq!(platform_alerts().await, (0, 1));
    // Missing.
    std::fs::remove_file(&licence.whitelist).unwrap();
    let me = me_licence(&ta, &m.cookie).await;
    assert_eq!(me["state"], "unavailable");
    assert!(me["message"].as_str().unwrap().contains("missing"), "{me}");
    assert_eq!(platform_alerts().await, (1, 2));
    // Signed by another key.
    let stranger = shared::licence::generate_key();
    std::fs::write(&licence.whitelist, w.sign(&stranger)).unwrap();
    assert_eq!(me_licence(&ta, &m.cookie).await["state"], "unavailable");

    // No key configured at all: closed as well.
    let bare = test_app(&[
        ("LICENCE_PUBLIC_KEY", ""),
        ("LICENCE_SIGNING_KEY", ""),
        ("LICENCE_WHITELIST_PATH", ""),
    ])
    .await;
    let m = sign_in(&bare, "jo.shop").await;
    assert_eq!(me_licence(&bare, &m.cookie).await["state"], "unavailable");
}

#[tokio::test]
async fn a_cached_whitelist_is_used_until_it_is_due() {
    // The default reload interval (30 s): a change on disk is not read at every turn.
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "cached.shop").await;
    assert_eq!(
        me_licence(&ta, &m.cookie).await["state"],
        "valid",
        "local sign-in licensed the shop"
    );
    let path = match ta.app.licences.source() {
        Some(shared::licence::book::WhitelistSource::File(p)) => p.clone(),
        other => panic!("{other:?}"),
    };
    std::fs::write(&path, b"garbage").unwrap();
    assert_eq!(me_licence(&ta, &m.cookie).await["state"], "valid", "cached");
    ta.app.licences.reload_soon().await;
    assert_eq!(
        me_licence(&ta, &m.cookie).await["state"],
        "unavailable",
        "reloaded"
    );
}
