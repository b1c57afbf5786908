//! Who is calling: the merchant session from the cookie, and the CSRF check on every
//! state-changing request.

use crate::http::ApiError;
use shared::app::App;
use shared::sessions::{find_merchant_session, MerchantSession, COOKIE_NAME};
use shared::settings::Environment;
use warp::http::StatusCode;
use warp::{Filter, Rejection};

pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in merchant, or 401.
pub fn merchant(app: App) -> impl Filter<Extract = (MerchantSession,), Error = Rejection> + Clone {
    warp::cookie::optional::<String>(COOKIE_NAME).and_then(move |cookie: Option<String>| {
        let app = app.clone();
        async move {
            let unauthorized = || {
                warp::reject::custom(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Please sign in to continue.",
                ))
            };
            let token = cookie.ok_or_else(unauthorized)?;
            match find_merchant_session(&app.db, &token).await {
                Ok(Some(session)) => Ok(session),
                Ok(None) => Err(unauthorized()),
                Err(e) => {
                    tracing::error!(error = %e, "session lookup failed");
                    Err(warp::reject::custom(ApiError::internal(
                        "We could not check your sign-in. Please try again.",
                    )))
                }
            }
        }
    })
}

/// The signed-in merchant, for a request that changes something: the `X-CSRF-Token` header
/// must carry the token `GET /api/v1/me` handed out for this session.
pub fn merchant_write(
    app: App,
) -> impl Filter<Extract = (MerchantSession,), Error = Rejection> + Clone {
    let keys = app.keys.clone();
    merchant(app)
        .and(warp::header::optional::<String>(CSRF_HEADER))
        .and_then(move |session: MerchantSession, csrf: Option<String>| {
            let keys = keys.clone();
            async move {
                if session.csrf_matches(&keys, csrf.as_deref()) {
                    Ok(session)
                } else {
                    Err(warp::reject::custom(csrf_refused(csrf.is_some())))
                }
            }
        })
}

/// The answer to a write without the session's `X-CSRF-Token` (merchant and admin alike):
/// `sent` says whether a token came at all, so the message says "missing" or "wrong".
pub fn csrf_refused(sent: bool) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        if sent {
            "This request's security token is wrong (it belongs to another or an earlier sign-in). Reload the page and try again."
        } else {
            "This request is missing its security token. Reload the page and try again."
        },
    )
}

pub fn session_cookie(app: &App, token: &str, max_age_secs: i64) -> String {
    let secure = if app.settings.environment == Environment::Local {
        ""
    } else {
        "; Secure"
    };
    format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

pub fn clear_session_cookie(app: &App) -> String {
    session_cookie(app, "", 0)
}
