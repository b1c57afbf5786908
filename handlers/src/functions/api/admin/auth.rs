//! Admin sign-in, sign-out and `GET /api/admin/me`; the filters every admin route uses.

use super::{internal, json};
use crate::http::{answer_here, capped_body, ApiError};
use serde::{Deserialize, Serialize};
use shared::admin::{self, AdminError, AdminSession, COOKIE_NAME};
use shared::app::App;
use shared::settings::Environment;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in admin, or 401. A merchant's session is not one.
pub fn admin(app: App) -> impl Filter<Extract = (AdminSession,), Error = Rejection> + Clone {
    warp::cookie::optional::<String>(COOKIE_NAME).and_then(move |cookie: Option<String>| {
        let app = app.clone();
        async move {
            let unauthorized = || {
                warp::reject::custom(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Please sign in to the admin console.",
                ))
            };
            let token = cookie.ok_or_else(unauthorized)?;
            match admin::find_session(&app.db, &token).await {
                Ok(Some(s)) => Ok(s),
                Ok(None) => Err(unauthorized()),
                Err(e) => Err(warp::reject::custom(internal(e))),
            }
        }
    })
}

/// The signed-in admin, for a change: `X-CSRF-Token` must carry the admin session's token.
pub fn admin_write(app: App) -> impl Filter<Extract = (AdminSession,), Error = Rejection> + Clone {
    let keys = app.keys.clone();
    admin(app)
        .and(warp::header::optional::<String>(CSRF_HEADER))
        .and_then(move |s: AdminSession, csrf: Option<String>| {
            let keys = keys.clone();
            async move {
                if s.csrf_matches(&keys, csrf.as_deref()) {
                    Ok(s)
                } else {
                    Err(warp::reject::custom(super::super::auth::csrf_refused(
                        csrf.is_some(),
                    )))
                }
            }
        })
}

fn cookie(app: &App, token: &str, max_age: i64) -> String {
    let secure = if app.settings.environment == Environment::Local {
        ""
    } else {
        "; Secure"
    };
    format!("{COOKIE_NAME}={token}; Path=/api/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignIn {
    email: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AdminMe {
    email: String,
    csrf_token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    /// Whether this server can sign licences (LICENCE_SIGNING_KEY); otherwise read-only.
    can_sign_licences: bool,
}

fn me_of(app: &App, s: &AdminSession) -> AdminMe {
    AdminMe {
        email: s.email.clone(),
        csrf_token: s.csrf_token(&app.keys),
        expires_at: s.expires_at,
        can_sign_licences: app.licences.can_sign(),
    }
}

/// The caller as the host saw it: the first X-Forwarded-For address, else the socket's.
fn client_of(forwarded: Option<String>, remote: Option<std::net::SocketAddr>) -> String {
    forwarded
        .and_then(|f| f.split(',').next().map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .or_else(|| remote.map(|r| r.ip().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let sign_in = warp::path!("api" / "admin" / "auth" / "sign-in")
        .and(warp::post())
        .and(answer_here(
            warp::any()
                .and(warp::header::optional::<String>("x-forwarded-for"))
                .and(warp::addr::remote())
                .and(capped_body(4 * 1024))
                .then(move |fwd: Option<String>, remote, body: bytes::Bytes| {
                    let app = a.clone();
                    async move {
                        let result = async {
                            let req: SignIn = crate::http::read_json(&body)?;
                            let client = client_of(fwd, remote);
                            let s = admin::sign_in(
                                &app.db,
                                &app.keys,
                                &req.email,
                                &req.password,
                                &client,
                                app.settings.admin_session_ttl_hours,
                            )
                            .await
                            .map_err(|e| match e {
                                AdminError::WrongCredentials => ApiError::new(
                                    StatusCode::UNAUTHORIZED,
                                    "wrong_credentials",
                                    "Wrong e-mail or password.",
                                ),
                                e @ AdminError::Locked(_) => ApiError::new(
                                    StatusCode::TOO_MANY_REQUESTS,
                                    "locked",
                                    format!("{}.", capitalise(&e.to_string())),
                                ),
                                e @ AdminError::RateLimited(_) => ApiError::new(
                                    StatusCode::TOO_MANY_REQUESTS,
                                    "rate_limited",
                                    format!("{}.", capitalise(&e.to_string())),
                                ),
                                other => internal(other),
                            })?;
                            let max_age = (s.expires_at - chrono::Utc::now()).num_seconds();
                            let body = me_of(&app, &s.admin);
                            Ok::<_, ApiError>(
                                warp::reply::with_header(
                                    warp::reply::json(&body),
                                    "set-cookie",
                                    cookie(&app, &s.token, max_age),
                                )
                                .into_response(),
                            )
                        }
                        .await;
                        result.unwrap_or_else(|e| e.into_response())
                    }
                }),
        ));

    let a = app.clone();
    let sign_out = warp::path!("api" / "admin" / "auth" / "sign-out")
        .and(warp::post())
        .and(super::shielded(admin_write(app.clone())))
        .then(move |s: Result<AdminSession, warp::reply::Response>| {
            let app = a.clone();
            async move {
                let s = super::signed_in!(s);
                if let Err(e) = admin::sign_out(&app.db, &s).await {
                    return internal(e).into_response();
                }
                warp::reply::with_header(StatusCode::NO_CONTENT, "set-cookie", cookie(&app, "", 0))
                    .into_response()
            }
        });

    let a = app.clone();
    let me = warp::path!("api" / "admin" / "me")
        .and(warp::get())
        .and(super::shielded(admin(app)))
        .map(
            move |s: Result<AdminSession, warp::reply::Response>| match s {
                Ok(s) => json(Ok(me_of(&a, &s))),
                Err(answer) => answer,
            },
        );

    sign_in.or(sign_out).unify().or(me).unify().boxed()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
