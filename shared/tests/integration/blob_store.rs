//! Integration tests of `AzureBlobStore` against a real Azurite (no mocks).
//!
//! Needs `AZURE_STORAGE_CONNECTION_STRING` (Azurite): `./scripts/test`, or
//! `source scripts/lib/azurite.sh && start_azurite && cargo test -p shared --test blob_store`.
//! Each test works in its own randomly named container and deletes it at the end.

use azure_storage_blob::models::BlobClientGetPropertiesResultHeaders as _;
use azure_storage_blob::BlobContainerClient;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use futures::TryStreamExt as _;
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;
use shared::blob::sas::{AccountSas, SasProtocol};
use shared::blob::{AzureBlobStore, BlobConfig, BlobError, BlobStore};
use std::time::{Duration, Instant};
use url::Url;

const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn connection_string() -> String {
    match std::env::var("AZURE_STORAGE_CONNECTION_STRING") {
        Ok(s) if !s.trim().is_empty() => s,
        _ => panic!(
            "AZURE_STORAGE_CONNECTION_STRING is not set: these tests need Azurite. \
             start Azurite: run ./scripts/test \
             (or `source scripts/lib/azurite.sh && start_azurite` before `cargo test`)"
        ),
    }
}

fn random_container() -> String {
    format!("test-{}", uuid::Uuid::new_v4().simple())
}

fn config(connection_string: String, container: &str) -> BlobConfig {
    BlobConfig {
        connection_string: Some(SecretString::from(connection_string)),
        account_url: None,
        managed_identity_client_id: None,
        container: container.to_owned(),
    }
}

/// A store on Azurite with its own, already created, container.
async fn new_store() -> (AzureBlobStore, String) {
    let container = random_container();
    let store = AzureBlobStore::from_config(&config(connection_string(), &container))
        .expect("store from config");
    store.ensure_container().await.expect("ensure_container");
    (store, container)
}

/// Direct SDK access to the same container (for checks the trait does not offer, and clean-up),
/// authenticated with an account SAS built from the connection string's key.
fn raw_container(container: &str) -> BlobContainerClient {
    let cs = connection_string();
    let field = |name: &str| {
        cs.split(';')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_owned())
    };
    let account = field("AccountName").expect("AccountName in the connection string");
    let key = BASE64
        .decode(field("AccountKey").expect("AccountKey in the connection string"))
        .unwrap();
    let endpoint = field("BlobEndpoint").expect("BlobEndpoint in the connection string");
    let sas = AccountSas::blob_read_write(
        &account,
        Utc::now() + chrono::Duration::hours(1),
        SasProtocol::HttpsAndHttp,
    );
    let mut url = Url::parse(&format!("{}/{container}", endpoint.trim_end_matches('/'))).unwrap();
    url.set_query(Some(&sas.to_query(&key)));
    BlobContainerClient::new(url, None, None).unwrap()
}

async fn drop_container(container: &str) {
    raw_container(container)
        .delete(None)
        .await
        .expect("delete test container");
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn pseudo_random(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A loopback port where nothing listens.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

fn dead_store() -> AzureBlobStore {
    let cs = format!(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{}/devstoreaccount1;",
        dead_port()
    );
    AzureBlobStore::from_config(&config(cs, "nothing-here")).unwrap()
}

#[tokio::test]
async fn ensure_container_twice_is_fine() {
    let (store, container) = new_store().await;
    store
        .ensure_container()
        .await
        .expect("second ensure_container");
    store
        .ensure_container()
        .await
        .expect("third ensure_container");
    store
        .check_ready()
        .await
        .expect("ready after ensure_container");
    drop_container(&container).await;
}

#[tokio::test]
async fn put_get_round_trips_bytes() {
    let (store, container) = new_store().await;

    let arabic = "مرحباً بكم في متجرنا! الأسعار: ١٢٣ ر.س — شكراً 🛍️\nسطر ثانٍ";
    store
        .put(
            "tenants/5f0c1b9e-0000-4000-8000-000000000001/kb/ترحيب.txt",
            Bytes::from(arabic),
            "text/plain; charset=utf-8",
        )
        .await
        .unwrap();
    let got = store
        .get("tenants/5f0c1b9e-0000-4000-8000-000000000001/kb/ترحيب.txt")
        .await
        .unwrap()
        .expect("present");
    assert_eq!(std::str::from_utf8(&got).unwrap(), arabic);

    let big = Bytes::from(pseudo_random(3 * 1024 * 1024, 0x9E37_79B9_7F4A_7C15));
    store
        .put(
            "tenants/t1/kb/big.bin",
            big.clone(),
            "application/octet-stream",
        )
        .await
        .unwrap();
    let got = store
        .get("tenants/t1/kb/big.bin")
        .await
        .unwrap()
        .expect("present");
    assert_eq!(got.len(), big.len());
    assert!(got == big, "3 MB blob differs after the round trip");

    store
        .put("tenants/t1/kb/empty.txt", Bytes::new(), "")
        .await
        .unwrap();
    assert_eq!(
        store
            .get("tenants/t1/kb/empty.txt")
            .await
            .unwrap()
            .expect("present"),
        Bytes::new()
    );

    // Names keep their '/' (virtual folders) and content types are stored.
    let raw = raw_container(&container);
    let mut pages = raw.list_blobs(None).unwrap().into_pages();
    let mut names = Vec::new();
    while let Some(page) = pages.try_next().await.unwrap() {
        names.extend(
            page.into_model()
                .unwrap()
                .blob_items
                .into_iter()
                .filter_map(|b| b.name),
        );
    }
    names.sort();
    assert_eq!(
        names,
        [
            "tenants/5f0c1b9e-0000-4000-8000-000000000001/kb/ترحيب.txt",
            "tenants/t1/kb/big.bin",
            "tenants/t1/kb/empty.txt",
        ]
    );
    let props = raw
        .blob_client("tenants/5f0c1b9e-0000-4000-8000-000000000001/kb/ترحيب.txt")
        .get_properties(None)
        .await
        .unwrap();
    assert_eq!(
        props.content_type().unwrap().as_deref(),
        Some("text/plain; charset=utf-8")
    );
    let props = raw
        .blob_client("tenants/t1/kb/empty.txt")
        .get_properties(None)
        .await
        .unwrap();
    assert_eq!(
        props.content_type().unwrap().as_deref(),
        Some("application/octet-stream")
    );

    drop_container(&container).await;
}

#[tokio::test]
async fn put_overwrites() {
    let (store, container) = new_store().await;
    let path = "tenants/t2/kb/doc.pdf";
    store
        .put(
            path,
            Bytes::from_static(b"first version, longer than the second"),
            "application/pdf",
        )
        .await
        .unwrap();
    store
        .put(path, Bytes::from_static(b"second"), "application/pdf")
        .await
        .unwrap();
    assert_eq!(
        store.get(path).await.unwrap().unwrap(),
        Bytes::from_static(b"second")
    );
    drop_container(&container).await;
}

#[tokio::test]
async fn get_missing_is_none() {
    let (store, container) = new_store().await;
    assert_eq!(
        store.get("tenants/t3/kb/never-written.pdf").await.unwrap(),
        None
    );
    drop_container(&container).await;
}

#[tokio::test]
async fn delete_then_get_is_none_and_delete_is_idempotent() {
    let (store, container) = new_store().await;
    let path = "tenants/t4/kb/gone.txt";
    store
        .put(path, Bytes::from_static(b"bye"), "text/plain")
        .await
        .unwrap();
    assert!(store.get(path).await.unwrap().is_some());
    store.delete(path).await.unwrap();
    assert_eq!(store.get(path).await.unwrap(), None);
    store.delete(path).await.expect("deleting again is Ok");
    store
        .delete("tenants/t4/kb/never-existed.txt")
        .await
        .expect("deleting a missing blob is Ok");
    drop_container(&container).await;
}

#[tokio::test]
async fn concurrent_operations() {
    let (store, container) = new_store().await;
    let store = std::sync::Arc::new(store);
    let tasks: Vec<_> = (0..16u64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let path = format!("tenants/t{i}/kb/doc-{i}.bin");
                let data = Bytes::from(pseudo_random(10_000 + i as usize, i + 1));
                store
                    .put(&path, data.clone(), "application/octet-stream")
                    .await
                    .unwrap();
                assert_eq!(store.get(&path).await.unwrap().unwrap(), data);
                store.delete(&path).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    drop_container(&container).await;
}

#[tokio::test]
async fn invalid_paths_are_rejected_without_a_network_call() {
    // Nothing listens behind this store: a network call would fail as Unavailable, slowly.
    let store = dead_store();
    let long = "a".repeat(1025);
    let started = Instant::now();
    for bad in [
        "",
        "/tenants/t/kb/a.pdf",
        "tenants/../other/kb/a.pdf",
        "..",
        "tenants\\t\\a.pdf",
        "tenants//a",
        "tenants/t/",
        &long,
    ] {
        let put = store.put(bad, Bytes::from_static(b"x"), "text/plain").await;
        assert!(
            matches!(put, Err(BlobError::InvalidPath(_))),
            "put {bad:?}: {put:?}"
        );
        let get = store.get(bad).await;
        assert!(
            matches!(get, Err(BlobError::InvalidPath(_))),
            "get {bad:?}: {get:?}"
        );
        let del = store.delete(bad).await;
        assert!(
            matches!(del, Err(BlobError::InvalidPath(_))),
            "delete {bad:?}: {del:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn check_ready_ok() {
    let (store, container) = new_store().await;
    store.check_ready().await.expect("ready");
    drop_container(&container).await;
}

#[tokio::test]
async fn check_ready_fails_for_a_missing_container() {
    let store =
        AzureBlobStore::from_config(&config(connection_string(), &random_container())).unwrap();
    let err = store
        .check_ready()
        .await
        .expect_err("container was never created");
    assert!(matches!(err, BlobError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn check_ready_fails_quickly_when_nothing_listens() {
    let store = dead_store();
    let started = Instant::now();
    let err = store.check_ready().await.expect_err("nothing listens");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(matches!(err, BlobError::Unavailable(_)), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(AZURITE_KEY), "{text}");
    assert!(
        !text.contains("sig=") || text.contains("sig=<redacted>"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("&sig="), "{text}");

    // The other operations fail the same way (and also without leaking secrets).
    let err = store
        .get("tenants/t/kb/a.pdf")
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, BlobError::Unavailable(_)), "{err:?}");
    assert!(!format!("{err:?}").contains("sig=") || format!("{err:?}").contains("sig=<redacted>"));
}

#[tokio::test]
async fn wrong_key_is_unauthorized() {
    let cs = connection_string();
    // Same account and endpoint, another (valid base64) key.
    let wrong = cs
        .split(';')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("AccountKey") => {
                format!("AccountKey={}", BASE64.encode([7u8; 64]))
            }
            _ => kv.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";");
    let store = AzureBlobStore::from_config(&config(wrong, &random_container())).unwrap();
    let err = store
        .ensure_container()
        .await
        .expect_err("signature must not match");
    assert!(matches!(err, BlobError::Unauthorized(_)), "{err:?}");
    assert!(!format!("{err:?}").contains(&BASE64.encode([7u8; 64])));
}

#[test]
fn account_sas_signature_for_fixed_inputs() {
    let key = BASE64.decode(AZURITE_KEY).unwrap();
    let sas = AccountSas {
        account_name: "devstoreaccount1".into(),
        services: "b".into(),
        resource_types: "sco".into(),
        permissions: "rwdlac".into(),
        start: Some(Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()),
        expiry: Utc.with_ymd_and_hms(2030, 5, 6, 11, 8, 9).unwrap(),
        ip_range: None,
        protocol: SasProtocol::HttpsAndHttp,
        version: "2022-11-02".into(),
        encryption_scope: None,
    };
    // Microsoft's account-SAS string-to-sign (version 2020-12-06 and later), written out by hand.
    let expected_string_to_sign =
        "devstoreaccount1\nrwdlac\nb\nsco\n2030-05-06T07:08:09Z\n2030-05-06T11:08:09Z\n\nhttps,http\n2022-11-02\n\n";
    assert_eq!(sas.string_to_sign(), expected_string_to_sign);

    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(expected_string_to_sign.as_bytes());
    let expected_sig = BASE64.encode(mac.finalize().into_bytes());
    assert_eq!(sas.signature(&key), expected_sig);

    let mut url = Url::parse("http://127.0.0.1:10000/devstoreaccount1/igshop").unwrap();
    url.set_query(Some(&sas.to_query(&key)));
    let pairs: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    for k in ["sv", "ss", "srt", "sp", "st", "se", "spr", "sig"] {
        assert!(pairs.contains_key(k), "{k} missing from {url}");
    }
    assert_eq!(pairs["sv"], "2022-11-02");
    assert_eq!(pairs["ss"], "b");
    assert_eq!(pairs["srt"], "sco");
    assert_eq!(pairs["sp"], "rwdlac");
    assert_eq!(pairs["se"], "2030-05-06T11:08:09Z");
    assert_eq!(pairs["spr"], "https,http");
    assert_eq!(
        pairs["sig"], expected_sig,
        "sig must survive percent-encoding"
    );
    // Base64 '+', '/' and '=' are percent-encoded in the raw query.
    let raw_sig = url
        .query()
        .unwrap()
        .split('&')
        .find_map(|kv| kv.strip_prefix("sig="))
        .unwrap();
    assert!(!raw_sig.contains(['+', '/', '=']), "{raw_sig}");
}
