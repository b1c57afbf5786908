//! `GET /api/v1/me`, sign-in options, local sign-in, logout and Instagram resync.

use super::auth::{clear_session_cookie, merchant, merchant_write, session_cookie};
use crate::http::{answer_here, capped_body, ApiError};
use serde::{Deserialize, Serialize};
use shared::app::App;
use shared::db::begin_for_tenant;
use shared::instagram::oauth::{local_sign_in, SignInError};
use shared::sessions::{end_session, MerchantSession};
use shared::settings::Environment;
use shared::tenants::{self, InstagramHandle};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Connection {
    /// connected | reconnect_needed | not_connected | local
    status: &'static str,
    token_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct OpenAlert {
    kind: String,
    severity: String,
    message: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Me {
    tenant: tenants::Tenant,
    connection: Connection,
    csrf_token: String,
    local_environment: bool,
    alerts: Vec<OpenAlert>,
    /// Whether the shop gets AI replies under its licence, and until when.
    licence: shared::licence::book::LicenceStatus,
}

async fn me(app: App, session: MerchantSession) -> Result<warp::reply::Response, ApiError> {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "loading /me failed");
        ApiError::internal("We could not load your shop. Please try again.")
    };
    let mut c = app.db.app().await.map_err(|e| internal(&e))?;
    let tx = begin_for_tenant(&mut c, session.tenant)
        .await
        .map_err(|e| internal(&e))?;
    let tenant = tenants::load(&tx, session.tenant)
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "This shop no longer exists. Please sign in again.",
            )
        })?;
    let token = tx
        .query_opt(
            "SELECT expires_at FROM meta_tokens WHERE tenant_id = $1",
            &[&session.tenant.as_uuid()],
        )
        .await
        .map_err(|e| internal(&e))?;
    let alerts = tx
        .query(
            "SELECT kind, severity, message, created_at FROM alerts WHERE tenant_id = $1 AND acknowledged_at IS NULL ORDER BY created_at DESC LIMIT 20",
            &[&session.tenant.as_uuid()],
        )
        .await
        .map_err(|e| internal(&e))?
        .into_iter()
        .map(|r| OpenAlert { kind: r.get(0), severity: r.get(1), message: r.get(2), created_at: r.get(3) })
        .collect();
    tx.commit().await.map_err(|e| internal(&e))?;
    let licence = if tenant.status == "disabled" {
        shared::licence::book::LicenceStatus::disabled()
    } else {
        app.licences
            .status(tenant.ig_handle.as_deref(), chrono::Utc::now())
            .await
    };
    let is_local_shop = tenant
        .ig_user_id
        .as_deref()
        .is_some_and(|id| id.starts_with("local:"));
    let status = if is_local_shop {
        "local"
    } else if tenant.status == "reconnect_needed" {
        "reconnect_needed"
    } else if token.is_some() {
        "connected"
    } else {
        "not_connected"
    };
    let body = Me {
        connection: Connection {
            status,
            token_expires_at: token.map(|r| r.get(0)),
        },
        csrf_token: session.csrf_token(&app.keys),
        local_environment: app.settings.environment == Environment::Local,
        alerts,
        licence,
        tenant,
    };
    Ok(warp::reply::json(&body).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SignInOptions {
    instagram: bool,
    local: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LocalSignIn {
    handle: String,
}

fn sign_in_error(e: SignInError) -> ApiError {
    match e {
        SignInError::LocalSignInRefused => ApiError::new(
            StatusCode::FORBIDDEN,
            "local_sign_in_disabled",
            e.to_string(),
        ),
        SignInError::Database(ref db) => {
            tracing::error!(error = %db, "sign-in failed");
            ApiError::internal("We could not sign you in. Please try again.")
        }
        other => ApiError::bad_request(other.to_string()),
    }
}

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let get_me = warp::path!("api" / "v1" / "me").and(answer_here(
        warp::get().and(merchant(app.clone())).then(move |session| {
            let app = a.clone();
            async move { me(app, session).await.unwrap_or_else(|e| e.into_response()) }
        }),
    ));

    let a = app.clone();
    let options = warp::path!("api" / "v1" / "auth" / "options")
        .and(warp::get())
        .map(move || {
            warp::reply::json(&SignInOptions {
                instagram: a.settings.instagram.oauth_configured(),
                local: a.settings.environment == Environment::Local,
            })
            .into_response()
        });

    let a = app.clone();
    let local = warp::path!("api" / "v1" / "auth" / "local").and(answer_here(
        warp::post()
            .and(capped_body(4 * 1024))
            .then(move |body: bytes::Bytes| {
                let app = a.clone();
                async move {
                    let result = async {
                        if app.settings.environment != Environment::Local {
                            return Err(sign_in_error(SignInError::LocalSignInRefused));
                        }
                        let req: LocalSignIn = crate::http::read_json(&body)?;
                        let handle = InstagramHandle::parse(&req.handle)
                            .map_err(|m| ApiError::invalid("handle", m))?;
                        let signed_in =
                            local_sign_in(&app, &handle).await.map_err(sign_in_error)?;
                        // Local development: a local shop is licensed when this server holds
                        // the local signing key (./scripts/dev makes one in .data/).
                        if app.licences.can_sign() {
                            if let Err(e) = app.licences.license_local_shop(&handle).await {
                                tracing::warn!(error = %e, "could not license the local shop");
                            }
                        }
                        let max_age =
                            (signed_in.session.expires_at - chrono::Utc::now()).num_seconds();
                        let reply = warp::reply::json(&serde_json::json!({
                            "tenant_id": signed_in.tenant,
                            "new_shop": signed_in.new_shop,
                            "csrf_token": signed_in.session.csrf_token,
                        }));
                        Ok(warp::reply::with_header(
                            reply,
                            "set-cookie",
                            session_cookie(&app, &signed_in.session.token, max_age),
                        )
                        .into_response())
                    }
                    .await;
                    result.unwrap_or_else(|e| e.into_response())
                }
            }),
    ));

    let a = app.clone();
    let logout = warp::path!("api" / "v1" / "session" / "logout").and(answer_here(
        warp::post()
            .and(merchant_write(app.clone()))
            .then(move |session: MerchantSession| {
                let app = a.clone();
                async move {
                    if let Err(e) = end_session(&app.db, &session).await {
                        tracing::error!(error = %e, "logout failed");
                        return ApiError::internal("We could not sign you out. Please try again.")
                            .into_response();
                    }
                    let reply = warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT);
                    warp::reply::with_header(reply, "set-cookie", clear_session_cookie(&app))
                        .into_response()
                }
            }),
    ));

    let a = app.clone();
    let resync = warp::path!("api" / "v1" / "instagram" / "resync").and(answer_here(
        warp::post()
            .and(merchant_write(app))
            .then(move |session: MerchantSession| {
                let app = a.clone();
                async move {
                    use shared::instagram::resync::{resync, ResyncError};
                    match resync(&app, session.tenant).await {
                        Ok(report) => warp::reply::json(&report).into_response(),
                        Err(e @ (ResyncError::NotConnected | ResyncError::NotConfigured)) => {
                            ApiError::new(StatusCode::CONFLICT, "not_connected", e.to_string())
                                .into_response()
                        }
                        Err(e @ ResyncError::Instagram(_)) => {
                            ApiError::new(StatusCode::BAD_GATEWAY, "instagram_error", e.to_string())
                                .into_response()
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "resync failed");
                            ApiError::internal("The resync failed on our side. Please try again.")
                                .into_response()
                        }
                    }
                }
            }),
    ));

    get_me
        .or(options)
        .unify()
        .or(local)
        .unify()
        .or(logout)
        .unify()
        .or(resync)
        .unify()
        .boxed()
}
