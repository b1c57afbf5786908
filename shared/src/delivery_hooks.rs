//! Delivery hooks: on order events, a signed JSON POST to the merchant's delivery provider,
//! retried with exponential back-off for up to 24 hours (by the sweeper) until a 2xx answer.
//!
//! Each request carries `X-IGShop-Timestamp`, `X-IGShop-Signature: sha256=<hex HMAC-SHA256 of
//! "<timestamp>.<body>">` with the hook's secret, and `Idempotency-Key` (the same on every
//! retry of one event), so a receiver can verify and deduplicate.

use crate::app::App;
use crate::crypto::Keys;
use crate::db::{begin_for_tenant, DbError};
use crate::orders::OrderDetail;
use crate::tenants::TenantId;
use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::GenericClient;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::Sha256;
use std::net::SocketAddr;
use uuid::Uuid;

pub const GIVE_UP_AFTER_HOURS: i64 = 24;
const MAX_BACKOFF_SECS: i64 = 3600;

/// `sha256=<hex>` over `"<timestamp>.<body>"`.
pub fn signature(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "sha256={}",
        crate::crypto::hex(&mac.finalize().into_bytes())
    )
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HookConfig {
    pub url: String,
    pub enabled: bool,
    pub updated_at: DateTime<Utc>,
}

pub async fn get_config(
    tx: &impl GenericClient,
) -> Result<Option<HookConfig>, tokio_postgres::Error> {
    Ok(tx
        .query_opt("SELECT url, enabled, updated_at FROM delivery_hooks", &[])
        .await?
        .map(|r| HookConfig {
            url: r.get(0),
            enabled: r.get(1),
            updated_at: r.get(2),
        }))
}

/// Whether a hook address names a public host, checked when it is saved (delivery checks the
/// resolved addresses again): no private, loopback or link-local address literal, and no
/// `localhost` / `*.localhost` name. No lookup is made here.
pub fn check_public_host(url: &url::Url) -> Result<(), String> {
    let refused = || {
        Err("the delivery hook address points into a private network (a private, loopback or link-local address, or localhost), which hooks may not reach".to_string())
    };
    match url.host() {
        None => Err("the delivery hook address has no host".into()),
        Some(url::Host::Ipv4(ip)) if crate::knowledge::fetch::is_forbidden_ip(ip.into()) => {
            refused()
        }
        Some(url::Host::Ipv6(ip)) if crate::knowledge::fetch::is_forbidden_ip(ip.into()) => {
            refused()
        }
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") || !name.contains('.') {
                refused()
            } else {
                Ok(())
            }
        }
        Some(_) => Ok(()),
    }
}

/// Sets the hook URL and secret (sealed at rest). The URL must be https (http only for
/// local development) and name a public host ([`check_public_host`]; `allow_private` only
/// for tests that deliver to a receiver on loopback).
#[allow(clippy::too_many_arguments)]
pub async fn set_config(
    tx: &impl GenericClient,
    keys: &Keys,
    tenant: TenantId,
    url: &str,
    secret: &SecretString,
    enabled: bool,
    allow_http: bool,
    allow_private: bool,
) -> Result<(), String> {
    let parsed =
        url::Url::parse(url.trim()).map_err(|_| format!("{url:?} is not a web address"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err("the delivery hook address must start with https://".into()),
    }
    if parsed.username() != "" || parsed.password().is_some() {
        return Err("put credentials in the secret, not in the address".into());
    }
    if !allow_private {
        check_public_host(&parsed)?;
    }
    if secret.expose_secret().len() < 16 {
        return Err("the signing secret must be at least 16 characters".into());
    }
    tx.execute(
        "INSERT INTO delivery_hooks (tenant_id, url, secret_enc, key_id, enabled) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id) DO UPDATE SET url = EXCLUDED.url, secret_enc = EXCLUDED.secret_enc,
                key_id = EXCLUDED.key_id, enabled = EXCLUDED.enabled, updated_at = now()",
        &[&tenant.as_uuid(), &parsed.as_str(), &keys.seal(secret.expose_secret().as_bytes()), &keys.key_id(), &enabled],
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// Queues an order event for the shop's hook, in the caller's transaction (so the event exists
/// exactly when the change does). Nothing happens when the shop has no enabled hook.
pub async fn queue_event(
    tx: &impl GenericClient,
    tenant: TenantId,
    order: &OrderDetail,
    event: &str,
) -> Result<(), tokio_postgres::Error> {
    if tx
        .query_opt("SELECT 1 FROM delivery_hooks WHERE enabled", &[])
        .await?
        .is_none()
    {
        return Ok(());
    }
    let seq: i64 = tx
        .query_one(
            "SELECT count(*) FROM hook_deliveries WHERE order_id = $1 AND event = $2",
            &[&order.summary.id, &event],
        )
        .await?
        .get(0);
    let key = format!(
        "{}:{event}:{}:{}",
        order.summary.id,
        order.summary.status.as_str(),
        seq + 1
    );
    let payload = serde_json::json!({ "event": event, "idempotency_key": key, "occurred_at": Utc::now(), "order": order });
    tx.execute(
        "INSERT INTO hook_deliveries (tenant_id, order_id, event, idempotency_key, payload) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
        &[&tenant.as_uuid(), &order.summary.id, &event, &key, &payload],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryLogEntry {
    pub id: Uuid,
    pub order_id: Option<Uuid>,
    pub event: String,
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

pub async fn log(
    tx: &impl GenericClient,
    limit: i64,
) -> Result<Vec<DeliveryLogEntry>, tokio_postgres::Error> {
    Ok(tx
        .query(
            "SELECT id, order_id, event, status, attempts, last_status_code, last_error, next_attempt_at, created_at, delivered_at
               FROM hook_deliveries ORDER BY created_at DESC LIMIT $1",
            &[&limit.clamp(1, 500)],
        )
        .await?
        .iter()
        .map(|r| DeliveryLogEntry {
            id: r.get(0),
            order_id: r.get(1),
            event: r.get(2),
            status: r.get(3),
            attempts: r.get(4),
            last_status_code: r.get(5),
            last_error: r.get(6),
            next_attempt_at: r.get(7),
            created_at: r.get(8),
            delivered_at: r.get(9),
        })
        .collect())
}

/// Which addresses a hook may reach: never private, loopback or link-local ones, except
/// exact addresses a test names.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub allow_exact: Vec<SocketAddr>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub retrying: usize,
    pub given_up: usize,
}

/// Sends every due delivery (oldest first, a bounded batch). Safe to run concurrently: each
/// delivery is claimed with `FOR UPDATE SKIP LOCKED` for the duration of its attempt.
pub async fn deliver_due(app: &App, reach: &Reach, batch: i64) -> Result<DeliveryReport, DbError> {
    let due: Vec<(Uuid, TenantId)> = {
        let c = app.db.platform().await?;
        c.query(
            "SELECT id, tenant_id FROM hook_deliveries WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1",
            &[&batch],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), TenantId::from_uuid(r.get(1))))
        .collect()
    };
    let mut report = DeliveryReport::default();
    for (id, tenant) in due {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        let Some(row) = tx
            .query_opt(
                "SELECT d.idempotency_key, d.payload, d.attempts, d.created_at, h.url, h.secret_enc, h.key_id
                   FROM hook_deliveries d JOIN delivery_hooks h ON h.tenant_id = d.tenant_id
                  WHERE d.id = $1 AND d.status = 'pending' AND d.next_attempt_at <= now()
                  FOR UPDATE OF d SKIP LOCKED",
                &[&id],
            )
            .await?
        else {
            continue;
        };
        let (key, payload, attempts, created): (String, serde_json::Value, i32, DateTime<Utc>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let url: String = row.get(4);
        let outcome = match app.keys.open_string(row.get(6), row.get::<_, &[u8]>(5)) {
            Ok(secret) => attempt(reach, &url, &key, &secret, &payload).await,
            Err(e) => Err((None, format!("the hook secret cannot be opened: {e}"))),
        };
        match outcome {
            Ok(status) => {
                tx.execute(
                    "UPDATE hook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status_code = $2, last_error = NULL, delivered_at = now() WHERE id = $1",
                    &[&id, &(status as i32)],
                )
                .await?;
                report.delivered += 1;
            }
            Err((status, error)) => {
                let next = Utc::now()
                    + Duration::seconds((30i64 << attempts.min(7)).min(MAX_BACKOFF_SECS));
                if next > created + Duration::hours(GIVE_UP_AFTER_HOURS) {
                    tx.execute(
                        "UPDATE hook_deliveries SET status = 'given_up', attempts = attempts + 1, last_status_code = $2, last_error = $3 WHERE id = $1",
                        &[&id, &status.map(|s| s as i32), &error],
                    )
                    .await?;
                    crate::alerts::raise_said(
                        &tx,
                        Some(tenant),
                        "delivery_hook_failed",
                        crate::alerts::Severity::Warning,
                        &crate::alerts::Said::new(
                            "delivery_hook_failed",
                            serde_json::json!({}),
                            format!("An order event could not be delivered to your delivery hook for 24 hours ({error})."),
                        ),
                        Some(&format!("delivery_hook_failed:{id}")),
                    )
                    .await?;
                    report.given_up += 1;
                } else {
                    tx.execute(
                        "UPDATE hook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1",
                        &[&id, &status.map(|s| s as i32), &error, &next],
                    )
                    .await?;
                    report.retrying += 1;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}

async fn attempt(
    reach: &Reach,
    url: &str,
    key: &str,
    secret: &SecretString,
    payload: &serde_json::Value,
) -> Result<u16, (Option<u16>, String)> {
    let parsed = url::Url::parse(url).map_err(|e| (None, e.to_string()))?;
    let host = parsed
        .host_str()
        .ok_or((None, "the address has no host".to_string()))?
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| (None, format!("the address could not be resolved: {e}")))?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err((None, "the address resolves to nothing".into()));
    };
    if addrs
        .iter()
        .any(|a| !reach.allow_exact.contains(a) && crate::knowledge::fetch::is_forbidden_ip(a.ip()))
    {
        return Err((
            None,
            "the address points into a private network, which hooks may not reach".into(),
        ));
    }
    let body = serde_json::to_vec(payload).expect("JSON value");
    let ts = Utc::now().timestamp();
    // Connect to the address we checked, not to whatever a second lookup (or a proxy) would
    // pick; redirects are not followed, so the check cannot be walked around.
    let pinned = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .resolve(&host, first)
        .build()
        .map_err(|e| (None, format!("HTTP client: {e}")))?;
    let response = pinned
        .post(parsed)
        .header("content-type", "application/json")
        .header("x-igshop-timestamp", ts.to_string())
        .header("x-igshop-signature", signature(secret, ts, &body))
        .header("idempotency-key", key)
        .body(body)
        .send()
        .await
        .map_err(|e| (None, format!("no answer: {}", e.without_url())))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("answered {status}")))
    }
}
