//! Licences in the console: the verified whitelist with the shop each handle matches; add,
//! extend and remove — signed here with LICENCE_SIGNING_KEY and published as the new
//! whitelist.sig. Without the key the list is read-only and the answer names the CLI commands.

use super::{admin, admin_write, internal, json, no_content, shielded, signed_in};
use crate::functions::api::shop::json_body;
use crate::http::ApiError;
use serde::{Deserialize, Serialize};
use shared::admin::{audit, AdminSession};
use shared::app::App;
use shared::licence::book::PublishError;
use shared::licence::{amman_today, ExpiryDate};
use shared::tenants::{InstagramHandle, TenantId};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// Serialises edits of the whitelist across instances (read, change, sign, publish).
const EDIT_LOCK: i64 = 0x1654_0010;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct LicensedShop {
    id: TenantId,
    display_name: Option<String>,
    status: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct LicenceRow {
    handle: String,
    #[schema(value_type = String, format = Date)]
    expires_on: ExpiryDate,
    /// 0 on the last day; negative once expired.
    days_left: i64,
    /// valid | expired
    state: &'static str,
    /// The shop with this Instagram handle, if one has signed up.
    tenant: Option<LicensedShop>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct LicencesView {
    /// Whether this server signs changes (LICENCE_SIGNING_KEY); false: read-only.
    can_sign: bool,
    /// Where the app reads whitelist.sig from.
    source: Option<String>,
    version: Option<u64>,
    issued_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the whitelist cannot be used (no shop gets AI replies then).
    error: Option<String>,
    /// What to run instead when read-only.
    cli: Vec<String>,
    licences: Vec<LicenceRow>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LicenceInput {
    /// YYYY-MM-DD, the last day (inclusive, Asia/Amman).
    expires_on: String,
}

fn cli_commands(handle: &str, expiry: &str) -> Vec<String> {
    vec![
        format!("handler licence add --handle {handle} --expiry {expiry} --private-key licence-private.pem --whitelist whitelist.sig"),
        format!("handler licence remove --handle {handle} --private-key licence-private.pem --whitelist whitelist.sig"),
        "handler licence publish --public-key licence-public.pem --whitelist whitelist.sig".into(),
    ]
}

async fn view(app: &App) -> Result<LicencesView, ApiError> {
    app.licences.reload_soon().await;
    let loaded = app.licences.current().await;
    let now = chrono::Utc::now();
    let today = amman_today(now);
    let c = app.db.platform().await.map_err(internal)?;
    let mut licences = vec![];
    if let Ok(w) = &loaded {
        let handles: Vec<String> = w.entries.keys().cloned().collect();
        let rows = c
            .query(
                "SELECT ig_handle, id, display_name, status FROM tenants WHERE ig_handle = ANY($1)",
                &[&handles],
            )
            .await
            .map_err(internal)?;
        let mut shops: std::collections::HashMap<String, LicensedShop> = rows
            .into_iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    LicensedShop {
                        id: TenantId::from_uuid(r.get(1)),
                        display_name: r.get(2),
                        status: r.get(3),
                    },
                )
            })
            .collect();
        for (handle, expiry) in &w.entries {
            licences.push(LicenceRow {
                handle: handle.clone(),
                expires_on: *expiry,
                days_left: expiry.days_left(today),
                state: if expiry.covers(today) {
                    "valid"
                } else {
                    "expired"
                },
                tenant: shops.remove(handle),
            });
        }
    }
    let can_sign = app.licences.can_sign();
    Ok(LicencesView {
        can_sign,
        source: app.licences.source().map(|s| s.to_string()),
        version: loaded.as_ref().ok().map(|w| w.version),
        issued_at: loaded.as_ref().ok().map(|w| w.issued_at),
        error: loaded.as_ref().err().cloned(),
        cli: if can_sign {
            vec![]
        } else {
            cli_commands("<handle>", "<YYYY-MM-DD>")
        },
        licences,
    })
}

fn publish_error(e: PublishError, handle: &str, expiry: &str) -> warp::reply::Response {
    match e {
        PublishError::NoSigningKey => warp::reply::with_status(
            warp::reply::json(&serde_json::json!({
                "error": "read_only",
                "message": e.to_string(),
                "cli": cli_commands(handle, expiry),
            })),
            StatusCode::CONFLICT,
        )
        .into_response(),
        PublishError::NoSource | PublishError::KeyMismatch | PublishError::Unreadable(_) => {
            ApiError::new(StatusCode::CONFLICT, "licence_unavailable", e.to_string())
                .into_response()
        }
        PublishError::Store(_) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "publish_failed", e.to_string()).into_response()
        }
    }
}

/// Under the edit lock: change, sign, publish, audit.
async fn edit(
    app: &App,
    s: &AdminSession,
    handle: InstagramHandle,
    expiry: Option<ExpiryDate>,
) -> warp::reply::Response {
    let expiry_text = expiry
        .map(|e| e.to_string())
        .unwrap_or_else(|| "<YYYY-MM-DD>".into());
    let result = async {
        let mut c = app
            .db
            .platform()
            .await
            .map_err(|e| internal(e).into_response())?;
        let tx = c
            .transaction()
            .await
            .map_err(|e| internal(e).into_response())?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EDIT_LOCK])
            .await
            .map_err(|e| internal(e).into_response())?;
        let mut found = true;
        let published = app
            .licences
            .publish_change(|w| match expiry {
                Some(e) => w.set(&handle, e),
                None => {
                    found = w.remove(&handle);
                    found
                }
            })
            .await
            .map_err(|e| publish_error(e, handle.as_str(), &expiry_text))?;
        if !found {
            return Err(super::not_found("licence").into_response());
        }
        let shop: Option<LicensedShop> = tx
            .query_opt(
                "SELECT id, display_name, status FROM tenants WHERE ig_handle = $1",
                &[&handle.as_str()],
            )
            .await
            .map_err(|e| internal(e).into_response())?
            .map(|r| LicensedShop {
                id: TenantId::from_uuid(r.get(0)),
                display_name: r.get(1),
                status: r.get(2),
            });
        audit(
            &tx,
            &s.actor(),
            shop.as_ref().map(|t| t.id),
            if expiry.is_some() {
                "licence.set"
            } else {
                "licence.remove"
            },
            Some(handle.as_str()),
            serde_json::json!({ "expires_on": expiry, "version": published.version }),
        )
        .await
        .map_err(|e| internal(e).into_response())?;
        tx.commit().await.map_err(|e| internal(e).into_response())?;
        Ok((published, shop))
    }
    .await;
    match (result, expiry) {
        (Err(r), _) => r,
        (Ok(_), None) => StatusCode::NO_CONTENT.into_response(),
        (Ok((w, shop)), Some(_)) => {
            let today = amman_today(chrono::Utc::now());
            let e = w.expiry(&handle).expect("just set");
            json(Ok(LicenceRow {
                handle: handle.as_str().to_owned(),
                expires_on: e,
                days_left: e.days_left(today),
                state: if e.covers(today) { "valid" } else { "expired" },
                // The answer names the shop like the list does.
                tenant: shop,
            }))
        }
    }
}

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let list = warp::path!("api" / "admin" / "licences")
        .and(warp::get())
        .and(shielded(admin(app.clone())))
        .then(move |s: Result<AdminSession, warp::reply::Response>| {
            let app = a.clone();
            async move {
                signed_in!(s);
                json(view(&app).await)
            }
        });
    let a = app.clone();
    let set = warp::path!("api" / "admin" / "licences" / String)
        .and(warp::put())
        .and(shielded(
            admin_write(app.clone())
                .and(json_body::<LicenceInput>(4 * 1024))
                .map(|s, b| (s, b)),
        ))
        .then(
            move |raw: String, r: Result<(AdminSession, LicenceInput), warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let (s, input) = signed_in!(r);
                    let handle = match InstagramHandle::parse(&raw) {
                        Ok(h) => h,
                        Err(m) => return ApiError::bad_request(m).into_response(),
                    };
                    let expiry = match ExpiryDate::parse(&input.expires_on) {
                        Ok(e) => e,
                        Err(m) => return ApiError::bad_request(m).into_response(),
                    };
                    edit(&app, &s, handle, Some(expiry)).await
                }
            },
        );
    let a = app.clone();
    let remove = warp::path!("api" / "admin" / "licences" / String)
        .and(warp::delete())
        .and(shielded(admin_write(app)))
        .then(
            move |raw: String, s: Result<AdminSession, warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let s = signed_in!(s);
                    match InstagramHandle::parse(&raw) {
                        Ok(h) => edit(&app, &s, h, None).await,
                        Err(m) => no_content(Err(ApiError::bad_request(m))),
                    }
                }
            },
        );
    list.or(set).unify().or(remove).unify().boxed()
}
