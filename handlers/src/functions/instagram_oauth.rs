//! `instagram-oauth` (HTTP, forwarded: `/api/instagram/oauth/start` and `/callback`):
//! "Continue with Instagram". Success lands in the SPA signed in (onboarding for a new shop);
//! every failure lands on the SPA's sign-in page with a code saying what happened.

use super::api::session_cookie;
use shared::app::App;
use shared::instagram::oauth::{authorize_url, callback, CallbackParams, SignInError};
use warp::filters::BoxedFilter;
use warp::http::{header, StatusCode};
use warp::{Filter, Reply};

fn redirect(to: &str, cookie: Option<String>) -> warp::reply::Response {
    let mut response = warp::reply::with_status(warp::reply(), StatusCode::FOUND).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(to) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if let Some(c) = cookie.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, c);
    }
    response
}

fn to_sign_in_page(app: &App, e: &SignInError) -> warp::reply::Response {
    if let SignInError::Database(db) = e {
        tracing::error!(error = %db, "sign-in failed");
    } else {
        tracing::warn!(reason = %e, "sign-in did not complete");
    }
    let mut url = url::Url::parse(&format!("{}/signin", app.settings.public_base_url))
        .expect("PUBLIC_BASE_URL was checked at start");
    // Only our code: the page says it in the merchant's language, and no text from
    // Instagram (or anyone who crafted the callback) is carried into it.
    url.query_pairs_mut().append_pair("error", e.code());
    redirect(url.as_str(), None)
}

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let start = warp::path!("api" / "instagram" / "oauth" / "start")
        .and(warp::get())
        .then(move || {
            let app = a.clone();
            async move {
                match authorize_url(&app).await {
                    Ok(url) => redirect(&url, None),
                    Err(e) => to_sign_in_page(&app, &e),
                }
            }
        });
    let a = app;
    let finish = warp::path!("api" / "instagram" / "oauth" / "callback")
        .and(warp::get())
        .and(
            warp::query::<CallbackParams>()
                .or(warp::any().map(CallbackParams::default))
                .unify(),
        )
        .then(move |params: CallbackParams| {
            let app = a.clone();
            async move {
                match callback(&app, &params).await {
                    Ok(signed_in) => {
                        let to = if signed_in.new_shop {
                            "/onboarding"
                        } else {
                            "/"
                        };
                        let max_age =
                            (signed_in.session.expires_at - chrono::Utc::now()).num_seconds();
                        redirect(
                            &format!("{}{to}", app.settings.public_base_url),
                            Some(session_cookie(&app, &signed_in.session.token, max_age)),
                        )
                    }
                    Err(e) => to_sign_in_page(&app, &e),
                }
            }
        });
    start.or(finish).unify().boxed()
}
